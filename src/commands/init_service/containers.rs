//! The live task definition → the service's TOML container keys, or (when those cannot hold
//! it) a native task-definition file. Fields neither can hold are listed, never dropped
//! silently. The native file itself is built in `native_file.rs`.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{ContainerDefinition, TaskDefinition};
use serde_json::Value;

use super::native_file::{checked_native, firelens_log, log_router};
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
/// `interactive`, `pseudoTerminal`, port ranges and UDP ports go into the native file (see
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
        // A UDP port is no TCP port of the service (nor a target of its load balancer); it
        // makes the native file necessary (`native_reasons`), which keeps it.
        if udp(p) {
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
        (m.port_mappings().iter().any(udp), "a UDP port"),
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

/// A single-port mapping whose protocol is not TCP (that is, UDP): the TOML `ports` are TCP
/// ports, so only a native file holds it. A port range is `containerPortRange`'s reason.
fn udp(p: &aws_sdk_ecs::types::PortMapping) -> bool {
    p.container_port_range().is_none() && p.protocol().is_some_and(|x| x.as_str() != "tcp")
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
