//! The rules RegisterTaskDefinition applies to a Fargate task definition, checked on the
//! typed definition: the task size and platform, ephemeral storage, containers, volumes
//! and `linuxParameters`. The keys that need more than registering are in `keys.rs`.

use super::{NativeContainer, NativeTaskDef};

/// A key ECS takes from a fixed list: when `value` is given and not one of `allowed`,
/// ``"`path` is `value`; ECS takes {takes}"``.
pub(super) fn one_of(
    path: &str,
    value: Option<&str>,
    allowed: &[&str],
    takes: &str,
    errors: &mut Vec<String>,
) {
    if let Some(v) = value.filter(|v| !allowed.contains(v)) {
        errors.push(format!("`{path}` is `{v}`; ECS takes {takes}"));
    }
}

pub(super) fn check(def: &NativeTaskDef, errors: &mut Vec<String>) {
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
        one_of(
            &format!("{at}.versionConsistency"),
            c.version_consistency.as_deref(),
            &["enabled", "disabled"],
            "`enabled` or `disabled`",
            errors,
        );
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
            one_of(
                &format!("{at}.portMappings[{j}].appProtocol"),
                p.app_protocol.as_deref(),
                &["http", "http2", "grpc"],
                "`http`, `http2` or `grpc`",
                errors,
            );
            one_of(
                &format!("{at}.portMappings[{j}].protocol"),
                p.protocol.as_deref(),
                &["tcp", "udp"],
                "`tcp` or `udp`",
                errors,
            );
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
            let allowed = ["ENABLED", "DISABLED"];
            one_of(
                &format!("{at}.{k}"),
                v,
                &allowed,
                "ENABLED or DISABLED",
                errors,
            );
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
