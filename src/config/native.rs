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
    /// Owned by ecsdeploy (awslogs to the app's log group); replaced.
    #[serde(default)]
    pub log_configuration: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct NativePort {
    pub container_port: u16,
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
    // A null, and an empty list or object, say nothing: read as absent, as AWS does.
    let mut cleaned = without_empty(&value);
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
        out.errors.push(format!(
            "`{p}` is not supported by ecsdeploy in task-definition files (it would be dropped \
             on register); remove it or describe the service in TOML"
        ));
    }
    for k in OWNED {
        if value.get(k).is_some_and(|v| !v.is_null()) {
            out.warnings.push(format!(
                "`{k}` in the task-definition file is ignored: ecsdeploy sets it"
            ));
        }
    }
    if let Some(ec2) = for_ec2(&value) {
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
    if def
        .container_definitions
        .iter()
        .any(|c| c.log_configuration.is_some())
    {
        out.warnings.push(
            "`logConfiguration` in the task-definition file is replaced: ecsdeploy sends \
             every container's logs to the app's log group (awslogs)"
                .to_string(),
        );
    }
    out.def = Some(def);
    out
}

/// A file written for EC2 (`networkMode` other than `awsvpc`, or `requiresCompatibilities`
/// without `FARGATE`): what registering it for Fargate changes, said once.
fn for_ec2(value: &serde_json::Value) -> Option<String> {
    let mode = value["networkMode"].as_str().filter(|m| *m != "awsvpc");
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
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in def.container_definitions.iter().enumerate() {
        let at = format!("containerDefinitions[{i}]");
        if c.name.is_empty() {
            errors.push(format!("`{at}.name` is empty"));
        } else if !names.insert(c.name.as_str()) {
            errors.push(format!("`{at}.name`: container `{}` appears twice", c.name));
        }
        for (j, p) in c.port_mappings.iter().enumerate() {
            if p.host_port.is_some_and(|h| h != p.container_port) {
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
            if p.protocol.as_deref().is_some_and(|x| x != "tcp") {
                errors.push(format!(
                    "`{at}.portMappings[{j}].protocol`: only `tcp` is supported"
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
            "\"essential\": true, \"linuxParameters\": {\"initProcessEnabled\": true},",
        );
        let p = parse(&text);
        assert_eq!(p.errors.len(), 1, "{:?}", p.errors);
        assert!(
            p.errors[0].contains("containerDefinitions.0.linuxParameters")
                || p.errors[0].contains("containerDefinitions[0].linuxParameters"),
            "{:?}",
            p.errors
        );
        let p = parse(&ECSPRESSO_STYLE.replace("\"family\": \"web\",", "\"pidMode\": \"task\","));
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
}
