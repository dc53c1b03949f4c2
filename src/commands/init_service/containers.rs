//! The live task definition → the service's TOML container keys, or (when those cannot hold
//! it) a native task-definition file. Fields neither can hold are listed, never dropped
//! silently.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinition};
use serde_json::{json, Map, Value};

use super::text::{number, q, strings};

/// What the task definition becomes.
#[derive(Debug, Default)]
pub struct Tasks {
    /// The main container's TCP ports, and the port-mapping names (for Service Connect).
    pub ports: Vec<u16>,
    pub port_names: BTreeMap<String, u16>,
    /// `key = value` lines of `[services.<key>]`, when TOML holds everything.
    pub keys: Vec<(String, String)>,
    /// `[services.<key>.environment]`.
    pub environment: Vec<(String, String)>,
    /// `[services.<key>.health_check]`.
    pub health_check: Vec<(String, String)>,
    /// Secrets Manager secrets of the main container (variable, ARN or name) for `uses`.
    pub secrets: Vec<(String, String)>,
    /// The native file, when TOML cannot hold the task.
    pub native: Option<Value>,
    /// Why the native file is needed.
    pub native_reasons: Vec<String>,
}

/// The fields of a task definition that neither TOML nor a native file can hold.
fn unsupported_task_fields(td: &TaskDefinition, notes: &mut Vec<String>) {
    let mut say = |what: &str, why: &str| notes.push(format!("task definition `{what}`: {why}"));
    // `task` is carried into the native file: the only value Fargate takes.
    if let Some(p) = td.pid_mode().filter(|p| p.as_str() != "task") {
        say(
            "pidMode",
            &format!("`{}` is dropped (Fargate takes only `task`)", p.as_str()),
        );
    }
    if let Some(p) = td.ipc_mode() {
        say("ipcMode", &format!("`{}` is dropped", p.as_str()));
    }
    if td.proxy_configuration().is_some() {
        say("proxyConfiguration", "App Mesh proxy settings are dropped");
    }
    if !td.placement_constraints().is_empty() {
        say("placementConstraints", "dropped (Fargate ignores them)");
    }
    if !td.inference_accelerators().is_empty() {
        say("inferenceAccelerators", "dropped");
    }
    if let Some(os) = td
        .runtime_platform()
        .and_then(|r| r.operating_system_family())
        .filter(|o| o.as_str() != "LINUX")
    {
        say(
            "runtimePlatform.operatingSystemFamily",
            &format!("`{}`: ecsdeploy runs Linux tasks only", os.as_str()),
        );
    }
}

/// The container fields neither TOML nor a native file can hold. `systemControls`,
/// `environmentFiles`, `credentialSpecs`, `firelensConfiguration`, `repositoryCredentials`, `restartPolicy`,
/// `interactive`, `pseudoTerminal` and port ranges go into the native file (see
/// [`native_container`]), and are listed only when the reader refuses them.
fn unsupported_container_fields(
    c: &ContainerDefinition,
    router: Option<&str>,
    notes: &mut Vec<String>,
) {
    let name = c.name().unwrap_or_default();
    let mut say = |what: &str| {
        notes.push(format!(
            "container `{name}` `{what}`: not supported by ecsdeploy; dropped"
        ))
    };
    if !c.extra_hosts().is_empty() {
        say("extraHosts");
    }
    if !c.dns_servers().is_empty() || !c.dns_search_domains().is_empty() {
        say("dnsServers/dnsSearchDomains");
    }
    if !c.docker_security_options().is_empty() {
        say("dockerSecurityOptions");
    }
    if !c.resource_requirements().is_empty() {
        say("resourceRequirements");
    }
    if c.disable_networking() == Some(true) {
        say("disableNetworking");
    }
    if c.hostname().is_some() {
        say("hostname");
    }
    if !c.links().is_empty() {
        say("links");
    }
    if let Some(l) = c.log_configuration() {
        let driver = l.log_driver().as_str();
        let group = l.options().and_then(|o| o.get("awslogs-group"));
        match (driver, group) {
            ("awslogs", Some(g)) => notes.push(format!(
                "container `{name}` logs to the log group `{g}`: ecsdeploy sends every \
                 container's logs to the app's own group ([logs]), which the new deployment \
                 creates"
            )),
            ("awslogs", None) => {}
            ("awsfirelens", _) => notes.push(match router {
                Some(r) => format!(
                    "container `{name}` uses the log driver `awsfirelens`: its \
                     logConfiguration (options and secretOptions) is kept as written in the \
                     native file, routing its logs through the FireLens log router `{r}` \
                     (`ecsdeploy logs` does not show them)"
                ),
                None => format!(
                    "container `{name}` uses the log driver `awsfirelens`, but no container \
                     of the task is a FireLens log router: ecsdeploy uses awslogs to the \
                     app's log group"
                ),
            }),
            (d, _) => notes.push(format!(
                "container `{name}` uses the log driver `{d}`: ecsdeploy always uses awslogs \
                 to the app's log group"
            )),
        }
    }
}

/// The name of the container that is the task's FireLens log router, if any.
fn log_router(td: &TaskDefinition) -> Option<&str> {
    td.container_definitions()
        .iter()
        .find(|c| c.firelens_configuration().is_some())
        .map(|c| c.name().unwrap_or_default())
}

/// The container's `awsfirelens` log configuration, carried into the native file only when
/// the task has a log router to send the logs to.
fn firelens_log<'a>(
    td: &TaskDefinition,
    c: &'a ContainerDefinition,
) -> Option<&'a aws_sdk_ecs::types::LogConfiguration> {
    c.log_configuration()
        .filter(|l| l.log_driver().as_str() == "awsfirelens")
        .filter(|_| log_router(td).is_some())
}

/// Whether a `valueFrom` is a whole Secrets Manager secret (not a JSON key of one, not an
/// SSM parameter): what `[secrets.<key>] existing` and `uses` can hold.
pub fn whole_secret(value_from: &str) -> bool {
    match value_from.strip_prefix("arn:") {
        Some(rest) => {
            let parts: Vec<&str> = rest.split(':').collect();
            parts.get(1) == Some(&"secretsmanager") && parts.len() == 6
        }
        // A bare name is an SSM parameter in the same region.
        None => false,
    }
}

/// Convert the task definition. `main` is the container the load balancer addresses (or
/// the first essential one); `key` the service key.
pub fn convert(td: &TaskDefinition, main: &str, key: &str, notes: &mut Vec<String>) -> Tasks {
    unsupported_task_fields(td, notes);
    let router = log_router(td);
    for c in td.container_definitions() {
        unsupported_container_fields(c, router, notes);
    }
    let containers = td.container_definitions();
    let m = containers
        .iter()
        .find(|c| c.name() == Some(main))
        .or(containers.first());
    let mut out = Tasks::default();
    let Some(m) = m else {
        return out;
    };
    for p in m.port_mappings() {
        let Some(port) = p.container_port().and_then(|p| u16::try_from(p).ok()) else {
            continue;
        };
        if p.protocol().is_some_and(|x| x.as_str() != "tcp") {
            notes.push(format!(
                "container `{main}` port {port}/{}: ecsdeploy maps TCP ports only; dropped",
                p.protocol().map(|x| x.as_str()).unwrap_or_default()
            ));
            continue;
        }
        if !out.ports.contains(&port) {
            out.ports.push(port);
        }
        if let Some(n) = p.name() {
            out.port_names.insert(n.to_string(), port);
        }
    }

    if task_size(td).is_none() {
        notes.push(
            "the task definition has no task-level cpu and memory (written for EC2): the new \
             task gets Fargate's smallest size, 256 CPU units and 512 MiB"
                .into(),
        );
    }
    let reasons = native_reasons(td, m, main, key);
    if reasons.is_empty() {
        toml_keys(td, m, &mut out);
    } else {
        out.native = Some(checked_native(td, main, notes));
        out.native_reasons = reasons;
    }
    out
}

/// Why the TOML keys cannot hold this task definition (empty: they can).
fn native_reasons(
    td: &TaskDefinition,
    m: &ContainerDefinition,
    main: &str,
    key: &str,
) -> Vec<String> {
    let mut r = Vec::new();
    let containers = td.container_definitions();
    let any = |f: &dyn Fn(&ContainerDefinition) -> bool| containers.iter().any(f);
    if containers.len() > 1 {
        r.push(format!("{} containers", containers.len()));
    }
    if main != key {
        r.push(format!(
            "the container is named `{main}` (a TOML service's container is named after its key)"
        ));
    }
    let fields = [
        (!m.entry_point().is_empty(), "entryPoint"),
        (m.working_directory().is_some(), "workingDirectory"),
        (m.user().is_some(), "user"),
        (
            m.readonly_root_filesystem() == Some(true),
            "readonlyRootFilesystem",
        ),
        (
            m.docker_labels().is_some_and(|l| !l.is_empty()),
            "dockerLabels",
        ),
        (
            m.cpu() != 0 || m.memory().is_some() || m.memory_reservation().is_some(),
            "container cpu/memory",
        ),
        (m.start_timeout().is_some(), "startTimeout"),
        (m.essential() == Some(false), "essential = false"),
        (
            m.stop_timeout().is_some_and(|t| !(2..=120).contains(&t)),
            "stopTimeout outside 2 to 120",
        ),
        (
            m.health_check()
                .is_some_and(|h| h.timeout().is_some_and(|t| t > 60)),
            "a health check timeout over 60 seconds",
        ),
        (
            m.health_check()
                .is_some_and(|h| !(h.command().len() == 2 && h.command()[0] == "CMD-SHELL")),
            "a health check that is not `CMD-SHELL`",
        ),
        (
            m.secrets().iter().any(|s| !whole_secret(s.value_from())),
            "secrets from SSM parameters or JSON keys",
        ),
        (task_size(td).is_none(), "no task-level cpu and memory"),
        (!td.volumes().is_empty(), "volumes"),
        (
            td.ephemeral_storage().is_some_and(|e| e.size_in_gib() > 20),
            "ephemeralStorage",
        ),
        (
            td.enable_fault_injection() == Some(true),
            "enableFaultInjection",
        ),
        (
            !m.mount_points().is_empty() || !m.volumes_from().is_empty(),
            "mountPoints/volumesFrom",
        ),
        (m.linux_parameters().is_some(), "linuxParameters"),
        (
            td.pid_mode().is_some_and(|p| p.as_str() == "task"),
            "pidMode",
        ),
        (any(&|c| !c.system_controls().is_empty()), "systemControls"),
        (
            any(&|c| !c.environment_files().is_empty()),
            "environmentFiles",
        ),
        (
            any(&|c| c.repository_credentials().is_some()),
            "repositoryCredentials",
        ),
        (
            any(&|c| !c.credential_specs().is_empty()),
            "credentialSpecs",
        ),
        (
            any(&|c| c.firelens_configuration().is_some()),
            "firelensConfiguration",
        ),
        (
            any(&|c| firelens_log(td, c).is_some()),
            "the awsfirelens log driver",
        ),
        (
            any(&|c| c.restart_policy().is_some_and(|r| r.enabled())),
            "restartPolicy",
        ),
        (
            any(&|c| c.interactive() == Some(true) || c.pseudo_terminal() == Some(true)),
            "interactive/pseudoTerminal",
        ),
        (
            any(&|c| {
                c.port_mappings()
                    .iter()
                    .any(|p| p.container_port_range().is_some())
            }),
            "containerPortRange",
        ),
        (
            any(&|c| {
                c.version_consistency()
                    .is_some_and(|v| v.as_str() == "disabled")
            }),
            "versionConsistency = disabled",
        ),
    ];
    r.extend(
        fields
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, f)| f.to_string()),
    );
    r
}

/// Task cpu and memory as numbers.
fn task_size(td: &TaskDefinition) -> Option<(u32, u32)> {
    let unit = |s: Option<&str>| crate::config::native::Units::Text(s?.to_string()).value();
    Some((unit(td.cpu())?, unit(td.memory())?))
}

fn toml_keys(td: &TaskDefinition, m: &ContainerDefinition, out: &mut Tasks) {
    out.keys
        .push(("image".into(), q(m.image().unwrap_or_default())));
    if let Some((cpu, memory)) = task_size(td) {
        out.keys.push(("cpu".into(), cpu.to_string()));
        out.keys.push(("memory".into(), memory.to_string()));
    }
    let arch = td
        .runtime_platform()
        .and_then(|r| r.cpu_architecture())
        .map(|a| a.as_str())
        .unwrap_or("X86_64");
    out.keys.push(("cpu_architecture".into(), q(arch)));
    let ports: Vec<String> = out.ports.iter().map(u16::to_string).collect();
    out.keys
        .push(("ports".into(), format!("[{}]", ports.join(", "))));
    if !m.command().is_empty() {
        out.keys.push(("command".into(), strings(m.command())));
    }
    if let Some(t) = m.stop_timeout() {
        out.keys.push(("stop_timeout".into(), t.to_string()));
    }
    if !m.ulimits().is_empty() {
        let items: Vec<String> = m
            .ulimits()
            .iter()
            .map(|u| {
                format!(
                    "{} = {{ soft = {}, hard = {} }}",
                    u.name().as_str(),
                    u.soft_limit(),
                    u.hard_limit()
                )
            })
            .collect();
        out.keys
            .push(("ulimits".into(), format!("{{ {} }}", items.join(", "))));
    }
    let mut env: Vec<(String, String)> = m
        .environment()
        .iter()
        .filter_map(|kv| Some((kv.name()?.to_string(), q(kv.value().unwrap_or_default()))))
        .collect();
    env.sort();
    out.environment = env;
    if let Some(h) = m.health_check() {
        let mut lines = vec![("command".to_string(), q(&h.command()[1]))];
        for (k, v) in [
            ("interval", h.interval()),
            ("timeout", h.timeout()),
            ("retries", h.retries()),
            ("start_period", h.start_period()),
        ] {
            if let Some(v) = v {
                lines.push((k.to_string(), number(f64::from(v))));
            }
        }
        out.health_check = lines;
    }
    out.secrets = m
        .secrets()
        .iter()
        .map(|s| (s.name().to_string(), s.value_from().to_string()))
        .collect();
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
fn checked_native(td: &TaskDefinition, main: &str, notes: &mut Vec<String>) -> Value {
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
                    .map(|p| match p.remove(j).get("containerPortRange") {
                        Some(_) => "containerPortRange",
                        None => "portMappings",
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
    let ports: Vec<Value> = c
        .port_mappings()
        .iter()
        .filter(|p| {
            p.container_port_range().is_some() || p.protocol().is_none_or(|x| x.as_str() == "tcp")
        })
        .map(|p| {
            let mut m = Map::new();
            match p.container_port_range() {
                // A range keeps its protocol (often UDP); with awsvpc ECS sets the host range.
                Some(r) => {
                    m.insert("containerPortRange".into(), json!(r));
                    let protocol = p.protocol().map_or("tcp", |x| x.as_str());
                    m.insert("protocol".into(), json!(protocol));
                }
                None => {
                    m.insert("containerPort".into(), json!(p.container_port()));
                    m.insert("protocol".into(), json!("tcp"));
                }
            }
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
