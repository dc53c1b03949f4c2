//! What task-definition files add to a registered definition beyond the TOML keys —
//! `linuxParameters`, file volumes, `ephemeralStorage`, `enableFaultInjection` — as sent
//! to RegisterTaskDefinition and as read back from DescribeTaskDefinition.

use anyhow::Result;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::builders::ContainerDefinitionBuilder;
use aws_sdk_ecs::types::{
    ContainerDefinition, EfsAuthorizationConfig, EfsAuthorizationConfigIam, EfsTransitEncryption,
    EfsVolumeConfiguration, EphemeralStorage, KernelCapabilities, LinuxParameters, TaskDefinition,
    Volume,
};
use serde_json::{json, Value};

use crate::desired::{volume_fields, ContainerExtra, FileVolumeSpec, TaskDefSpec};

/// Fargate's task storage without `ephemeralStorage` (GiB): reported, it means unset.
const DEFAULT_STORAGE_GIB: i32 = 20;

/// `linuxParameters` of a container, when it sets anything.
pub fn linux_parameters(
    b: ContainerDefinitionBuilder,
    x: &ContainerExtra,
) -> ContainerDefinitionBuilder {
    let (add, drop) = &x.capabilities;
    if x.init_process_enabled.is_none() && add.is_empty() && drop.is_empty() {
        return b;
    }
    let caps = (!add.is_empty() || !drop.is_empty()).then(|| {
        KernelCapabilities::builder()
            .set_add(Some(add.clone()))
            .set_drop(Some(drop.clone()))
            .build()
    });
    b.linux_parameters(
        LinuxParameters::builder()
            .set_init_process_enabled(x.init_process_enabled)
            .set_capabilities(caps)
            .build(),
    )
}

/// `pseudoTerminal`, `interactive`, `restartPolicy`, `versionConsistency` and
/// `systemControls` of a container, as the file gives them.
pub fn container_level(
    mut b: ContainerDefinitionBuilder,
    x: &ContainerExtra,
) -> ContainerDefinitionBuilder {
    b = b
        .set_pseudo_terminal(x.pseudo_terminal)
        .set_interactive(x.interactive)
        .set_version_consistency(
            x.version_consistency
                .as_deref()
                .map(aws_sdk_ecs::types::VersionConsistency::from),
        );
    if let Some((enabled, codes, period)) = &x.restart_policy {
        b = b.restart_policy(
            aws_sdk_ecs::types::ContainerRestartPolicy::builder()
                .enabled(*enabled)
                .set_ignored_exit_codes((!codes.is_empty()).then(|| codes.clone()))
                .set_restart_attempt_period(*period)
                .build()
                .expect("enabled is set"),
        );
    }
    for (namespace, value) in &x.system_controls {
        b = b.system_controls(
            aws_sdk_ecs::types::SystemControl::builder()
                .namespace(namespace)
                .value(value)
                .build(),
        );
    }
    b
}

/// The observed `linuxParameters` in `ContainerExtra`'s terms.
pub fn observed_linux(c: &ContainerDefinition) -> (Option<bool>, (Vec<String>, Vec<String>)) {
    let Some(lp) = c.linux_parameters() else {
        return (None, Default::default());
    };
    let caps = lp.capabilities();
    (
        lp.init_process_enabled(),
        (
            caps.map(|c| c.add().to_vec()).unwrap_or_default(),
            caps.map(|c| c.drop().to_vec()).unwrap_or_default(),
        ),
    )
}

/// The file's volumes, `ephemeralStorage` and `enableFaultInjection`, added to the request.
pub fn task_level(
    mut req: RegisterTaskDefinitionFluentBuilder,
    s: &TaskDefSpec,
) -> Result<RegisterTaskDefinitionFluentBuilder> {
    for v in &s.file_volumes {
        req = req.volumes(volume(v)?);
    }
    if let Some(gib) = s.ephemeral_storage {
        req = req.ephemeral_storage(EphemeralStorage::builder().size_in_gib(gib as i32).build());
    }
    if s.fault_injection {
        req = req.enable_fault_injection(true);
    }
    if let Some(m) = &s.pid_mode {
        req = req.pid_mode(aws_sdk_ecs::types::PidMode::from(m.as_str()));
    }
    Ok(req)
}

fn volume(v: &FileVolumeSpec) -> Result<Volume> {
    let on = |b: bool| if b { "ENABLED" } else { "DISABLED" };
    let efs = match &v.efs {
        None => None,
        Some(e) => {
            let auth = (e.access_point_id.is_some() || e.iam).then(|| {
                EfsAuthorizationConfig::builder()
                    .set_access_point_id(e.access_point_id.clone())
                    .iam(EfsAuthorizationConfigIam::from(on(e.iam)))
                    .build()
            });
            Some(
                EfsVolumeConfiguration::builder()
                    .file_system_id(&e.file_system_id)
                    .set_root_directory(e.root_directory.clone())
                    .transit_encryption(EfsTransitEncryption::from(on(e.transit_encryption)))
                    .set_transit_encryption_port(e.transit_encryption_port.map(|p| p as i32))
                    .set_authorization_config(auth)
                    .build()?,
            )
        }
    };
    Ok(Volume::builder()
        .name(&v.name)
        .set_efs_volume_configuration(efs)
        .build())
}

/// Every volume of a registered definition in `volume_fields`' normal form.
pub fn observed_volumes(td: &TaskDefinition) -> Value {
    td.volumes()
        .iter()
        .map(|v| {
            let efs = v.efs_volume_configuration();
            let auth = efs.and_then(|e| e.authorization_config());
            volume_fields(
                v.name().unwrap_or_default(),
                efs.map(|e| e.file_system_id()),
                auth.and_then(|a| a.access_point_id()),
                efs.and_then(|e| e.transit_encryption()) == Some(&EfsTransitEncryption::Enabled),
                auth.and_then(|a| a.iam()) == Some(&EfsAuthorizationConfigIam::Enabled),
                efs.and_then(|e| e.root_directory()),
                efs.and_then(|e| e.transit_encryption_port())
                    .and_then(|p| u32::try_from(p).ok()),
            )
        })
        .collect()
}

/// `ephemeral_storage` and, when the answer says it, `fault_injection`, into `fields`.
pub fn observed_task_level(td: &TaskDefinition, fields: &mut crate::desired::Fields) {
    let storage = td
        .ephemeral_storage()
        .map(|e| e.size_in_gib())
        .filter(|g| *g != DEFAULT_STORAGE_GIB);
    fields.insert("ephemeral_storage".into(), json!(storage));
    fields.insert("pid_mode".into(), json!(td.pid_mode().map(|m| m.as_str())));
    // An emulator that drops the flag (moto) does not report it: then it is not compared.
    if let Some(f) = td.enable_fault_injection() {
        fields.insert("fault_injection".into(), json!(f.then_some(true)));
    }
}
