//! The container keys of task-definition files that need more than registering:
//! `environmentFiles`, `repositoryCredentials` and `credentialSpecs` (read by ECS with the
//! task's execution role), FireLens (`firelensConfiguration`, and the `awsfirelens` log driver of the
//! containers that route through it) and `containerPortRange`. Read and checked here as
//! RegisterTaskDefinition checks them for Fargate; what the execution role must read is
//! gathered by [`NativeTaskDef::execution_reads`].

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::fargate::one_of;
use super::{NativeContainer, NativeSecret, NativeTaskDef};

/// At most this many `environmentFiles` per container (ECS API `EnvironmentFile`).
pub const MAX_ENVIRONMENT_FILES: usize = 10;
/// At most this many `credentialSpecs` per container (ECS API
/// `ContainerDefinition.credentialSpecs`: "The maximum number of ARNs is 1").
pub const MAX_CREDENTIAL_SPECS: usize = 1;
/// The prefix of a domainless gMSA CredSpec, the only kind Fargate takes.
pub const DOMAINLESS: &str = "credentialspecdomainless:";
/// At most this many port ranges per container (ECS API `PortMapping.containerPortRange`).
pub const MAX_PORT_RANGES: usize = 100;

/// One of a container's `environmentFiles`: an S3 object ARN of a `.env` file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NativeEnvironmentFile {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// `repositoryCredentials`: the Secrets Manager secret (ARN, or name in the task's region)
/// holding the private registry's user name and password.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeRepositoryCredentials {
    pub credentials_parameter: String,
}

/// `firelensConfiguration`: the container is the task's FireLens log router.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NativeFirelens {
    /// `fluentbit` or `fluentd`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// A container's `logConfiguration` with the `awsfirelens` driver, as the file gives it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FirelensLog {
    pub options: BTreeMap<String, String>,
    pub secret_options: Vec<NativeSecret>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FirelensLogJson {
    #[serde(default)]
    options: BTreeMap<String, String>,
    #[serde(default)]
    secret_options: Vec<NativeSecret>,
}

/// What the task's execution role must read for the keys of one file: the secrets behind
/// `secrets`, `repositoryCredentials` and `secretOptions`, the `environmentFiles` objects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionReads {
    /// Secrets Manager secrets: ARNs (without a JSON key or version suffix), or the names
    /// `repositoryCredentials` may give (resolved to ARNs at `up`).
    pub secrets: BTreeSet<String>,
    /// SSM parameter ARNs.
    pub parameters: BTreeSet<String>,
    /// `valueFrom`s given by name (SSM parameters of the task's region: ECS takes Secrets
    /// Manager secrets only by ARN there): no grant can name them without the account, so
    /// none is made.
    pub unscoped: BTreeSet<String>,
    /// S3 object ARNs of environment files.
    pub objects: BTreeSet<String>,
    /// The ARNs of their buckets (`arn:aws:s3:::bucket`).
    pub buckets: BTreeSet<String>,
    /// The CredSpec files of `credentialSpecs`: S3 object or SSM parameter ARNs (without
    /// the `credentialspecdomainless:` prefix). The domain user's secret the CredSpec names
    /// is not among them: it is inside the file.
    pub credential_specs: BTreeSet<String>,
}

impl ExecutionReads {
    /// Adds what `other` reads.
    pub fn extend(&mut self, other: ExecutionReads) {
        self.secrets.extend(other.secrets);
        self.parameters.extend(other.parameters);
        self.unscoped.extend(other.unscoped);
        self.objects.extend(other.objects);
        self.buckets.extend(other.buckets);
        self.credential_specs.extend(other.credential_specs);
    }

    /// A secret or parameter a `valueFrom` names.
    fn value_from(&mut self, v: &str) {
        match arn_service(v) {
            Some("secretsmanager") => {
                // `arn:aws:secretsmanager:region:account:secret:name[:json-key:stage:version]`
                let secret: Vec<&str> = v.splitn(8, ':').take(7).collect();
                let arn = secret.join(":");
                // A partial ARN (without the `-` and six characters Secrets Manager adds):
                // IAM matches the secret's full ARN only with that suffix as a wildcard.
                // A name that itself ends like the suffix (`db-config` is `db`, `-config`)
                // may be either: both are granted, or IAM could refuse the real secret.
                if secret.len() == 7 {
                    if random_suffix(secret[6]) {
                        self.secrets.insert(arn.clone());
                    }
                    self.secrets.insert(format!("{arn}-??????"));
                } else {
                    self.secrets.insert(arn);
                }
            }
            Some("ssm") => {
                self.parameters.insert(v.to_string());
            }
            Some(_) => {}
            None => {
                self.unscoped.insert(v.to_string());
            }
        }
    }
}

/// Ends like a secret's full ARN: `-` and six letters or digits.
fn random_suffix(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 7 && b[b.len() - 7] == b'-' && b[b.len() - 6..].iter().all(u8::is_ascii_alphanumeric)
}

/// The service of an ARN (`arn:<partition>:<service>:...`), `None` for anything else.
fn arn_service(v: &str) -> Option<&str> {
    let mut parts = v.split(':');
    (parts.next()? == "arn").then_some(())?;
    parts.next()?;
    parts.next()
}

/// The partition and bucket of an S3 object ARN (`arn:aws:s3:::bucket/key`).
pub fn s3_object(value: &str) -> Option<(&str, &str)> {
    let rest = value.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let path = rest.strip_prefix("s3:::")?;
    let (bucket, key) = path.split_once('/')?;
    (!partition.is_empty() && !bucket.is_empty() && !key.is_empty()).then_some((partition, bucket))
}

impl NativeContainer {
    /// The container's `logConfiguration` when its driver is `awsfirelens` (registered as
    /// written); `Err` when such a configuration has options of the wrong type.
    pub fn firelens_log(&self) -> Option<Result<FirelensLog, String>> {
        let l = self.log_configuration.as_ref()?;
        if l.get("logDriver").and_then(|d| d.as_str()) != Some("awsfirelens") {
            return None;
        }
        Some(
            serde_json::from_value::<FirelensLogJson>(l.clone())
                .map(|j| FirelensLog {
                    options: j.options,
                    secret_options: j.secret_options,
                })
                .map_err(|e| e.to_string()),
        )
    }
}

impl NativeTaskDef {
    /// What the execution role must read for this file's containers.
    pub fn execution_reads(&self) -> ExecutionReads {
        let mut out = ExecutionReads::default();
        for c in &self.container_definitions {
            for s in &c.secrets {
                out.value_from(&s.value_from);
            }
            if let Some(Ok(l)) = c.firelens_log() {
                for s in &l.secret_options {
                    out.value_from(&s.value_from);
                }
            }
            if let Some(r) = &c.repository_credentials {
                let p = &r.credentials_parameter;
                if arn_service(p).is_none() {
                    out.secrets.insert(p.clone());
                } else {
                    out.value_from(p);
                }
            }
            for f in &c.environment_files {
                if let Some((partition, bucket)) = s3_object(&f.value) {
                    out.objects.insert(f.value.clone());
                    out.buckets.insert(format!("arn:{partition}:s3:::{bucket}"));
                }
            }
            for spec in &c.credential_specs {
                if let Some(arn) = spec
                    .strip_prefix(DOMAINLESS)
                    .filter(|a| s3_object(a).is_some() || ssm_parameter(a))
                {
                    out.credential_specs.insert(arn.to_string());
                }
            }
        }
        out
    }

    /// The container that is the task's FireLens log router, if any.
    pub fn log_router(&self) -> Option<&NativeContainer> {
        self.container_definitions
            .iter()
            .find(|c| c.firelens_configuration.is_some())
    }
}

/// Checks the keys of this module as RegisterTaskDefinition checks them for Fargate, and
/// says what FireLens routing means for the service.
pub fn check(def: &NativeTaskDef, errors: &mut Vec<String>, warnings: &mut Vec<String>) {
    let router = def.log_router();
    let mut routed = Vec::new();
    for (i, c) in def.container_definitions.iter().enumerate() {
        let at = format!("containerDefinitions[{i}]");
        environment_files(&at, c, errors);
        credential_specs(&at, c, errors);
        if let Some(r) = &c.repository_credentials {
            let p = &r.credentials_parameter;
            if p.is_empty() {
                errors.push(format!(
                    "`{at}.repositoryCredentials.credentialsParameter` is empty"
                ));
            } else if arn_service(p).is_some() && arn_service(p) != Some("secretsmanager") {
                errors.push(format!(
                    "`{at}.repositoryCredentials.credentialsParameter` is not a Secrets Manager \
                     secret: ECS takes the ARN or the name of the secret holding the registry's \
                     credentials"
                ));
            }
        }
        if let Some(f) = &c.firelens_configuration {
            firelens(&at, c, f, errors, warnings);
        }
        match c.firelens_log() {
            None => {}
            Some(Err(e)) => errors.push(format!("`{at}.logConfiguration`: {e}")),
            Some(Ok(l)) => {
                if router.is_none() {
                    errors.push(format!(
                        "`{at}.logConfiguration.logDriver` is `awsfirelens`, but no container \
                         of this task has a `firelensConfiguration` (RegisterTaskDefinition \
                         refuses the awsfirelens driver without a log router in the task)"
                    ));
                }
                for (j, s) in l.secret_options.iter().enumerate() {
                    if s.name.is_empty() || s.value_from.is_empty() {
                        errors.push(format!(
                            "`{at}.logConfiguration.secretOptions[{j}]` needs a `name` and a \
                             `valueFrom`"
                        ));
                    }
                }
                routed.push(c.name.as_str());
            }
        }
        port_ranges(&at, c, errors);
    }
    if let (Some(r), false) = (router, routed.is_empty()) {
        warnings.push(format!(
            "the logs of {} go through the FireLens log router `{}` as the file's \
             `awsfirelens` logConfiguration says (registered as written; `ecsdeploy logs` does \
             not show them): what the destination needs (e.g. firehose:PutRecordBatch, or \
             logs:PutLogEvents on another log group) belongs in the service's task role \
             (`task_policy`)",
            routed
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            r.name
        ));
    }
}

/// `environmentFiles`: at most 10, of type `s3`, each an S3 object ARN of a `.env` file
/// (ECS API `EnvironmentFile`).
fn environment_files(at: &str, c: &NativeContainer, errors: &mut Vec<String>) {
    if c.environment_files.len() > MAX_ENVIRONMENT_FILES {
        errors.push(format!(
            "`{at}.environmentFiles` lists {} files; ECS takes at most {MAX_ENVIRONMENT_FILES} \
             per container",
            c.environment_files.len()
        ));
    }
    for (j, f) in c.environment_files.iter().enumerate() {
        let path = format!("{at}.environmentFiles[{j}].type");
        one_of(&path, Some(&f.kind), &["s3"], "only `s3`", errors);
        if s3_object(&f.value).is_none() {
            errors.push(format!(
                "`{at}.environmentFiles[{j}].value` is not an S3 object ARN \
                 (`arn:aws:s3:::<bucket>/<key>.env`)"
            ));
        } else if !f.value.ends_with(".env") {
            errors.push(format!(
                "`{at}.environmentFiles[{j}].value`: the file must have the `.env` extension"
            ));
        }
    }
}

/// An SSM parameter ARN: `arn:<partition>:ssm:<region>:<account>:parameter/<name>`.
fn ssm_parameter(v: &str) -> bool {
    let p: Vec<&str> = v.splitn(6, ':').collect();
    p.len() == 6
        && p[0] == "arn"
        && !p[1].is_empty()
        && p[2] == "ssm"
        && !p[3].is_empty()
        && !p[4].is_empty()
        && p[5]
            .strip_prefix("parameter/")
            .is_some_and(|n| !n.is_empty())
}

/// `credentialSpecs` on Fargate (ECS API `ContainerDefinition.credentialSpecs`; ECS
/// developer guide, "Using gMSA for Linux containers on Fargate"): at most one, domainless
/// gMSA only (`credentialspecdomainless:`), the CredSpec an S3 object or SSM parameter.
fn credential_specs(at: &str, c: &NativeContainer, errors: &mut Vec<String>) {
    if c.credential_specs.len() > MAX_CREDENTIAL_SPECS {
        errors.push(format!(
            "`{at}.credentialSpecs` lists {} CredSpecs; ECS takes at most \
             {MAX_CREDENTIAL_SPECS} per container",
            c.credential_specs.len()
        ));
    }
    for (j, spec) in c.credential_specs.iter().enumerate() {
        let at = format!("{at}.credentialSpecs[{j}]");
        let Some(arn) = spec.strip_prefix(DOMAINLESS) else {
            errors.push(if spec.starts_with("credentialspec:") {
                format!(
                    "`{at}`: `credentialspec:` is domain-joined gMSA, which needs a container \
                     instance joined to the domain; Linux tasks on Fargate must use domainless \
                     gMSA (`{DOMAINLESS}<ARN>`, with the domain user's secret named in the \
                     CredSpec)"
                )
            } else {
                format!(
                    "`{at}` is `{spec}`; ECS takes `{DOMAINLESS}<ARN>` (or `credentialspec:\
                     <ARN>`, which Fargate does not support)"
                )
            });
            continue;
        };
        if s3_object(arn).is_none() && !ssm_parameter(arn) {
            errors.push(format!(
                "`{at}`: `{arn}` is not the ARN of an S3 object \
                 (`arn:aws:s3:::<bucket>/<key>`) or of an SSM parameter \
                 (`arn:aws:ssm:<region>:<account>:parameter/<name>`), where Fargate reads the \
                 CredSpec from"
            ));
        }
    }
}

/// `firelensConfiguration` (ECS API `FirelensConfiguration`): `fluentbit` or `fluentd`;
/// on Fargate a custom configuration file only of type `file` (one in the image).
fn firelens(
    at: &str,
    c: &NativeContainer,
    f: &NativeFirelens,
    errors: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    one_of(
        &format!("{at}.firelensConfiguration.type"),
        Some(&f.kind),
        &["fluentbit", "fluentd"],
        "`fluentbit` or `fluentd`",
        errors,
    );
    if let Some(t) = f
        .options
        .get("config-file-type")
        .filter(|t| t.as_str() != "file")
    {
        errors.push(format!(
            "`{at}.firelensConfiguration.options.config-file-type` is `{t}`; tasks on Fargate \
             take only `file` (a configuration file in the log router's image)"
        ));
    }
    if c.essential == Some(false) {
        warnings.push(format!(
            "`{at}` is the FireLens log router and not essential: AWS recommends marking it \
             essential, or the task runs on without shipping logs when it stops"
        ));
    }
}

/// `portMappings` with `containerPortRange` (ECS API `PortMapping`): `first-last` within 1 to
/// 65535, first below last, no `hostPort` (with awsvpc the host range is the container range),
/// at most 100 ranges, no port in two mappings of a container: not a range's, and not a
/// single port's either (`53/tcp` and `53/udp`).
fn port_ranges(at: &str, c: &NativeContainer, errors: &mut Vec<String>) {
    let mut spans: Vec<(u32, u32, usize)> = Vec::new();
    let mut ranges = 0;
    for (j, p) in c.port_mappings.iter().enumerate() {
        let at = format!("{at}.portMappings[{j}]");
        let Some(r) = &p.container_port_range else {
            match p.container_port {
                Some(port) => spans.push((u32::from(port), u32::from(port), j)),
                None => errors.push(format!(
                    "`{at}` needs `containerPort` (or `containerPortRange`)"
                )),
            }
            continue;
        };
        ranges += 1;
        if p.container_port.is_some() {
            errors.push(format!(
                "`{at}`: give `containerPort` or `containerPortRange`, not both"
            ));
        }
        if p.host_port.is_some() {
            errors.push(format!(
                "`{at}.hostPort` cannot be given with `containerPortRange`: with awsvpc the host \
                 port range is the container port range"
            ));
        }
        match parse_range(r) {
            Some((lo, hi)) => spans.push((lo, hi, j)),
            None => errors.push(format!(
                "`{at}.containerPortRange` is `{r}`; ECS takes `<first>-<last>`, ports 1 to \
                 65535, the first below the last"
            )),
        }
    }
    if ranges > MAX_PORT_RANGES {
        errors.push(format!(
            "`{at}.portMappings` has {ranges} port ranges; ECS takes at most {MAX_PORT_RANGES} \
             per container"
        ));
    }
    spans.sort();
    for w in spans.windows(2) {
        let ((_, hi, a), (lo, _, b)) = (w[0], w[1]);
        let single = |k: usize| c.port_mappings[k].container_port_range.is_none();
        if lo > hi {
            continue;
        }
        if single(a) && single(b) {
            // ecsdeploy registers a container port with one protocol, name and app protocol
            // (`ContainerSpec` keys them by container port), so `80/tcp` beside `80/udp`
            // would register `80/udp` twice and lose the TCP port. ECS registers such a pair
            // (tests/fixtures/task-definitions/describe-frozen-desserts.json was described
            // so), though CreateService has refused it: "Container port 53 is used in more
            // than one port mapping for container" (aws/amazon-ecs-agent#3428,
            // terraform-aws-modules/terraform-aws-ecs#89). Refused here until the task
            // definition keys mappings by port and protocol.
            errors.push(format!(
                "`{at}.portMappings[{}]` maps container port {lo} again (also \
                 `portMappings[{}]`): ecsdeploy registers a container port in one port mapping \
                 of a container, with one protocol",
                a.max(b),
                a.min(b)
            ));
        } else {
            errors.push(format!(
                "`{at}.portMappings[{}]` overlaps `portMappings[{}]`: a port can be in only one \
                 port mapping of a container",
                a.max(b),
                a.min(b)
            ));
        }
    }
}

/// `"8000-8010"` → (8000, 8010).
pub(super) fn parse_range(r: &str) -> Option<(u32, u32)> {
    let (lo, hi) = r.split_once('-')?;
    let (lo, hi): (u32, u32) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
    (1 <= lo && lo < hi && hi <= 65535).then_some((lo, hi))
}

/// What an existing execution role (`iam.execution_role`, not ecsdeploy's) must allow for
/// the files' keys, in words; empty when nothing.
pub fn existing_role_needs(reads: &ExecutionReads) -> Vec<String> {
    let list = |s: &BTreeSet<String>| {
        s.iter()
            .map(|x| format!("`{x}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = Vec::new();
    if !reads.secrets.is_empty() {
        out.push(format!(
            "secretsmanager:GetSecretValue on {}",
            list(&reads.secrets)
        ));
    }
    // A `valueFrom` given by name is an SSM parameter of the task's region.
    let parameters: BTreeSet<String> = reads.parameters.union(&reads.unscoped).cloned().collect();
    if !parameters.is_empty() {
        out.push(format!("ssm:GetParameters on {}", list(&parameters)));
    }
    if !reads.objects.is_empty() {
        out.push(format!(
            "s3:GetObject on {} and s3:GetBucketLocation on {}",
            list(&reads.objects),
            list(&reads.buckets)
        ));
    }
    out.extend(credential_spec_needs(&reads.credential_specs));
    out
}

/// What the execution role must allow for gMSA CredSpecs: reading each CredSpec (an S3
/// object: `s3:GetObject`, and `s3:GetObjectVersion` on it and `s3:ListBucket` on its bucket
/// as the ECS developer guide's Fargate gMSA page asks; an SSM parameter:
/// `ssm:GetParameters`), and the domain user's secret the CredSpec names.
pub fn credential_spec_needs(specs: &BTreeSet<String>) -> Vec<String> {
    if specs.is_empty() {
        return vec![];
    }
    let mut out = Vec::new();
    for arn in specs {
        match s3_object(arn) {
            Some((partition, bucket)) => out.push(format!(
                "s3:GetObject and s3:GetObjectVersion on the CredSpec `{arn}` and s3:ListBucket \
                 on `arn:{partition}:s3:::{bucket}`"
            )),
            None => out.push(format!("ssm:GetParameters on the CredSpec `{arn}`")),
        }
    }
    out.push(
        "secretsmanager:GetSecretValue on the domain user's secret each CredSpec names in \
         `HostAccountConfig.PluginInput.CredentialArn` (ssm:GetParameters if that is an SSM \
         parameter)"
            .to_string(),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::super::tests::assert_errors;
    use super::*;

    const FILE: &str = r#"{
      "networkMode": "awsvpc",
      "containerDefinitions": [
        {"name": "router", "image": "fluent-bit", "essential": true,
         "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true", "config-file-type": "file", "config-file-value": "/extra.conf"}}},
        {"name": "app", "image": "registry.example.com/app:1",
         "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf"},
         "environmentFiles": [{"value": "arn:aws:s3:::cfg-bucket/prod/app.env", "type": "s3"}],
         "credentialSpecs": ["credentialspecdomainless:arn:aws:s3:::gmsa-bucket/specs/app.json"],
         "secrets": [{"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZ123:password::"},
                     {"name": "P", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/app/p"},
                     {"name": "Q", "valueFrom": "plain-name"},
                     {"name": "R", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/partial:key::"}],
         "portMappings": [{"containerPort": 80}, {"containerPortRange": "8000-8010", "protocol": "udp"}],
         "logConfiguration": {"logDriver": "awsfirelens", "options": {"Name": "firehose", "delivery_stream": "s"},
                              "secretOptions": [{"name": "apikey", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-QwErTy"}]}}
      ]
    }"#;

    #[test]
    fn a_file_with_the_keys_is_read_and_its_reads_gathered() {
        let p = parse(FILE);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let d = p.def.unwrap();
        let app = &d.container_definitions[1];
        assert_eq!(app.environment_files[0].kind, "s3");
        let log = app.firelens_log().unwrap().unwrap();
        assert_eq!(log.options["delivery_stream"], "s");
        assert_eq!(log.secret_options[0].name, "apikey");
        assert_eq!(
            app.port_mappings[1].container_port_range.as_deref(),
            Some("8000-8010")
        );
        let r = d.execution_reads();
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            r.secrets,
            set(&[
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZ123",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZ123-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-QwErTy",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:dd-QwErTy-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/partial-??????",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf",
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf-??????",
            ])
        );
        assert_eq!(
            r.parameters,
            set(&["arn:aws:ssm:us-east-1:123456789012:parameter/app/p"])
        );
        assert_eq!(r.unscoped, set(&["plain-name"]));
        assert_eq!(r.objects, set(&["arn:aws:s3:::cfg-bucket/prod/app.env"]));
        assert_eq!(r.buckets, set(&["arn:aws:s3:::cfg-bucket"]));
        // The CredSpec is read apart from environment files (other actions).
        assert_eq!(
            r.credential_specs,
            set(&["arn:aws:s3:::gmsa-bucket/specs/app.json"])
        );
        let w = p.warnings.join("\n");
        assert!(w.contains("FireLens log router `router`"), "{w}");
        assert!(w.contains("`task_policy`"), "{w}");
        // Only the router's own logConfiguration would be replaced: none is given.
        assert!(!w.contains("is replaced"), "{w}");
        let p = parse(&FILE.replace(
            "\"essential\": true,\n         \"firelensConfiguration\"",
            "\"essential\": false,\n         \"firelensConfiguration\"",
        ));
        let w = p.warnings.join("\n");
        assert!(
            w.contains("`containerDefinitions[0]` is the FireLens log router and not essential"),
            "{w}"
        );
    }

    #[test]
    fn what_ecs_refuses_is_named() {
        let bad = FILE
            .replace("\"type\": \"fluentbit\"", "\"type\": \"logstash\"")
            .replace(
                "\"config-file-type\": \"file\"",
                "\"config-file-type\": \"s3\"",
            )
            .replace("prod/app.env", "prod/app.txt")
            .replace("\"type\": \"s3\"", "\"type\": \"local\"")
            .replace("\"8000-8010\"", "\"8010-8000\"")
            .replace(
                "{\"containerPort\": 80}",
                "{\"containerPort\": 80}, {\"containerPortRange\": \"70-90\", \"hostPort\": 70}",
            );
        assert_errors(
            &parse(&bad).errors,
            &[
                "`containerDefinitions[0].firelensConfiguration.type` is `logstash`",
                "`containerDefinitions[0].firelensConfiguration.options.config-file-type` is `s3`",
                "`containerDefinitions[1].environmentFiles[0].type` is `local`",
                "`containerDefinitions[1].environmentFiles[0].value`: the file must have the `.env` extension",
                "`containerDefinitions[1].portMappings[2].containerPortRange` is `8010-8000`",
                "`containerDefinitions[1].portMappings[1].hostPort` cannot be given",
                "`containerDefinitions[1].portMappings[1]` overlaps `portMappings[0]`",
            ],
        );
    }

    #[test]
    fn awsfirelens_needs_a_log_router_and_limits_hold() {
        let files: Vec<String> = (0..11)
            .map(|i| format!("{{\"value\": \"arn:aws:s3:::b/{i}.env\", \"type\": \"s3\"}}"))
            .collect();
        let text = FILE
            .replace("\"firelensConfiguration\"", "\"dockerLabels\"")
            .replace(
                "{\"type\": \"fluentbit\", \"options\": {\"enable-ecs-log-metadata\": \"true\", \"config-file-type\": \"file\", \"config-file-value\": \"/extra.conf\"}}",
                "{\"a\": \"b\"}",
            )
            .replace(
                "[{\"value\": \"arn:aws:s3:::cfg-bucket/prod/app.env\", \"type\": \"s3\"}]",
                &format!("[{}]", files.join(",")),
            )
            .replace(
                "\"arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf\"",
                "\"arn:aws:ssm:us-east-1:1:parameter/creds\"",
            );
        assert_errors(
            &parse(&text).errors,
            &[
                "`containerDefinitions[1].logConfiguration.logDriver` is `awsfirelens`, but no container",
                "`containerDefinitions[1].environmentFiles` lists 11 files; ECS takes at most 10",
                "`containerDefinitions[1].repositoryCredentials.credentialsParameter` is not a Secrets Manager secret",
            ],
        );
    }

    #[test]
    fn an_existing_role_is_told_what_to_allow() {
        let d = parse(FILE).def.unwrap();
        let needs = existing_role_needs(&d.execution_reads()).join("; ");
        assert!(
            needs.contains("s3:GetObject on `arn:aws:s3:::cfg-bucket/prod/app.env` and s3:GetBucketLocation on `arn:aws:s3:::cfg-bucket`"),
            "{needs}"
        );
        assert!(needs.contains("secretsmanager:GetSecretValue on `arn:aws:secretsmanager:us-east-1:123456789012:secret:db-XyZ123`"), "{needs}");
        assert!(
            needs.contains("ssm:GetParameters on `arn:aws:ssm:"),
            "{needs}"
        );
        assert!(
            needs.contains(
                "s3:GetObject and s3:GetObjectVersion on the CredSpec \
                 `arn:aws:s3:::gmsa-bucket/specs/app.json` and s3:ListBucket on \
                 `arn:aws:s3:::gmsa-bucket`"
            ),
            "{needs}"
        );
        assert!(
            needs.contains("secretsmanager:GetSecretValue on the domain user's secret"),
            "{needs}"
        );
    }

    /// `credentialSpecs` as Fargate takes them: one domainless CredSpec per container, in S3
    /// or SSM; a domain-joined one, a local file or a second one is refused with AWS's reason.
    #[test]
    fn credential_specs_are_domainless_s3_or_ssm_and_one_per_container() {
        let ssm = "credentialspecdomainless:arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/app";
        let text = FILE.replace(
            "credentialspecdomainless:arn:aws:s3:::gmsa-bucket/specs/app.json",
            ssm,
        );
        let p = parse(&text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let d = p.def.unwrap();
        assert_eq!(d.container_definitions[1].credential_specs, [ssm]);
        let reads = d.execution_reads();
        assert_eq!(
            reads.credential_specs.iter().collect::<Vec<_>>(),
            ["arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/app"]
        );
        // Not among the parameters `secrets` name: only the warning lists it.
        assert!(reads.parameters.iter().all(|p| !p.contains("gmsa")));
        let needs = existing_role_needs(&reads).join("; ");
        assert!(
            needs.contains(
                "ssm:GetParameters on the CredSpec \
                 `arn:aws:ssm:us-east-1:123456789012:parameter/gmsa/app`"
            ),
            "{needs}"
        );

        for (spec, want) in [
            (
                "credentialspec:arn:aws:s3:::gmsa-bucket/specs/app.json",
                "`containerDefinitions[1].credentialSpecs[0]`: `credentialspec:` is \
                 domain-joined gMSA",
            ),
            (
                "credentialspecdomainless:file://webapp.json",
                "`containerDefinitions[1].credentialSpecs[0]`: `file://webapp.json` is not the \
                 ARN of an S3 object",
            ),
            (
                "credentialspecdomainless:arn:aws:s3:::gmsa-bucket",
                "is not the ARN of an S3 object",
            ),
            (
                "credentialspecdomainless:arn:aws:secretsmanager:us-east-1:1:secret:x",
                "is not the ARN of an S3 object",
            ),
            (
                "arn:aws:s3:::gmsa-bucket/specs/app.json",
                "`containerDefinitions[1].credentialSpecs[0]` is \
                 `arn:aws:s3:::gmsa-bucket/specs/app.json`; ECS takes \
                 `credentialspecdomainless:<ARN>`",
            ),
            (
                "credentialspecdomainless:arn:aws:s3:::a/one.json\", \"credentialspecdomainless:arn:aws:s3:::a/two.json",
                "`containerDefinitions[1].credentialSpecs` lists 2 CredSpecs; ECS takes at most \
                 1 per container",
            ),
        ] {
            let p = parse(&FILE.replace(
                "credentialspecdomainless:arn:aws:s3:::gmsa-bucket/specs/app.json",
                spec,
            ));
            assert_eq!(p.errors.len(), 1, "{spec}: {:?}", p.errors);
            assert!(p.errors[0].contains(want), "{want}: {:?}", p.errors);
        }
    }
}
