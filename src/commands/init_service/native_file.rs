//! The native task-definition file `init --from-service` writes when the TOML container
//! keys cannot hold the live task: what RegisterTaskDefinition would take again, checked
//! with the loader's own reader, each key it refuses left out and listed. Also the task's
//! FireLens log router, whose `awsfirelens` log configurations only this file can keep.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinition};
use serde_json::{json, Map, Value};

/// The name of the container that is the task's FireLens log router, if any.
pub(super) fn log_router(td: &TaskDefinition) -> Option<&str> {
    td.container_definitions()
        .iter()
        .find(|c| c.firelens_configuration().is_some())
        .map(|c| c.name().unwrap_or_default())
}

/// The container's `awsfirelens` log configuration, carried into the native file only when
/// the task has a log router to send the logs to.
pub(super) fn firelens_log<'a>(
    td: &TaskDefinition,
    c: &'a ContainerDefinition,
) -> Option<&'a aws_sdk_ecs::types::LogConfiguration> {
    c.log_configuration()
        .filter(|l| l.log_driver().as_str() == "awsfirelens")
        .filter(|_| log_router(td).is_some())
}

/// The native file: what RegisterTaskDefinition would take again, limited to the keys
/// ecsdeploy registers (the others are in `notes` already). `family`, the roles, the network
/// mode and the logs are ecsdeploy's and left out, but for an `awsfirelens` log configuration
/// of a task with a FireLens log router, kept as written. The main container comes first: a
/// native file's main container is the one named like the service key, else the first.
fn native(td: &TaskDefinition, main: &str) -> Value {
    let mut top = Map::new();
    if let Some(c) = td.cpu() {
        top.insert("cpu".into(), json!(c));
    }
    if let Some(m) = td.memory() {
        top.insert("memory".into(), json!(m));
    }
    if let Some(a) = td.runtime_platform().and_then(|r| r.cpu_architecture()) {
        top.insert(
            "runtimePlatform".into(),
            json!({"cpuArchitecture": a.as_str(), "operatingSystemFamily": "LINUX"}),
        );
    }
    if let Some(e) = td.ephemeral_storage().filter(|e| e.size_in_gib() > 20) {
        top.insert(
            "ephemeralStorage".into(),
            json!({"sizeInGiB": e.size_in_gib()}),
        );
    }
    if td.enable_fault_injection() == Some(true) {
        top.insert("enableFaultInjection".into(), json!(true));
    }
    // Fargate takes only `task`; another value is listed by `unsupported_task_fields`.
    if let Some(p) = td.pid_mode().filter(|p| p.as_str() == "task") {
        top.insert("pidMode".into(), json!(p.as_str()));
    }
    let volumes: Vec<Value> = td
        .volumes()
        .iter()
        .map(|v| {
            let mut o = Map::new();
            o.insert("name".into(), json!(v.name().unwrap_or_default()));
            if let Some(e) = v.efs_volume_configuration() {
                let mut efs = Map::new();
                efs.insert("fileSystemId".into(), json!(e.file_system_id()));
                if let Some(r) = e.root_directory() {
                    efs.insert("rootDirectory".into(), json!(r));
                }
                if let Some(t) = e.transit_encryption() {
                    efs.insert("transitEncryption".into(), json!(t.as_str()));
                }
                if let Some(p) = e.transit_encryption_port() {
                    efs.insert("transitEncryptionPort".into(), json!(p));
                }
                if let Some(a) = e.authorization_config() {
                    let mut auth = Map::new();
                    if let Some(ap) = a.access_point_id() {
                        auth.insert("accessPointId".into(), json!(ap));
                    }
                    if let Some(i) = a.iam() {
                        auth.insert("iam".into(), json!(i.as_str()));
                    }
                    efs.insert("authorizationConfig".into(), Value::Object(auth));
                }
                o.insert("efsVolumeConfiguration".into(), Value::Object(efs));
            }
            if v.host().is_some() || v.docker_volume_configuration().is_some() {
                o.insert("host".into(), json!("(not supported on Fargate)"));
            }
            Value::Object(o)
        })
        .collect();
    if !volumes.is_empty() {
        top.insert("volumes".into(), Value::Array(volumes));
    }
    let mut ordered: Vec<&ContainerDefinition> = td.container_definitions().iter().collect();
    ordered.sort_by_key(|c| c.name() != Some(main));
    let containers: Vec<Value> = ordered
        .into_iter()
        .map(|c| native_container(c, firelens_log(td, c)))
        .collect();
    top.insert("containerDefinitions".into(), Value::Array(containers));
    Value::Object(top)
}

/// Keys ecsdeploy registers only when its native-file reader accepts their values.
const CHECKED: &[&str] = &[
    "volumes",
    "ephemeralStorage",
    "enableFaultInjection",
    "pidMode",
    "mountPoints",
    "volumesFrom",
    "linuxParameters",
    "systemControls",
    "environmentFiles",
    "repositoryCredentials",
    "credentialSpecs",
    "firelensConfiguration",
    "logConfiguration",
    "restartPolicy",
    "versionConsistency",
];

/// What the reader refuses, as where it is in the native file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Refused {
    /// A task-level key.
    Task(&'static str),
    /// A key of the container at this index.
    Container(usize, &'static str),
    /// One of the container's `portMappings` (a port range).
    Port(usize, usize),
}

/// Where a reader's error points, from the key path it starts with (`` `a[1].b.c` ...``):
/// `None` when it names no key of [`CHECKED`] (nor a port mapping).
fn refused(error: &str) -> Option<Refused> {
    let path = error.strip_prefix('`')?.split('`').next()?;
    // `containerDefinitions[1].portMappings[2].x`, or serde_ignored's `containerDefinitions.1.x`.
    let mut parts = path
        .split(['.', '[', ']'])
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<usize>().map_err(|_| p));
    let checked = |k: &str| CHECKED.iter().find(|c| **c == k).copied();
    match parts.next()? {
        Err("containerDefinitions") => {
            let i = parts.next()?.ok()?;
            match parts.next()?.err()? {
                "portMappings" => Some(Refused::Port(i, parts.next()?.ok()?)),
                k => Some(Refused::Container(i, checked(k)?)),
            }
        }
        Err(k) => Some(Refused::Task(checked(k)?)),
        Ok(_) => None,
    }
}

/// The native file, checked as the loader checks it: what the reader refuses (a volume,
/// mount, Linux parameter, storage size, FireLens setting, environment file, port range, ...)
/// is left out, and each refusal is listed. A refusal that names no such key leaves out
/// every key of [`CHECKED`].
pub(super) fn checked_native(td: &TaskDefinition, main: &str, notes: &mut Vec<String>) -> Value {
    let mut v = native(td, main);
    let mut said: Vec<String> = Vec::new();
    let mut dropped = std::collections::BTreeSet::new();
    // Leaving a key out can make another refused (a mount of a volume left out, the
    // awsfirelens driver without its router): read again until the reader accepts the file.
    for _ in 0..=CHECKED.len() {
        let text = serde_json::to_string(&v).unwrap_or_default();
        let errors = crate::config::native::parse(&text).errors;
        if errors.is_empty() {
            break;
        }
        let mut what: Vec<Refused> = Vec::new();
        let mut unplaced = false;
        for e in &errors {
            match refused(e) {
                Some(r) => what.push(r),
                None => unplaced = true,
            }
            if !said.contains(e) {
                said.push(e.clone());
            }
        }
        if unplaced {
            what = (0..td.container_definitions().len())
                .flat_map(|i| CHECKED.iter().map(move |k| Refused::Container(i, k)))
                .chain(CHECKED.iter().map(|k| Refused::Task(k)))
                .collect();
        }
        // Port mappings by index, the last first, so that the others keep theirs.
        what.sort();
        what.dedup();
        let mut removed = false;
        for r in what.into_iter().rev() {
            let gone = match r {
                Refused::Task(k) => v.as_object_mut().and_then(|t| t.remove(k)).map(|_| k),
                Refused::Container(i, k) => {
                    container(&mut v, i).and_then(|c| c.remove(k)).map(|_| k)
                }
                Refused::Port(i, j) => container(&mut v, i)
                    .and_then(|c| c.get_mut("portMappings"))
                    .and_then(Value::as_array_mut)
                    .filter(|p| j < p.len())
                    // A single port's mapping: only it is left out, not the container's
                    // `portMappings` (the reader's error, listed, names which).
                    .map(|p| match p.remove(j).get("containerPortRange") {
                        Some(_) => "containerPortRange",
                        None => "portMappings[…]",
                    }),
            };
            if let Some(k) = gone {
                dropped.insert(k);
                removed = true;
            }
        }
        if !removed {
            break;
        }
    }
    for e in said {
        notes.push(format!("task definition {e}"));
    }
    if !dropped.is_empty() {
        notes.push(format!(
            "so the task definition's {} are dropped",
            dropped
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    v
}

/// The native file's container at index `i`.
fn container(v: &mut Value, i: usize) -> Option<&mut Map<String, Value>> {
    v.get_mut("containerDefinitions")?
        .get_mut(i)?
        .as_object_mut()
}

/// A container as RegisterTaskDefinition would take it again; `log` its `awsfirelens` log
/// configuration, kept as written (any other is ecsdeploy's, and left out).
fn native_container(
    c: &ContainerDefinition,
    log: Option<&aws_sdk_ecs::types::LogConfiguration>,
) -> Value {
    let mut o = Map::new();
    let mut put = |k: &str, v: Value| {
        o.insert(k.to_string(), v);
    };
    put("name", json!(c.name().unwrap_or_default()));
    if let Some(i) = c.image() {
        put("image", json!(i));
    }
    if let Some(e) = c.essential() {
        put("essential", json!(e));
    }
    if c.cpu() != 0 {
        put("cpu", json!(c.cpu()));
    }
    if let Some(m) = c.memory() {
        put("memory", json!(m));
    }
    if let Some(m) = c.memory_reservation() {
        put("memoryReservation", json!(m));
    }
    // Every mapping keeps its protocol: a single UDP port (a statsd agent's 8125, a DNS
    // sidecar's 53) as well as a range. The reader takes `tcp` and `udp`, and the task
    // definition registers each mapping with its protocol. With awsvpc the host port is the
    // container port (or range), so it is left out.
    let ports: Vec<Value> = c
        .port_mappings()
        .iter()
        .map(|p| {
            let mut m = Map::new();
            match p.container_port_range() {
                Some(r) => m.insert("containerPortRange".into(), json!(r)),
                None => m.insert("containerPort".into(), json!(p.container_port())),
            };
            let protocol = p.protocol().map_or("tcp", |x| x.as_str());
            m.insert("protocol".into(), json!(protocol));
            if let Some(n) = p.name() {
                m.insert("name".into(), json!(n));
            }
            if let Some(a) = p.app_protocol() {
                m.insert("appProtocol".into(), json!(a.as_str()));
            }
            Value::Object(m)
        })
        .collect();
    if !ports.is_empty() {
        put("portMappings", Value::Array(ports));
    }
    let mut env: Vec<(&str, &str)> = c
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?, kv.value().unwrap_or_default())))
        .collect();
    env.sort();
    if !env.is_empty() {
        put(
            "environment",
            env.iter()
                .map(|(n, v)| json!({"name": n, "value": v}))
                .collect(),
        );
    }
    if !c.secrets().is_empty() {
        put(
            "secrets",
            c.secrets()
                .iter()
                .map(|s| json!({"name": s.name(), "valueFrom": s.value_from()}))
                .collect(),
        );
    }
    if !c.command().is_empty() {
        put("command", json!(c.command()));
    }
    if !c.entry_point().is_empty() {
        put("entryPoint", json!(c.entry_point()));
    }
    if let Some(w) = c.working_directory() {
        put("workingDirectory", json!(w));
    }
    if let Some(u) = c.user() {
        put("user", json!(u));
    }
    if let Some(r) = c.readonly_root_filesystem() {
        put("readonlyRootFilesystem", json!(r));
    }
    if let Some(l) = c.docker_labels().filter(|l| !l.is_empty()) {
        let sorted: BTreeMap<&String, &String> = l.iter().collect();
        put("dockerLabels", json!(sorted));
    }
    if let Some(h) = c.health_check() {
        let mut m = Map::new();
        m.insert("command".into(), json!(h.command()));
        for (k, v) in [
            ("interval", h.interval()),
            ("timeout", h.timeout()),
            ("retries", h.retries()),
            ("startPeriod", h.start_period()),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), json!(v));
            }
        }
        put("healthCheck", Value::Object(m));
    }
    if let Some(t) = c.start_timeout() {
        put("startTimeout", json!(t));
    }
    if let Some(t) = c.stop_timeout() {
        put("stopTimeout", json!(t));
    }
    if !c.ulimits().is_empty() {
        put(
            "ulimits",
            c.ulimits()
                .iter()
                .map(|u| {
                    json!({"name": u.name().as_str(), "softLimit": u.soft_limit(), "hardLimit": u.hard_limit()})
                })
                .collect(),
        );
    }
    if !c.mount_points().is_empty() {
        put(
            "mountPoints",
            c.mount_points()
                .iter()
                .map(|m| {
                    let mut o = Map::new();
                    o.insert("sourceVolume".into(), json!(m.source_volume()));
                    o.insert("containerPath".into(), json!(m.container_path()));
                    if let Some(r) = m.read_only() {
                        o.insert("readOnly".into(), json!(r));
                    }
                    Value::Object(o)
                })
                .collect(),
        );
    }
    if !c.volumes_from().is_empty() {
        put(
            "volumesFrom",
            c.volumes_from()
                .iter()
                .map(
                    |v| json!({"sourceContainer": v.source_container(), "readOnly": v.read_only()}),
                )
                .collect(),
        );
    }
    if let Some(l) = c.linux_parameters() {
        let mut o = Map::new();
        if let Some(i) = l.init_process_enabled() {
            o.insert("initProcessEnabled".into(), json!(i));
        }
        if let Some(k) = l.capabilities() {
            o.insert(
                "capabilities".into(),
                json!({"add": k.add(), "drop": k.drop()}),
            );
        }
        if let Some(m) = l.shared_memory_size() {
            o.insert("sharedMemorySize".into(), json!(m));
        }
        if !l.tmpfs().is_empty() || !l.devices().is_empty() {
            o.insert(
                "devices".into(),
                json!("(tmpfs and devices are not supported on Fargate)"),
            );
        }
        if let Some(m) = l.max_swap() {
            o.insert("maxSwap".into(), json!(m));
        }
        if let Some(m) = l.swappiness() {
            o.insert("swappiness".into(), json!(m));
        }
        put("linuxParameters", Value::Object(o));
    }
    if !c.system_controls().is_empty() {
        put(
            "systemControls",
            c.system_controls()
                .iter()
                .map(|x| json!({"namespace": x.namespace(), "value": x.value()}))
                .collect(),
        );
    }
    if !c.environment_files().is_empty() {
        put(
            "environmentFiles",
            c.environment_files()
                .iter()
                .map(|f| json!({"value": f.value(), "type": f.r#type().as_str()}))
                .collect(),
        );
    }
    if let Some(r) = c.repository_credentials() {
        put(
            "repositoryCredentials",
            json!({"credentialsParameter": r.credentials_parameter()}),
        );
    }
    if !c.credential_specs().is_empty() {
        put("credentialSpecs", json!(c.credential_specs()));
    }
    if let Some(f) = c.firelens_configuration() {
        let mut o = Map::new();
        o.insert("type".into(), json!(f.r#type().as_str()));
        if let Some(opts) = f.options().filter(|o| !o.is_empty()) {
            let sorted: BTreeMap<&String, &String> = opts.iter().collect();
            o.insert("options".into(), json!(sorted));
        }
        put("firelensConfiguration", Value::Object(o));
    }
    if let Some(l) = log {
        let mut o = Map::new();
        o.insert("logDriver".into(), json!(l.log_driver().as_str()));
        if let Some(opts) = l.options().filter(|o| !o.is_empty()) {
            let sorted: BTreeMap<&String, &String> = opts.iter().collect();
            o.insert("options".into(), json!(sorted));
        }
        if !l.secret_options().is_empty() {
            o.insert(
                "secretOptions".into(),
                l.secret_options()
                    .iter()
                    .map(|s| json!({"name": s.name(), "valueFrom": s.value_from()}))
                    .collect(),
            );
        }
        put("logConfiguration", Value::Object(o));
    }
    if let Some(r) = c.restart_policy() {
        let mut o = Map::new();
        o.insert("enabled".into(), json!(r.enabled()));
        if !r.ignored_exit_codes().is_empty() {
            o.insert("ignoredExitCodes".into(), json!(r.ignored_exit_codes()));
        }
        if let Some(p) = r.restart_attempt_period() {
            o.insert("restartAttemptPeriod".into(), json!(p));
        }
        put("restartPolicy", Value::Object(o));
    }
    if let Some(i) = c.interactive() {
        put("interactive", json!(i));
    }
    if let Some(t) = c.pseudo_terminal() {
        put("pseudoTerminal", json!(t));
    }
    if let Some(v) = c.version_consistency() {
        put("versionConsistency", json!(v.as_str()));
    }
    if !c.depends_on().is_empty() {
        put(
            "dependsOn",
            c.depends_on()
                .iter()
                .map(|d| json!({"containerName": d.container_name(), "condition": d.condition().as_str()}))
                .collect(),
        );
    }
    Value::Object(o)
}
