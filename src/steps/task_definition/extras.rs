//! What task-definition files add to a registered definition beyond the TOML keys —
//! `linuxParameters`, file volumes, `ephemeralStorage`, `enableFaultInjection`,
//! `environmentFiles`, `repositoryCredentials`, `credentialSpecs`, FireLens and port ranges —
//! as sent to RegisterTaskDefinition and as read back from DescribeTaskDefinition.

use anyhow::Result;
use aws_sdk_ecs::operation::register_task_definition::builders::RegisterTaskDefinitionFluentBuilder;
use aws_sdk_ecs::types::builders::ContainerDefinitionBuilder;
use aws_sdk_ecs::types::{
    ContainerDefinition, EfsAuthorizationConfig, EfsAuthorizationConfigIam, EfsTransitEncryption,
    EfsVolumeConfiguration, EphemeralStorage, KernelCapabilities, LinuxParameters, TaskDefinition,
    Volume,
};
use serde_json::{json, Value};

use crate::desired::{
    volume_fields, ContainerExtra, FileKeys, FileVolumeSpec, FirelensLogSpec, PortRangeSpec,
    TaskDefSpec,
};

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

/// `environmentFiles`, `repositoryCredentials`, `credentialSpecs`, `firelensConfiguration`,
/// port ranges and an `awsfirelens` log configuration (in place of the awslogs one set
/// before) of a container.
pub fn file_keys(
    mut b: ContainerDefinitionBuilder,
    k: &FileKeys,
) -> Result<ContainerDefinitionBuilder> {
    use aws_sdk_ecs::types::{
        ApplicationProtocol, EnvironmentFile, EnvironmentFileType, FirelensConfiguration,
        FirelensConfigurationType, LogConfiguration, LogDriver, PortMapping, RepositoryCredentials,
        Secret, TransportProtocol,
    };
    for (kind, value) in &k.environment_files {
        b = b.environment_files(
            EnvironmentFile::builder()
                .value(value)
                .r#type(EnvironmentFileType::from(kind.as_str()))
                .build()?,
        );
    }
    if let Some(p) = &k.repository_credentials {
        b = b.repository_credentials(
            RepositoryCredentials::builder()
                .credentials_parameter(p)
                .build()?,
        );
    }
    for spec in &k.credential_specs {
        b = b.credential_specs(spec);
    }
    if let Some((kind, options)) = &k.firelens {
        b = b.firelens_configuration(
            FirelensConfiguration::builder()
                .r#type(FirelensConfigurationType::from(kind.as_str()))
                .set_options((!options.is_empty()).then(|| options.clone().into_iter().collect()))
                .build()?,
        );
    }
    for p in &k.port_ranges {
        b = b.port_mappings(
            PortMapping::builder()
                .container_port_range(&p.range)
                .protocol(TransportProtocol::from(p.protocol.as_str()))
                .set_name(p.name.clone())
                .set_app_protocol(p.app_protocol.as_deref().map(ApplicationProtocol::from))
                .build(),
        );
    }
    if let Some(l) = &k.firelens_log {
        let mut secrets = Vec::new();
        for (name, value_from) in &l.secret_options {
            secrets.push(
                Secret::builder()
                    .name(name)
                    .value_from(value_from)
                    .build()?,
            );
        }
        b = b.log_configuration(
            LogConfiguration::builder()
                .log_driver(LogDriver::Awsfirelens)
                .set_options(
                    (!l.options.is_empty()).then(|| l.options.clone().into_iter().collect()),
                )
                .set_secret_options((!secrets.is_empty()).then_some(secrets))
                .build()?,
        );
    }
    Ok(b)
}

/// The observed settings of [`file_keys`].
pub fn observed_keys(c: &ContainerDefinition) -> FileKeys {
    let sorted = |m: Option<&std::collections::HashMap<String, String>>| {
        m.map(|m| m.clone().into_iter().collect())
            .unwrap_or_default()
    };
    let log = c
        .log_configuration()
        .filter(|l| l.log_driver() == &aws_sdk_ecs::types::LogDriver::Awsfirelens);
    FileKeys {
        environment_files: c
            .environment_files()
            .iter()
            .map(|f| (f.r#type().as_str().to_string(), f.value().to_string()))
            .collect(),
        repository_credentials: c
            .repository_credentials()
            .map(|r| r.credentials_parameter().to_string()),
        credential_specs: c.credential_specs().to_vec(),
        firelens: c
            .firelens_configuration()
            .map(|f| (f.r#type().as_str().to_string(), sorted(f.options()))),
        firelens_log: log.map(|l| FirelensLogSpec {
            options: sorted(l.options()),
            secret_options: l
                .secret_options()
                .iter()
                .map(|s| (s.name().to_string(), s.value_from().to_string()))
                .collect(),
        }),
        port_ranges: c
            .port_mappings()
            .iter()
            .filter_map(|p| {
                Some(PortRangeSpec {
                    range: p.container_port_range()?.to_string(),
                    protocol: p.protocol().map_or("tcp", |x| x.as_str()).to_string(),
                    name: p.name().map(str::to_string),
                    app_protocol: p.app_protocol().map(|a| a.as_str().to_string()),
                })
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// What is registered reads back as the same settings, or every `up` would register.
    #[test]
    fn file_keys_read_back_as_registered() {
        let keys = FileKeys {
            environment_files: vec![
                ("s3".into(), "arn:aws:s3:::b/one.env".into()),
                ("s3".into(), "arn:aws:s3:::b/a/two.env".into()),
            ],
            repository_credentials: Some("arn:aws:secretsmanager:r:1:secret:reg-AbCdEf".into()),
            credential_specs: vec![
                "credentialspecdomainless:arn:aws:s3:::gmsa/webapp01.json".into()
            ],
            firelens: Some((
                "fluentbit".into(),
                BTreeMap::from([("enable-ecs-log-metadata".into(), "true".into())]),
            )),
            firelens_log: Some(FirelensLogSpec {
                options: BTreeMap::from([("Name".into(), "firehose".into())]),
                secret_options: vec![("apikey".into(), "arn:aws:ssm:r:1:parameter/k".into())],
            }),
            port_ranges: vec![PortRangeSpec {
                range: "8000-8010".into(),
                protocol: "udp".into(),
                name: Some("media".into()),
                app_protocol: None,
            }],
        };
        let b = ContainerDefinition::builder().name("app").image("x");
        let c = file_keys(b, &keys).unwrap().build();
        assert_eq!(observed_keys(&c), keys);
        assert_eq!(
            observed_keys(&ContainerDefinition::builder().build()),
            FileKeys::default()
        );
    }
}
