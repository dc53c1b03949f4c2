//! Task definitions: one family per service. A new revision is registered only when the
//! rendered definition differs from the latest ACTIVE one; `down` deregisters every ACTIVE
//! revision of the family.

use anyhow::Result;
use aws_sdk_ecs::types::{
    ApplicationProtocol, Compatibility, ContainerCondition, ContainerDefinition,
    ContainerDependency, CpuArchitecture, EfsAuthorizationConfig, EfsAuthorizationConfigIam,
    EfsTransitEncryption, EfsVolumeConfiguration, HealthCheck, KeyValuePair, MountPoint,
    NetworkMode, OsFamily, PortMapping, RuntimePlatform, Secret, TaskDefinition,
    TaskDefinitionFamilyStatus, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol,
    Ulimit, UlimitName, Volume,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::tags::owned_tags;
use super::support::{create_once, ecs_task, object_fields, revisions};
use super::Ctx;

mod extras;
use crate::aws::{answer, err, err_classified};
use crate::desired::TaskDefSpec;
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, TAG_APP, TAG_RESOURCE};
use crate::plan::{diff_fields, Observed};

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut families: Vec<String> = desired.iter().map(|r| r.name.clone()).collect();
    // Families of services removed from the config: found by the app-name prefix and
    // confirmed by the ownership tag below.
    let call = ctx
        .aws
        .ecs
        .list_task_definition_families()
        .family_prefix(format!("{}-", ctx.app));
    // Every page: AWS answers at most 100 families per call ("ListTaskDefinitionFamilies
    // returns up to 100 results and a nextToken value"), and a family on a later page would
    // be an orphan never deleted.
    let call = call
        .status(TaskDefinitionFamilyStatus::Active)
        .into_paginator();
    let listed: Vec<String> = answer(call.items().send().try_collect()).await?;
    for f in listed {
        if !families.contains(&f) {
            families.push(f);
        }
    }
    let found = try_join_all(families.iter().map(|f| latest(ctx, f))).await?;
    Ok(found.into_iter().flatten().collect())
}

/// The latest ACTIVE revision of `family`, if it exists and this app owns it.
async fn latest(ctx: &Ctx, family: &str) -> Result<Option<Observed>> {
    let out = ctx
        .aws
        .ecs
        .describe_task_definition()
        .task_definition(family)
        .include(TaskDefinitionField::Tags)
        .send()
        .await;
    let out = match out {
        Ok(o) => o,
        // ECS answers ClientException "Unable to describe task definition." for an unknown
        // family (moto: ClientException too).
        Err(e) if crate::aws::code(&e) == Some("ClientException") => return Ok(None),
        Err(e) => return Err(err(e)),
    };
    let Some(td) = out.task_definition() else {
        return Ok(None);
    };
    if td.status() != Some(&TaskDefinitionStatus::Active) {
        return Ok(None);
    }
    let tag = |k: &str| {
        out.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
    };
    if tag(TAG_APP) != Some(ctx.app.as_str()) {
        return Ok(None);
    }
    let Some(id) = tag(TAG_RESOURCE).and_then(ResourceId::parse) else {
        return Ok(None);
    };
    let arn = td.task_definition_arn().unwrap_or_default();
    Ok(Some(Observed {
        id,
        name: family.to_string(),
        outputs: Outputs::with_id(format!("{family}:{}", td.revision())).arn(arn),
        fields: fields_of(td),
        state: format!("revision {}", td.revision()),
        details: json!({ "revision": td.revision(), "arn": arn }),
    }))
}

/// The normalised fields of a registered definition, in the shape of `Spec::fields`.
pub fn fields_of(td: &TaskDefinition) -> Fields {
    let runtime = td.runtime_platform();
    let containers: Vec<Value> = td
        .container_definitions()
        .iter()
        .map(|c| {
            let mut env: Vec<(&str, &str)> = c
                .environment()
                .iter()
                .map(|kv| (kv.name().unwrap_or(""), kv.value().unwrap_or("")))
                .collect();
            env.sort();
            let mut secrets: Vec<(&str, &str)> = c
                .secrets()
                .iter()
                .map(|s| (s.name(), s.value_from()))
                .collect();
            secrets.sort();
            let log = c.log_configuration().map(ecs_task::log_fields);
            let mut ulimits: Vec<Value> = c
                .ulimits()
                .iter()
                .map(|u| json!({"name": u.name().as_str(), "soft": u.soft_limit(), "hard": u.hard_limit()}))
                .collect();
            ulimits.sort_by_key(|u| u["name"].to_string());
            let linux = extras::observed_linux(c);
            let extra = crate::desired::ContainerExtra {
                entry_point: Some(c.entry_point().to_vec()),
                working_directory: c.working_directory().map(str::to_string),
                user: c.user().map(str::to_string),
                readonly_root_filesystem: c.readonly_root_filesystem(),
                cpu: u32::try_from(c.cpu()).ok(),
                memory: c.memory().and_then(|m| u32::try_from(m).ok()),
                memory_reservation: c.memory_reservation().and_then(|m| u32::try_from(m).ok()),
                docker_labels: c
                    .docker_labels()
                    .map(|l| l.clone().into_iter().collect())
                    .unwrap_or_default(),
                start_timeout: c.start_timeout().and_then(|t| u32::try_from(t).ok()),
                // In `port_mappings` below.
                app_protocols: Default::default(),
                // In `port_mappings` below.
                protocols: Default::default(),
                volumes_from: c
                    .volumes_from()
                    .iter()
                    .map(|v| {
                        let source = v.source_container().unwrap_or_default().to_string();
                        (source, v.read_only().unwrap_or(false))
                    })
                    .collect(),
                pseudo_terminal: c.pseudo_terminal(),
                interactive: c.interactive(),
                restart_policy: c.restart_policy().map(|r| {
                    (
                        r.enabled(),
                        r.ignored_exit_codes().to_vec(),
                        r.restart_attempt_period(),
                    )
                }),
                version_consistency: c.version_consistency().map(|v| v.as_str().to_string()),
                system_controls: c
                    .system_controls()
                    .iter()
                    .map(|x| {
                        let n = x.namespace().unwrap_or_default().to_string();
                        (n, x.value().unwrap_or_default().to_string())
                    })
                    .collect(),
                init_process_enabled: linux.0,
                capabilities: linux.1,
                keys: extras::observed_keys(c),
            };
            extra.merged_into(json!({
                "name": c.name(),
                "image": c.image(),
                "essential": c.essential().unwrap_or(true),
                // Port ranges are in `port_ranges` (`extras::observed_keys`).
                "port_mappings": c.port_mappings().iter().filter(|p| p.container_port_range().is_none()).map(|p| json!({
                    "container_port": p.container_port(),
                    "protocol": p.protocol().map_or("tcp", |x| x.as_str()),
                    "name": p.name(),
                    "app_protocol": p.app_protocol().map(|a| a.as_str()),
                })).collect::<Vec<_>>(),
                "health_check": c.health_check().map(|h| json!({
                    "command": h.command(),
                    // ECS fills in its defaults when a field was not sent.
                    "interval": h.interval().unwrap_or(30),
                    "timeout": h.timeout().unwrap_or(5),
                    "retries": h.retries().unwrap_or(3),
                    "start_period": h.start_period().unwrap_or(0),
                })),
                "stop_timeout": c.stop_timeout(),
                "ulimits": ulimits,
                "depends_on": c.depends_on().iter().map(|d| json!({
                    "container": d.container_name(),
                    "condition": d.condition().as_str(),
                })).collect::<Vec<_>>(),
                "environment": env.iter().map(|(k, v)| json!({"name": k, "value": v})).collect::<Vec<_>>(),
                "secrets": secrets.iter().map(|(k, v)| json!({"name": k, "value_from": v})).collect::<Vec<_>>(),
                "mount_points": c.mount_points().iter().map(|m| json!({
                    "source_volume": m.source_volume(),
                    "container_path": m.container_path(),
                    "read_only": m.read_only().unwrap_or(false),
                })).collect::<Vec<_>>(),
                "command": (!c.command().is_empty()).then(|| c.command().to_vec()),
                "log_configuration": log,
            }))
        })
        .collect();
    let v = json!({
        "network_mode": td.network_mode().map(|m| m.as_str()),
        "requires_compatibilities": td.requires_compatibilities().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        "cpu": td.cpu(),
        "memory": td.memory(),
        "cpu_architecture": runtime.and_then(|r| r.cpu_architecture()).map_or("X86_64", |a| a.as_str()),
        "operating_system_family": runtime.and_then(|r| r.operating_system_family()).map_or("LINUX", |o| o.as_str()),
        "execution_role_arn": td.execution_role_arn(),
        "task_role_arn": td.task_role_arn(),
        "containers": containers,
        "volumes": extras::observed_volumes(td),
    });
    let mut fields = object_fields(v);
    extras::observed_task_level(td, &mut fields);
    fields
}

super::support::updates::create_and_update_by!(
    /// Any difference means a new revision; earlier revisions stay ACTIVE for rollback.
    register(TaskDefSpec)
);

async fn register(ctx: &Ctx, r: &Resource, s: &TaskDefSpec, res: &dyn Resolve) -> Result<Outputs> {
    let mut req = ctx
        .aws
        .ecs
        .register_task_definition()
        .family(&r.name)
        .network_mode(NetworkMode::Awsvpc)
        .requires_compatibilities(Compatibility::Fargate)
        .cpu(s.cpu.to_string())
        .memory(s.memory.to_string())
        .runtime_platform(
            RuntimePlatform::builder()
                .cpu_architecture(CpuArchitecture::from(s.cpu_architecture.as_str()))
                .operating_system_family(OsFamily::Linux)
                .build(),
        )
        .execution_role_arn(res.need(&s.execution_role)?);
    if let Some(t) = &s.task_role {
        req = req.task_role_arn(res.need(t)?);
    }
    for c in &s.containers {
        let mut b = ContainerDefinition::builder()
            .name(&c.name)
            .image(res.need(&c.image)?)
            .essential(c.essential)
            .set_stop_timeout(c.stop_timeout.map(|t| t as i32))
            .log_configuration(ecs_task::awslogs(
                &c.log_group,
                &c.log_region,
                &c.log_stream_prefix,
            )?);
        for p in &c.ports {
            b = b.port_mappings(
                PortMapping::builder()
                    .container_port(i32::from(*p))
                    .protocol(
                        c.extra
                            .protocols
                            .get(p)
                            .map_or(TransportProtocol::Tcp, |x| {
                                TransportProtocol::from(x.as_str())
                            }),
                    )
                    .set_name(c.port_names.get(p).cloned())
                    .set_app_protocol(
                        c.extra
                            .app_protocols
                            .get(p)
                            .map(|a| ApplicationProtocol::from(a.as_str())),
                    )
                    .build(),
            );
        }
        if let Some(h) = &c.health_check {
            b = b.health_check(
                HealthCheck::builder()
                    .set_command(Some(h.command.clone()))
                    .interval(h.interval as i32)
                    .timeout(h.timeout as i32)
                    .retries(h.retries as i32)
                    .start_period(h.start_period as i32)
                    .build()?,
            );
        }
        for (name, (soft, hard)) in &c.ulimits {
            b = b.ulimits(
                Ulimit::builder()
                    .name(UlimitName::from(name.as_str()))
                    .soft_limit(*soft as i32)
                    .hard_limit(*hard as i32)
                    .build()?,
            );
        }
        for (container, condition) in &c.depends_on {
            b = b.depends_on(
                ContainerDependency::builder()
                    .container_name(container)
                    .condition(ContainerCondition::from(condition.as_str()))
                    .build()?,
            );
        }
        for (k, v) in &c.environment {
            b = b.environment(KeyValuePair::builder().name(k).value(res.need(v)?).build());
        }
        for (k, v) in &c.secrets {
            b = b.secrets(Secret::builder().name(k).value_from(res.need(v)?).build()?);
        }
        for m in &c.mount_points {
            b = b.mount_points(
                MountPoint::builder()
                    .source_volume(&m.volume)
                    .container_path(&m.container_path)
                    .read_only(m.read_only)
                    .build(),
            );
        }
        if let Some(cmd) = &c.command {
            b = b.set_command(Some(cmd.clone()));
        }
        let x = &c.extra;
        b = b
            .set_entry_point(x.entry_point.clone())
            .set_working_directory(x.working_directory.clone())
            .set_user(x.user.clone())
            .set_readonly_root_filesystem(x.readonly_root_filesystem)
            .set_cpu(x.cpu.map(|v| v as i32))
            .set_memory(x.memory.map(|v| v as i32))
            .set_memory_reservation(x.memory_reservation.map(|v| v as i32))
            .set_start_timeout(x.start_timeout.map(|v| v as i32));
        b = extras::linux_parameters(b, x);
        b = extras::container_level(b, x);
        b = extras::file_keys(b, &x.keys)?;
        for (source, read_only) in &x.volumes_from {
            b = b.volumes_from(
                aws_sdk_ecs::types::VolumeFrom::builder()
                    .source_container(source)
                    .read_only(*read_only)
                    .build(),
            );
        }
        if !x.docker_labels.is_empty() {
            b = b.set_docker_labels(Some(x.docker_labels.clone().into_iter().collect()));
        }
        req = req.container_definitions(b.build());
    }
    for v in &s.volumes {
        // Through an access point the root directory must be `/` (the access point's
        // own root applies); TLS in transit and IAM authorization always on.
        req = req.volumes(
            Volume::builder()
                .name(&v.name)
                .efs_volume_configuration(
                    EfsVolumeConfiguration::builder()
                        .file_system_id(res.need(&v.file_system)?)
                        .transit_encryption(EfsTransitEncryption::Enabled)
                        .authorization_config(
                            EfsAuthorizationConfig::builder()
                                .access_point_id(res.need(&v.access_point)?)
                                .iam(EfsAuthorizationConfigIam::Enabled)
                                .build(),
                        )
                        .build()?,
                )
                .build(),
        );
    }
    req = extras::task_level(req, s)?;
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    // RegisterTaskDefinition takes no client token: an answer lost after ECS registered the
    // revision, retried by the SDK, would register a second one. So it is sent once, and
    // after a transient failure the family's latest revision is used when it already is
    // exactly this definition.
    let want = r.spec.fields(res);
    let send = || {
        let req = req.clone();
        async move {
            let out = req
                .customize()
                .config_override(
                    aws_sdk_ecs::config::Builder::default()
                        .retry_config(aws_config::retry::RetryConfig::disabled()),
                )
                .send()
                .await
                .map_err(err_classified)?;
            let td = out.task_definition().ok_or_else(|| {
                anyhow::anyhow!("RegisterTaskDefinition returned no task definition")
            })?;
            Ok(Outputs::with_id(format!("{}:{}", r.name, td.revision()))
                .arn(td.task_definition_arn().unwrap_or_default()))
        }
    };
    let find = || async {
        Ok(latest(ctx, &r.name)
            .await?
            .filter(|o| o.id == r.id && diff_fields(&o.fields, &want).is_empty())
            .map(|o| o.outputs))
    };
    create_once(ctx, &r.id, send, find).await
}

/// Deregister every ACTIVE revision of the family (not just the latest).
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    revisions::deregister_all(ctx, &o.name).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{ContainerSpec, TaskDefSpec, Val};
    use aws_sdk_ecs::types::{LogConfiguration, LogDriver};
    use std::collections::BTreeMap;

    /// The observed side must reproduce the desired side exactly, or every `up` would
    /// register a new revision.
    #[test]
    fn registered_definition_diffs_to_nothing() {
        let spec = TaskDefSpec {
            cpu: 512,
            memory: 1024,
            cpu_architecture: "ARM64".into(),
            execution_role: Val::lit("arn:aws:iam::1:role/exec"),
            task_role: None,
            containers: vec![ContainerSpec {
                name: "web".into(),
                image: Val::lit("nginx:latest"),
                essential: true,
                port_names: BTreeMap::from([(80, "web".to_string())]),
                health_check: Some(crate::desired::HealthCheckCmd {
                    command: vec![
                        "CMD-SHELL".into(),
                        "curl -f http://localhost/ || exit 1".into(),
                    ],
                    interval: 30,
                    timeout: 5,
                    retries: 3,
                    start_period: 10,
                }),
                stop_timeout: Some(20),
                ulimits: BTreeMap::from([("nofile".to_string(), (1024, 4096))]),
                depends_on: vec![("log-router".into(), "START".into())],
                ports: vec![80],
                environment: vec![("A".into(), Val::lit("1")), ("B".into(), Val::lit("2"))],
                secrets: vec![(
                    "DB_PASSWORD".into(),
                    Val::lit("arn:aws:secretsmanager:ap-northeast-1:1:secret:db-AbCdEf:password::"),
                )],
                mount_points: vec![crate::desired::MountPointSpec {
                    volume: "content".into(),
                    container_path: "/var/www/html/wp-content".into(),
                    read_only: false,
                }],
                command: None,
                log_group: "/ecs/demo".into(),
                log_region: "ap-northeast-1".into(),
                log_stream_prefix: "web".into(),
                extra: crate::desired::ContainerExtra {
                    entry_point: Some(vec!["/entry.sh".into()]),
                    user: Some("101".into()),
                    memory_reservation: Some(256),
                    docker_labels: BTreeMap::from([("team".to_string(), "web".to_string())]),
                    init_process_enabled: Some(true),
                    capabilities: (vec!["SYS_PTRACE".into()], vec!["NET_RAW".into()]),
                    pseudo_terminal: Some(true),
                    restart_policy: Some((true, vec![0], Some(60))),
                    version_consistency: Some("disabled".into()),
                    system_controls: vec![("net.core.somaxconn".into(), "1024".into())],
                    ..Default::default()
                },
            }],
            volumes: vec![crate::desired::EfsVolumeSpec {
                name: "content".into(),
                file_system: Val::lit("fs-1234"),
                access_point: Val::lit("fsap-1234"),
            }],
            file_volumes: vec![
                crate::desired::FileVolumeSpec {
                    name: "scratch".into(),
                    efs: None,
                },
                crate::desired::FileVolumeSpec {
                    name: "shared".into(),
                    efs: Some(crate::desired::FileEfsSpec {
                        file_system_id: "fs-9999".into(),
                        root_directory: Some("/data".into()),
                        ..Default::default()
                    }),
                },
            ],
            ephemeral_storage: Some(50),
            fault_injection: true,
            pid_mode: Some("task".into()),
            after: vec![],
        };
        let container = ContainerDefinition::builder()
            .name("web")
            .image("nginx:latest")
            .essential(true)
            // What ECS reports for a container given no CPU share, and the extras.
            .cpu(0)
            .entry_point("/entry.sh")
            .user("101")
            .memory_reservation(256)
            .docker_labels("team", "web")
            .port_mappings(
                PortMapping::builder()
                    .container_port(80)
                    .protocol(TransportProtocol::Tcp)
                    .name("web")
                    .build(),
            )
            .health_check(
                HealthCheck::builder()
                    .command("CMD-SHELL")
                    .command("curl -f http://localhost/ || exit 1")
                    .interval(30)
                    .timeout(5)
                    .retries(3)
                    .start_period(10)
                    .build()
                    .unwrap(),
            )
            .stop_timeout(20)
            .ulimits(
                Ulimit::builder()
                    .name(UlimitName::Nofile)
                    .soft_limit(1024)
                    .hard_limit(4096)
                    .build()
                    .unwrap(),
            )
            .depends_on(
                ContainerDependency::builder()
                    .container_name("log-router")
                    .condition(ContainerCondition::Start)
                    .build()
                    .unwrap(),
            )
            .environment(KeyValuePair::builder().name("B").value("2").build())
            .environment(KeyValuePair::builder().name("A").value("1").build())
            .secrets(
                Secret::builder()
                    .name("DB_PASSWORD")
                    .value_from(
                        "arn:aws:secretsmanager:ap-northeast-1:1:secret:db-AbCdEf:password::",
                    )
                    .build()
                    .unwrap(),
            )
            .mount_points(
                MountPoint::builder()
                    .source_volume("content")
                    .container_path("/var/www/html/wp-content")
                    .read_only(false)
                    .build(),
            )
            .log_configuration(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", "/ecs/demo")
                    .options("awslogs-region", "ap-northeast-1")
                    .options("awslogs-stream-prefix", "web")
                    .build()
                    .unwrap(),
            )
            .pseudo_terminal(true)
            .restart_policy(
                aws_sdk_ecs::types::ContainerRestartPolicy::builder()
                    .enabled(true)
                    .ignored_exit_codes(0)
                    .restart_attempt_period(60)
                    .build()
                    .unwrap(),
            )
            .version_consistency(aws_sdk_ecs::types::VersionConsistency::Disabled)
            .system_controls(
                aws_sdk_ecs::types::SystemControl::builder()
                    .namespace("net.core.somaxconn")
                    .value("1024")
                    .build(),
            )
            .linux_parameters(
                aws_sdk_ecs::types::LinuxParameters::builder()
                    .init_process_enabled(true)
                    .capabilities(
                        aws_sdk_ecs::types::KernelCapabilities::builder()
                            .add("SYS_PTRACE")
                            .drop("NET_RAW")
                            .build(),
                    )
                    .build(),
            )
            .build();
        let td = TaskDefinition::builder()
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("512")
            .memory("1024")
            .runtime_platform(
                RuntimePlatform::builder()
                    .cpu_architecture(CpuArchitecture::Arm64)
                    .operating_system_family(OsFamily::Linux)
                    .build(),
            )
            .execution_role_arn("arn:aws:iam::1:role/exec")
            .container_definitions(container)
            .volumes(
                Volume::builder()
                    .name("content")
                    .efs_volume_configuration(
                        EfsVolumeConfiguration::builder()
                            .file_system_id("fs-1234")
                            .transit_encryption(EfsTransitEncryption::Enabled)
                            .authorization_config(
                                EfsAuthorizationConfig::builder()
                                    .access_point_id("fsap-1234")
                                    .iam(EfsAuthorizationConfigIam::Enabled)
                                    .build(),
                            )
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .volumes(Volume::builder().name("scratch").build())
            .volumes(
                Volume::builder()
                    .name("shared")
                    .efs_volume_configuration(
                        EfsVolumeConfiguration::builder()
                            .file_system_id("fs-9999")
                            .root_directory("/data")
                            .transit_encryption(EfsTransitEncryption::Disabled)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
            .ephemeral_storage(
                aws_sdk_ecs::types::EphemeralStorage::builder()
                    .size_in_gib(50)
                    .build(),
            )
            .enable_fault_injection(true)
            .pid_mode(aws_sdk_ecs::types::PidMode::Task)
            .build();
        let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        let want = Spec::TaskDefinition(spec).fields(&none);
        assert_eq!(crate::plan::diff_fields(&fields_of(&td), &want), vec![]);
    }
}
