//! Native ECS task-definition files: the JSON of `aws ecs register-task-definition
//! --cli-input-json` (what ecspresso and the GitHub deploy actions use), read in place of a
//! service's container keys.
//!
//! ecsdeploy owns `family`, `networkMode`, `requiresCompatibilities`, `executionRoleArn`,
//! `taskRoleArn`, each container's `logConfiguration` and the tags: those are filled in (a
//! value in the file is replaced, with a warning). Everything else it reads, registers and
//! diffs. A key it cannot register faithfully is an error naming the key, never dropped.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::native_keys::{
    existing_role_needs, ExecutionReads, FirelensLog, NativeEnvironmentFile, NativeFirelens,
    NativeRepositoryCredentials,
};

/// The task-level keys.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeTaskDef {
    #[serde(default)]
    pub family: Option<String>,
    /// Task CPU units; ECS writes them as strings (`"256"`), numbers are accepted.
    #[serde(default)]
    pub cpu: Option<Units>,
    #[serde(default)]
    pub memory: Option<Units>,
    #[serde(default)]
    pub runtime_platform: Option<RuntimePlatform>,
    pub container_definitions: Vec<NativeContainer>,
    #[serde(default)]
    pub network_mode: Option<String>,
    #[serde(default)]
    pub requires_compatibilities: Option<Vec<String>>,
    #[serde(default)]
    pub execution_role_arn: Option<String>,
    #[serde(default)]
    pub task_role_arn: Option<String>,
    #[serde(default)]
    pub tags: Option<serde_json::Value>,
    /// Task storage beyond Fargate's 20 GiB: `{ "sizeInGiB": 21..=200 }`.
    #[serde(default)]
    pub ephemeral_storage: Option<EphemeralStorage>,
    /// Allow AWS Fault Injection Service actions on the tasks.
    #[serde(default)]
    pub enable_fault_injection: Option<bool>,
    /// `task`: the containers of a task share a process namespace (Fargate takes no other).
    #[serde(default)]
    pub pid_mode: Option<String>,
    /// Bind-mount (task storage) and EFS volumes.
    #[serde(default)]
    pub volumes: Vec<NativeVolume>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct EphemeralStorage {
    #[serde(rename = "sizeInGiB")]
    pub size_in_gib: u32,
}

/// A task volume: a bind mount on the task's storage (name only) or an EFS file system.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeVolume {
    pub name: String,
    #[serde(default)]
    pub efs_volume_configuration: Option<NativeEfs>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeEfs {
    pub file_system_id: String,
    #[serde(default)]
    pub root_directory: Option<String>,
    /// `ENABLED` or `DISABLED` (the default).
    #[serde(default)]
    pub transit_encryption: Option<String>,
    #[serde(default)]
    pub transit_encryption_port: Option<u32>,
    #[serde(default)]
    pub authorization_config: Option<NativeEfsAuth>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeEfsAuth {
    #[serde(default)]
    pub access_point_id: Option<String>,
    /// `ENABLED` or `DISABLED` (the default).
    #[serde(default)]
    pub iam: Option<String>,
}

/// `"256"` or `256`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Units {
    Text(String),
    Number(u32),
}

impl Units {
    /// CPU units or MiB. RegisterTaskDefinition also takes `"1 vCPU"` / `".25 vcpu"` for
    /// cpu and `"2 GB"` / `".5 gb"` for memory (1 vCPU = 1024 units, 1 GB = 1024 MiB).
    pub fn value(&self) -> Option<u32> {
        match self {
            Units::Number(n) => Some(*n),
            Units::Text(s) => {
                let t = s.trim().to_ascii_lowercase();
                if let Ok(n) = t.parse() {
                    return Some(n);
                }
                let scaled = t
                    .strip_suffix("vcpu")
                    .or_else(|| t.strip_suffix("gb"))?
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)?;
                let v = scaled * 1024.0;
                (v.fract() == 0.0 && v <= f64::from(u32::MAX)).then_some(v as u32)
            }
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct RuntimePlatform {
    #[serde(default)]
    pub cpu_architecture: Option<String>,
    #[serde(default)]
    pub operating_system_family: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeContainer {
    pub name: String,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub essential: Option<bool>,
    #[serde(default)]
    pub cpu: Option<u32>,
    #[serde(default)]
    pub memory: Option<u32>,
    #[serde(default)]
    pub memory_reservation: Option<u32>,
    #[serde(default)]
    pub port_mappings: Vec<NativePort>,
    #[serde(default)]
    pub environment: Vec<NameValue>,
    #[serde(default)]
    pub secrets: Vec<NativeSecret>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub entry_point: Option<Vec<String>>,
    #[serde(default)]
    pub working_directory: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub readonly_root_filesystem: Option<bool>,
    /// Only `false` (the default) on Fargate.
    #[serde(default, skip_serializing)]
    pub privileged: Option<bool>,
    #[serde(default)]
    pub docker_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub health_check: Option<NativeHealthCheck>,
    #[serde(default)]
    pub stop_timeout: Option<u32>,
    #[serde(default)]
    pub start_timeout: Option<u32>,
    #[serde(default)]
    pub ulimits: Vec<NativeUlimit>,
    #[serde(default)]
    pub depends_on: Vec<NativeDependency>,
    /// Owned by ecsdeploy (awslogs to the app's log group) and replaced, but for the
    /// `awsfirelens` driver, registered as written (see [`NativeContainer::firelens_log`]).
    #[serde(default)]
    pub log_configuration: Option<serde_json::Value>,
    /// `.env` files in S3 (the execution role reads them).
    #[serde(default)]
    pub environment_files: Vec<NativeEnvironmentFile>,
    /// Credentials of a private registry, in Secrets Manager (the execution role reads them).
    #[serde(default)]
    pub repository_credentials: Option<NativeRepositoryCredentials>,
    /// The container is the task's FireLens log router.
    #[serde(default)]
    pub firelens_configuration: Option<NativeFirelens>,
    #[serde(default)]
    pub mount_points: Vec<NativeMountPoint>,
    #[serde(default)]
    pub volumes_from: Vec<NativeVolumeFrom>,
    /// On Fargate: `initProcessEnabled` and `capabilities` (adding only `SYS_PTRACE`).
    #[serde(default)]
    pub linux_parameters: Option<NativeLinuxParameters>,
    #[serde(default)]
    pub pseudo_terminal: Option<bool>,
    #[serde(default)]
    pub interactive: Option<bool>,
    /// Restart the container in place when it exits (Fargate platform 1.4).
    #[serde(default)]
    pub restart_policy: Option<NativeRestartPolicy>,
    /// `enabled` (ECS resolves the tag to a digest, the default) or `disabled`.
    #[serde(default)]
    pub version_consistency: Option<String>,
    /// Namespaced kernel parameters (`net.*` on Fargate).
    #[serde(default)]
    pub system_controls: Vec<NameValueSysctl>,
    /// Domainless gMSA for Linux on Fargate: `credentialspecdomainless:<S3 object or SSM
    /// parameter ARN>` of the CredSpec file (the execution role reads it).
    #[serde(default)]
    pub credential_specs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeRestartPolicy {
    pub enabled: bool,
    #[serde(default)]
    pub ignored_exit_codes: Vec<i32>,
    #[serde(default)]
    pub restart_attempt_period: Option<i32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NameValueSysctl {
    pub namespace: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeVolumeFrom {
    pub source_container: String,
    #[serde(default)]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeMountPoint {
    pub source_volume: String,
    pub container_path: String,
    #[serde(default)]
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeLinuxParameters {
    #[serde(default)]
    pub init_process_enabled: Option<bool>,
    #[serde(default)]
    pub capabilities: Option<NativeCapabilities>,
    /// Not on Fargate (refused with AWS's reason): kept to name them in the error.
    #[serde(default, skip_serializing)]
    pub devices: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub shared_memory_size: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub tmpfs: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub max_swap: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    pub swappiness: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NativeCapabilities {
    #[serde(default)]
    pub add: Vec<String>,
    #[serde(default)]
    pub drop: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativePort {
    /// Absent with `containerPortRange`.
    #[serde(default)]
    pub container_port: Option<u16>,
    /// `"8000-8010"`: a range of ports, each its own host port with awsvpc.
    #[serde(default)]
    pub container_port_range: Option<String>,
    /// With awsvpc the host port must equal the container port.
    #[serde(default)]
    pub host_port: Option<u16>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// `http`, `http2` or `grpc` (for Service Connect and load balancer metrics).
    #[serde(default)]
    pub app_protocol: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeSecret {
    pub name: String,
    pub value_from: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeHealthCheck {
    pub command: Vec<String>,
    #[serde(default)]
    pub interval: Option<u32>,
    #[serde(default)]
    pub timeout: Option<u32>,
    #[serde(default)]
    pub retries: Option<u32>,
    #[serde(default)]
    pub start_period: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeUlimit {
    pub name: String,
    pub soft_limit: u32,
    pub hard_limit: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativeDependency {
    pub container_name: String,
    pub condition: String,
}

/// Keys `aws ecs describe-task-definition` adds that RegisterTaskDefinition does not take:
/// a file saved from a describe is read without them (as the GitHub deploy action does).
const READ_ONLY: &[&str] = &[
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
];

/// Keys ecsdeploy fills in itself; a value in the file is replaced.
const OWNED: &[&str] = &[
    "family",
    "networkMode",
    "requiresCompatibilities",
    "executionRoleArn",
    "taskRoleArn",
    "tags",
];

/// A parsed file, and what the reader has to say about it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub def: Option<NativeTaskDef>,
    pub errors: Vec<String>,
    pub warnings: Vec<String>,
}

/// Parse the text of a task-definition JSON file. Errors name the JSON line:column or key
/// path; unsupported keys are errors (registering without them would run something else
/// than the file says).
pub fn parse(text: &str) -> Parsed {
    // Windows tools (PowerShell's Out-File) start the file with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Syntax first, with serde_json's line and column.
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Parsed {
                // serde_json's message ends with "at line L column C".
                errors: vec![e.to_string()],
                ..Default::default()
            };
        }
    };
    let mut out = Parsed::default();
    // The whole answer of `aws ecs describe-task-definition`: the definition is inside.
    let value = match value {
        serde_json::Value::Object(mut m) if is_describe_answer(&m) => {
            out.warnings.push(
                "the task-definition file is a whole describe-task-definition answer: its \
                 `taskDefinition` is read (and its `tags` ignored: ecsdeploy sets them)"
                    .to_string(),
            );
            m.remove("taskDefinition").unwrap_or_default()
        }
        other => other,
    };
    // A null, and an empty list or object, say nothing: read as absent, as AWS does.
    let mut cleaned = without_empty(&value);
    let ec2_ports = if for_ec2(&value).is_some() {
        loose_host_ports(&mut cleaned)
    } else {
        vec![]
    };
    if let Some(m) = cleaned.as_object_mut() {
        let stripped: Vec<&str> = READ_ONLY
            .iter()
            .copied()
            .filter(|k| m.remove(*k).is_some())
            .collect();
        if !stripped.is_empty() {
            out.warnings.push(format!(
                "{} in the task-definition file {} read-only (a file saved from \
                 describe-task-definition): ignored",
                stripped
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if stripped.len() == 1 { "is" } else { "are" }
            ));
        }
    }
    let mut unknown = Vec::new();
    let mut note = |p: serde_ignored::Path| unknown.push(p.to_string());
    let ignoring = serde_ignored::Deserializer::new(cleaned, &mut note);
    let def: NativeTaskDef = match serde_path_to_error::deserialize(ignoring) {
        Ok(d) => d,
        Err(e) => {
            return Parsed {
                errors: vec![format!("`{}`: {}", e.path(), e.inner())],
                ..Default::default()
            };
        }
    };
    for p in unknown {
        out.errors.push(unsupported(&p));
    }
    for k in OWNED {
        if value.get(k).is_some_and(|v| !v.is_null()) {
            out.warnings.push(format!(
                "`{k}` in the task-definition file is ignored: ecsdeploy sets it"
            ));
        }
    }
    if let Some(mut ec2) = for_ec2(&value) {
        if !ec2_ports.is_empty() {
            ec2.push_str(&format!(
                "; hostPort dropped from {} (with awsvpc each containerPort is its own host \
                 port)",
                ec2_ports.join(", ")
            ));
        }
        out.warnings.push(ec2);
    }
    check(&def, &mut out.errors);
    for (i, c) in def.container_definitions.iter().enumerate() {
        let prefixed = c.health_check.as_ref().is_none_or(|h| {
            matches!(
                h.command.first().map(String::as_str),
                Some("CMD" | "CMD-SHELL")
            )
        });
        if !prefixed {
            out.warnings.push(format!(
                "`containerDefinitions[{i}].healthCheck.command` does not start with `CMD` or \
                 `CMD-SHELL`, as the ECS documentation asks; it is registered as it is"
            ));
        }
    }
    super::native_keys::check(&def, &mut out.errors, &mut out.warnings);
    if def
        .container_definitions
        .iter()
        .any(|c| c.log_configuration.is_some() && c.firelens_log().is_none())
    {
        out.warnings.push(
            "`logConfiguration` in the task-definition file is replaced: ecsdeploy sends \
             every container's logs to the app's log group (awslogs), but for those that \
             route them through a FireLens log router (`awsfirelens`)"
                .to_string(),
        );
    }
    out.def = Some(def);
    out
}

/// `{"taskDefinition": {...}, "tags": [...]}`: what `describe-task-definition` prints.
fn is_describe_answer(m: &serde_json::Map<String, serde_json::Value>) -> bool {
    m.get("taskDefinition").is_some_and(|t| t.is_object())
        && !m.contains_key("containerDefinitions")
        && m.keys().all(|k| k == "taskDefinition" || k == "tags")
}

/// Keys RegisterTaskDefinition takes that ecsdeploy does not register, with the reason:
/// Fargate's own refusal where Fargate refuses the key (ECS developer guide, "Amazon ECS
/// task definition differences for Fargate").
const UNSUPPORTED: &[(&str, &str)] = &[
    ("dnsServers", "not supported on Fargate (tasks use the VPC's DNS)"),
    ("dnsSearchDomains", "not supported on Fargate"),
    ("extraHosts", "not supported on Fargate"),
    ("hostname", "not supported on Fargate (awsvpc tasks get the network interface's name)"),
    ("links", "not supported with awsvpc networking, which Fargate uses: containers of a task reach each other on localhost"),
    ("disableNetworking", "not supported on Fargate"),
    ("dockerSecurityOptions", "not supported on Fargate"),
    ("resourceRequirements", "not supported on Fargate (no GPUs)"),
    ("ipcMode", "not supported on Fargate"),
    ("placementConstraints", "not supported on Fargate (no container instances to place on)"),
    ("inferenceAccelerators", "not supported on Fargate"),
    ("dockerVolumeConfiguration", "Docker volumes are not supported on Fargate; use a bind-mount volume (name only) or EFS"),
    ("fsxWindowsFileServerVolumeConfiguration", "FSx for Windows volumes need Windows tasks; ecsdeploy runs Linux"),
    ("hostPortRange", "not taken in a task definition: with awsvpc the host port range is the containerPortRange (ECS sets it)"),
    ("proxyConfiguration", "App Mesh proxy configuration: AWS App Mesh reached its end of support on 30 September 2026; use Service Connect (`connect` in the TOML)"),
];

/// The error for a key ecsdeploy does not register: with the reason when it is known.
fn unsupported(path: &str) -> String {
    let last = path.rsplit('.').next().unwrap_or(path);
    match UNSUPPORTED.iter().find(|(k, _)| *k == last) {
        Some((_, why)) => format!("`{path}`: {why}"),
        None => format!(
            "`{path}` is not supported by ecsdeploy in task-definition files (it would be \
             dropped on register); remove it or describe the service in TOML"
        ),
    }
}

/// In a file written for EC2, port mappings whose hostPort is not their containerPort
/// (dynamic `0`, or a remap): the hostPort is dropped; where, for the warning.
fn loose_host_ports(v: &mut serde_json::Value) -> Vec<String> {
    let mut dropped = Vec::new();
    // `get_mut`, not indexing: indexing a missing key would insert a null.
    let containers = v
        .get_mut("containerDefinitions")
        .and_then(|c| c.as_array_mut());
    for (i, c) in containers.into_iter().flatten().enumerate() {
        let ports = c.get_mut("portMappings").and_then(|p| p.as_array_mut());
        for (j, p) in ports.into_iter().flatten().enumerate() {
            let (Some(host), container) = (p["hostPort"].as_u64(), p["containerPort"].as_u64())
            else {
                continue;
            };
            if Some(host) != container {
                if let Some(m) = p.as_object_mut() {
                    m.remove("hostPort");
                }
                dropped.push(format!("containerDefinitions[{i}].portMappings[{j}]"));
            }
        }
    }
    dropped
}

/// A file written for EC2 (`networkMode` absent — EC2's default `bridge` — or other than
/// `awsvpc`, or `requiresCompatibilities` without `FARGATE`): what registering it for
/// Fargate changes, said once.
fn for_ec2(value: &serde_json::Value) -> Option<String> {
    let mode = match &value["networkMode"] {
        serde_json::Value::String(m) if m == "awsvpc" => None,
        serde_json::Value::String(m) => Some(m.as_str()),
        _ => Some("bridge (the EC2 default, as none is given)"),
    };
    let compat: Vec<&str> = value["requiresCompatibilities"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
        .unwrap_or_default();
    let no_fargate = !compat.is_empty() && !compat.contains(&"FARGATE");
    if mode.is_none() && !no_fargate {
        return None;
    }
    let mut changed = Vec::new();
    if let Some(m) = mode {
        changed.push(format!(
            "networkMode `{m}` becomes `awsvpc` (each task gets its own network interface; \
             a hostPort must equal its containerPort)"
        ));
    }
    if no_fargate {
        changed.push(format!(
            "requiresCompatibilities {compat:?} becomes [\"FARGATE\"] (task-level cpu and \
             memory must be a Fargate size)"
        ));
    }
    Some(format!(
        "the task-definition file is written for EC2; registered for Fargate: {}",
        changed.join("; ")
    ))
}

/// `v` without nulls, empty lists and empty objects, at any depth (list items stay where
/// they are, so that indexes in messages match the file).
fn without_empty(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let empty = |v: &Value| match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    };
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !empty(v))
                .map(|(k, v)| (k.clone(), without_empty(v)))
                .filter(|(_, v)| !empty(v))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_empty).collect()),
        other => other.clone(),
    }
}

fn check(def: &NativeTaskDef, errors: &mut Vec<String>) {
    if def.container_definitions.is_empty() {
        errors.push("`containerDefinitions` is empty; a task needs at least one container".into());
    }
    for (field, units, unit) in [("cpu", &def.cpu, "vCPU"), ("memory", &def.memory, "GB")] {
        if units.as_ref().is_some_and(|u| u.value().is_none()) {
            errors.push(format!(
                "`{field}` is neither a whole number nor a number of {unit} (`\"1024\"` or \
                 `\"1 {unit}\"`)"
            ));
        }
    }
    if let Some(os) = def
        .runtime_platform
        .as_ref()
        .and_then(|r| r.operating_system_family.as_deref())
    {
        if os != "LINUX" {
            errors.push(format!(
                "`runtimePlatform.operatingSystemFamily` is `{os}`; ecsdeploy runs Linux tasks"
            ));
        }
    }
    if let Some(a) = def
        .runtime_platform
        .as_ref()
        .and_then(|r| r.cpu_architecture.as_deref())
    {
        if a != "X86_64" && a != "ARM64" {
            errors.push(format!(
                "`runtimePlatform.cpuArchitecture` is `{a}`; use `X86_64` or `ARM64`"
            ));
        }
    }
    if let Some(e) = def
        .ephemeral_storage
        .filter(|e| !(21..=200).contains(&e.size_in_gib))
    {
        errors.push(format!(
            "`ephemeralStorage.sizeInGiB` is {}; Fargate takes 21 to 200 GiB (without the key \
             a task has 20 GiB)",
            e.size_in_gib
        ));
    }
    volumes(def, errors);
    if let Some(m) = def.pid_mode.as_deref().filter(|m| *m != "task") {
        errors.push(format!(
            "`pidMode` is `{m}`; Fargate takes only `task` (RegisterTaskDefinition refuses \
             `host` for FARGATE)"
        ));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in def.container_definitions.iter().enumerate() {
        let at = format!("containerDefinitions[{i}]");
        linux_parameters(&at, c, errors);
        if let Some(v) = c
            .version_consistency
            .as_deref()
            .filter(|v| !matches!(*v, "enabled" | "disabled"))
        {
            errors.push(format!(
                "`{at}.versionConsistency` is `{v}`; ECS takes `enabled` or `disabled`"
            ));
        }
        for (j, m) in c.mount_points.iter().enumerate() {
            if !def.volumes.iter().any(|v| v.name == m.source_volume) {
                errors.push(format!(
                    "`{at}.mountPoints[{j}].sourceVolume`: `{}` is not a volume of the file's \
                     `volumes`",
                    m.source_volume
                ));
            }
            if m.container_path.is_empty() {
                errors.push(format!("`{at}.mountPoints[{j}].containerPath` is empty"));
            }
        }
        for (j, v) in c.volumes_from.iter().enumerate() {
            let other = def.container_definitions.iter();
            if !other
                .clone()
                .any(|o| o.name == v.source_container && o.name != c.name)
            {
                errors.push(format!(
                    "`{at}.volumesFrom[{j}].sourceContainer`: `{}` is not another container of \
                     this task",
                    v.source_container
                ));
            }
        }
        if c.name.is_empty() {
            errors.push(format!("`{at}.name` is empty"));
        } else if !names.insert(c.name.as_str()) {
            errors.push(format!("`{at}.name`: container `{}` appears twice", c.name));
        }
        for (j, p) in c.port_mappings.iter().enumerate() {
            if p.container_port.is_some()
                && p.host_port.is_some_and(|h| Some(h) != p.container_port)
            {
                errors.push(format!(
                    "`{at}.portMappings[{j}].hostPort` must equal containerPort with awsvpc \
                     networking (or be omitted)"
                ));
            }
            if let Some(a) = p
                .app_protocol
                .as_deref()
                .filter(|a| !matches!(*a, "http" | "http2" | "grpc"))
            {
                errors.push(format!(
                    "`{at}.portMappings[{j}].appProtocol` is `{a}`; ECS takes `http`, `http2` or \
                     `grpc`"
                ));
            }
            if let Some(x) = p
                .protocol
                .as_deref()
                .filter(|x| !matches!(*x, "tcp" | "udp"))
            {
                errors.push(format!(
                    "`{at}.portMappings[{j}].protocol` is `{x}`; ECS takes `tcp` or `udp`"
                ));
            }
        }
        if c.health_check
            .as_ref()
            .is_some_and(|h| h.command.is_empty())
        {
            errors.push(format!("`{at}.healthCheck.command` is empty"));
        }
        if c.privileged == Some(true) {
            errors.push(format!(
                "`{at}.privileged`: privileged containers are not supported on Fargate \
                 (RegisterTaskDefinition refuses them for FARGATE)"
            ));
        }
        for (j, d) in c.depends_on.iter().enumerate() {
            if !def
                .container_definitions
                .iter()
                .any(|o| o.name == d.container_name && o.name != c.name)
            {
                errors.push(format!(
                    "`{at}.dependsOn[{j}].containerName`: `{}` is not another container of \
                     this task",
                    d.container_name
                ));
            }
            if !matches!(
                d.condition.as_str(),
                "START" | "COMPLETE" | "SUCCESS" | "HEALTHY"
            ) {
                errors.push(format!(
                    "`{at}.dependsOn[{j}].condition`: `{}` is not START, COMPLETE, SUCCESS or \
                     HEALTHY",
                    d.condition
                ));
            }
        }
    }
}

/// `volumes`: the rules of the ECS API's `Volume`, `EFSVolumeConfiguration` and
/// `EFSAuthorizationConfig` for Fargate.
fn volumes(def: &NativeTaskDef, errors: &mut Vec<String>) {
    let mut names = std::collections::BTreeSet::new();
    for (i, v) in def.volumes.iter().enumerate() {
        let at = format!("volumes[{i}]");
        if v.name.is_empty() {
            errors.push(format!("`{at}.name` is empty"));
        } else if !names.insert(v.name.as_str()) {
            errors.push(format!("`{at}.name`: volume `{}` appears twice", v.name));
        }
        let Some(efs) = &v.efs_volume_configuration else {
            continue;
        };
        let at = format!("{at}.efsVolumeConfiguration");
        if efs.file_system_id.is_empty() {
            errors.push(format!("`{at}.fileSystemId` is empty"));
        }
        let on_off = |k: &str, v: Option<&str>, errors: &mut Vec<String>| {
            if let Some(x) = v.filter(|x| !matches!(*x, "ENABLED" | "DISABLED")) {
                errors.push(format!(
                    "`{at}.{k}` is `{x}`; ECS takes ENABLED or DISABLED"
                ));
            }
        };
        on_off(
            "transitEncryption",
            efs.transit_encryption.as_deref(),
            errors,
        );
        let auth = efs.authorization_config.as_ref();
        on_off(
            "authorizationConfig.iam",
            auth.and_then(|a| a.iam.as_deref()),
            errors,
        );
        let encrypted = efs.transit_encryption.as_deref() == Some("ENABLED");
        let iam = auth.and_then(|a| a.iam.as_deref()) == Some("ENABLED");
        let access_point = auth.and_then(|a| a.access_point_id.as_deref());
        if (iam || access_point.is_some()) && !encrypted {
            errors.push(format!(
                "`{at}.transitEncryption` must be ENABLED with IAM authorization or an access \
                 point (RegisterTaskDefinition refuses it otherwise)"
            ));
        }
        if access_point.is_some() && efs.root_directory.as_deref().is_some_and(|r| r != "/") {
            errors.push(format!(
                "`{at}.rootDirectory` must be omitted or `/` with an access point: the access \
                 point's own root directory applies"
            ));
        }
        if efs
            .transit_encryption_port
            .is_some_and(|p| p == 0 || p > 65535)
        {
            errors.push(format!(
                "`{at}.transitEncryptionPort` is not a port (1 to 65535)"
            ));
        }
    }
}

/// `linuxParameters` on Fargate (ECS API `LinuxParameters` and `KernelCapabilities`):
/// `initProcessEnabled`, and `capabilities` adding only `SYS_PTRACE`.
fn linux_parameters(at: &str, c: &NativeContainer, errors: &mut Vec<String>) {
    let Some(lp) = &c.linux_parameters else {
        return;
    };
    for (k, v) in [
        ("devices", &lp.devices),
        ("sharedMemorySize", &lp.shared_memory_size),
        ("tmpfs", &lp.tmpfs),
        ("maxSwap", &lp.max_swap),
        ("swappiness", &lp.swappiness),
    ] {
        if v.is_some() {
            errors.push(format!(
                "`{at}.linuxParameters.{k}` is not supported on Fargate \
                 (RegisterTaskDefinition refuses it for FARGATE)"
            ));
        }
    }
    let added = lp.capabilities.iter().flat_map(|c| c.add.iter());
    for (j, cap) in added.enumerate() {
        if cap != "SYS_PTRACE" {
            errors.push(format!(
                "`{at}.linuxParameters.capabilities.add[{j}]`: `{cap}` cannot be added on \
                 Fargate; only SYS_PTRACE can"
            ));
        }
    }
}

impl NativeTaskDef {
    /// The service's main container: the one named like the service, else the first.
    pub fn main_container(&self, service_key: &str) -> Option<&NativeContainer> {
        self.container_definitions
            .iter()
            .find(|c| c.name == service_key)
            .or_else(|| self.container_definitions.first())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ECSPRESSO_STYLE: &str = r#"{
      "family": "web",
      "cpu": "512",
      "memory": "1024",
      "networkMode": "awsvpc",
      "requiresCompatibilities": ["FARGATE"],
      "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
      "executionRoleArn": "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
      "containerDefinitions": [
        {
          "name": "app",
          "image": "nginx:1.27",
          "essential": true,
          "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp", "name": "http"}],
          "environment": [{"name": "MODE", "value": "prod"}],
          "secrets": [{"name": "TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:tok"}],
          "entryPoint": ["/docker-entrypoint.sh"],
          "command": ["nginx", "-g", "daemon off;"],
          "healthCheck": {"command": ["CMD", "curl", "-f", "http://localhost/"], "interval": 10},
          "logConfiguration": {"logDriver": "awslogs", "options": {"awslogs-group": "/x"}}
        },
        {"name": "sidecar", "image": "busybox", "essential": false,
         "dependsOn": [{"containerName": "app", "condition": "START"}]}
      ]
    }"#;

    #[test]
    fn reads_an_ecspresso_style_file() {
        let p = parse(ECSPRESSO_STYLE);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let d = p.def.unwrap();
        assert_eq!(d.cpu.as_ref().and_then(Units::value), Some(512));
        assert_eq!(d.container_definitions.len(), 2);
        assert_eq!(d.main_container("web").unwrap().name, "app");
        assert_eq!(d.main_container("sidecar").unwrap().name, "sidecar");
        let owned: Vec<&String> = p.warnings.iter().collect();
        assert!(
            owned.iter().any(|w| w.contains("`executionRoleArn`")),
            "{owned:?}"
        );
        assert!(
            owned.iter().any(|w| w.contains("logConfiguration")),
            "{owned:?}"
        );
    }

    #[test]
    fn unsupported_keys_are_errors_with_their_path() {
        let text = ECSPRESSO_STYLE.replace(
            "\"essential\": true,",
            "\"essential\": true, \"dnsServers\": [\"10.0.0.2\"],",
        );
        let p = parse(&text);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(
            p.errors[0].contains("containerDefinitions.0.dnsServers")
                || p.errors[0].contains("containerDefinitions[0].dnsServers"),
            "{:?}",
            p.errors
        );
        let p = parse(&ECSPRESSO_STYLE.replace("\"family\": \"web\",", "\"pidMode\": \"host\","));
        assert!(p.errors[0].contains("pidMode"), "{:?}", p.errors);
    }

    #[test]
    fn syntax_errors_have_line_and_column() {
        let p = parse("{\n  \"containerDefinitions\": [\n    {\"name\": \"a\",}\n  ]\n}");
        assert_eq!(p.errors.len(), 1);
        assert!(p.errors[0].contains("at line 3 column"), "{:?}", p.errors);
    }

    #[test]
    fn checks_what_ecs_would_refuse() {
        let text = ECSPRESSO_STYLE
            .replace("\"hostPort\": 80", "\"hostPort\": 8080")
            .replace("\"containerName\": \"app\"", "\"containerName\": \"nope\"")
            .replace(
                "\"cpuArchitecture\": \"ARM64\"",
                "\"cpuArchitecture\": \"MIPS\"",
            );
        let p = parse(&text);
        let all = p.errors.join("\n");
        assert!(all.contains("hostPort"), "{all}");
        assert!(all.contains("`nope` is not another container"), "{all}");
        assert!(all.contains("MIPS"), "{all}");
    }

    /// What AWS accepts and a file from the wild has: nulls and empty lists, the read-only
    /// fields of a describe-task-definition output, sizes in vCPU and GB, `privileged:
    /// false`, a health check without the `CMD` prefix.
    #[test]
    fn accepts_what_register_task_definition_accepts() {
        let text = r#"{
          "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
          "revision": 7, "status": "ACTIVE", "compatibilities": ["EC2", "FARGATE"],
          "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
          "registeredAt": "2024-01-01T00:00:00Z", "registeredBy": "arn:aws:iam::123456789012:root",
          "family": "web", "cpu": ".25 vcpu", "memory": ".5 gb",
          "volumes": [], "placementConstraints": [], "ipcMode": null, "proxyConfiguration": null,
          "containerDefinitions": [{
            "name": "web", "image": "nginx", "privileged": false,
            "mountPoints": [], "volumesFrom": [], "systemControls": [], "environmentFiles": [],
            "portMappings": null, "environment": [],
            "healthCheck": {"command": ["curl -f http://localhost/ || exit 1"]}
          }]
        }"#;
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let d = p.def.unwrap();
        assert_eq!(d.cpu.as_ref().and_then(Units::value), Some(256));
        assert_eq!(d.memory.as_ref().and_then(Units::value), Some(512));
        let w = p.warnings.join("\n");
        assert!(
            w.contains("`taskDefinitionArn`, `revision`, `status`"),
            "{w}"
        );
        assert!(w.contains("read-only"), "{w}");
        assert!(w.contains("does not start with `CMD`"), "{w}");
    }

    #[test]
    fn sizes_and_type_errors_say_where() {
        for (cpu, want) in [
            ("\"1 vCPU\"", Some(1024)),
            ("\"2048\"", Some(2048)),
            ("\"0.3 vcpu\"", None),
        ] {
            let units: Units = serde_json::from_str(cpu).unwrap();
            assert_eq!(units.value(), want, "{cpu}");
        }
        let p = parse(&ECSPRESSO_STYLE.replace("\"essential\": true,", "\"essential\": \"yes\","));
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(
            p.errors[0].starts_with("`containerDefinitions[0].essential`"),
            "{:?}",
            p.errors
        );
        let p = parse(&ECSPRESSO_STYLE.replace(
            "\"image\": \"nginx:1.27\",",
            "\"image\": \"nginx\", \"privileged\": true,",
        ));
        assert!(
            p.errors
                .iter()
                .any(|e| e.contains("not supported on Fargate")),
            "{:?}",
            p.errors
        );
    }

    #[test]
    fn a_file_for_ec2_says_what_changes_for_fargate() {
        let p = parse(
            &ECSPRESSO_STYLE
                .replace("\"awsvpc\"", "\"bridge\"")
                .replace("[\"FARGATE\"]", "[\"EC2\"]"),
        );
        let w = p.warnings.join("\n");
        assert!(w.contains("written for EC2; registered for Fargate"), "{w}");
        assert!(w.contains("networkMode `bridge` becomes `awsvpc`"), "{w}");
        assert!(w.contains("[\"EC2\"] becomes [\"FARGATE\"]"), "{w}");
        let p = parse(ECSPRESSO_STYLE);
        assert!(!p.warnings.join("\n").contains("written for EC2"));
    }

    #[test]
    fn volumes_linux_parameters_and_storage_are_read_and_checked() {
        let ok = r#"{
          "containerDefinitions": [
            {"name": "app", "image": "x", "mountPoints": [{"sourceVolume": "data", "containerPath": "/data"}],
             "linuxParameters": {"initProcessEnabled": true, "capabilities": {"add": ["SYS_PTRACE"], "drop": ["NET_RAW"]}},
             "portMappings": [{"containerPort": 2000, "protocol": "udp"}]},
            {"name": "side", "image": "y", "volumesFrom": [{"sourceContainer": "app", "readOnly": true}]}
          ],
          "volumes": [{"name": "data", "efsVolumeConfiguration": {"fileSystemId": "fs-1", "transitEncryption": "ENABLED",
                       "authorizationConfig": {"accessPointId": "fsap-1", "iam": "ENABLED"}}},
                      {"name": "tmp", "host": {}}],
          "ephemeralStorage": {"sizeInGiB": 40},
          "enableFaultInjection": true
        }"#;
        let p = parse(ok);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let d = p.def.unwrap();
        assert_eq!(d.volumes.len(), 2);
        assert_eq!(d.ephemeral_storage.map(|e| e.size_in_gib), Some(40));
        let bad = ok
            .replace("\"transitEncryption\": \"ENABLED\",", "")
            .replace("\"SYS_PTRACE\"", "\"NET_ADMIN\"")
            .replace("\"sourceVolume\": \"data\"", "\"sourceVolume\": \"nope\"")
            .replace("\"sizeInGiB\": 40", "\"sizeInGiB\": 500")
            .replace(
                "\"sourceContainer\": \"app\"",
                "\"sourceContainer\": \"side\"",
            );
        let errors = parse(&bad).errors;
        for want in [
            "`volumes[0].efsVolumeConfiguration.transitEncryption` must be ENABLED",
            "`containerDefinitions[0].linuxParameters.capabilities.add[0]`: `NET_ADMIN`",
            "`containerDefinitions[0].mountPoints[0].sourceVolume`: `nope`",
            "`ephemeralStorage.sizeInGiB` is 500",
            "`containerDefinitions[1].volumesFrom[0].sourceContainer`: `side`",
        ] {
            assert!(
                errors.iter().any(|e| e.contains(want)),
                "{want}: {errors:?}"
            );
        }
        assert_eq!(errors.len(), 5, "{errors:?}");
    }

    #[test]
    fn a_describe_answer_with_a_byte_order_mark_is_read() {
        let text = "\u{feff}{\"taskDefinition\": {\"containerDefinitions\": [{\"name\": \"a\", \"image\": \"x\", \"portMappings\": [{\"containerPort\": 80, \"hostPort\": 0}]}], \"revision\": 3}, \"tags\": []}";
        let p = parse(text);
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        let w = p.warnings.join("\n");
        assert!(w.contains("whole describe-task-definition answer"), "{w}");
        assert!(w.contains("`revision`"), "{w}");
        assert!(
            w.contains("hostPort dropped from containerDefinitions[0].portMappings[0]"),
            "{w}"
        );
        assert_eq!(
            p.def.unwrap().container_definitions[0].port_mappings[0].host_port,
            None
        );
    }

    #[test]
    fn keys_fargate_refuses_say_why() {
        let p = parse(&ECSPRESSO_STYLE.replace("\"family\": \"web\",", "\"ipcMode\": \"host\","));
        assert!(
            p.errors[0].contains("`ipcMode`: not supported on Fargate"),
            "{:?}",
            p.errors
        );
    }
}
