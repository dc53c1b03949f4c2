//! Reading a task-definition file: its JSON, a whole describe answer, the keys AWS adds
//! or ecsdeploy fills in, a file written for EC2, then the typed definition and its checks.

use super::fargate;
use super::keys;
use super::unsupported::unsupported;
use super::NativeTaskDef;

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
    fargate::check(&def, &mut out.errors);
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
    keys::check(&def, &mut out.errors, &mut out.warnings);
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
