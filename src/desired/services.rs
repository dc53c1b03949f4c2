//! The ECS services of the desired state: per service its security group, task role,
//! built image, task definition (TOML or a task-definition file), the service with its
//! Service Connect settings, and autoscaling.

use std::collections::BTreeMap;

use super::env::Env;
use super::iam;
use super::ids::*;
use super::load_balancer::LbWiring;
use super::network::Net;
use super::resource::{Ref, ResourceId, Val, UNKNOWN};
use super::spec::*;
use super::stores::{self, Wiring};
use crate::config::{Config, Image, SubnetKind};

/// A service's resources: its security group and task role (unless imported), the image
/// it builds, its task definition, the service, and its autoscaling.
pub fn build(
    c: &Config,
    env: &Env,
    net: &Net,
    lb: &LbWiring,
    key: &str,
    wiring: Wiring,
    out: &mut Vec<Resource>,
) {
    let s = &c.services[key];
    if s.security_groups.is_empty() {
        out.push(service_sg(c, env, net, lb, key));
    }
    let security_groups = stores::service_groups(c, env, key);

    let task_role = match &s.task_role {
        Some(arn) => Some(Val::lit(arn)),
        None => {
            out.push(iam::task_role(c, env, key, &wiring.task_statements));
            Some(Val::Ref(Ref::arn(&task_role_id(key))))
        }
    };

    let (image, image_tag) = match s.image() {
        Image::Reference(r) => (Val::lit(r), None),
        Image::Repository(r) => match &r.build {
            // Built here: the pushed image, by digest.
            Some(b) => {
                let id = image_id(key);
                out.push(image_resource(c, env, key, r.repository_key(), b));
                (Val::Ref(Ref::uri(&id)), None)
            }
            None => (
                Val::Ref(Ref::uri(&repository_id(r.repository_key()))),
                Some(r.tag().to_string()),
            ),
        },
    };
    let execution_role = match &c.iam.execution_role {
        Some(arn) => Val::lit(arn),
        None => Val::Ref(Ref::arn(&execution_role_id())),
    };
    let image = with_tag(image, image_tag);
    let containers: Vec<ContainerSpec> = match &s.native {
        Some(def) => native_containers(c, env, key, def, image, &wiring),
        None => toml_containers(c, env, key, image, &wiring),
    };
    let td = task_def_id(key);
    out.push(Resource {
        id: td.clone(),
        name: c.family(key),
        spec: Spec::TaskDefinition(TaskDefSpec {
            cpu: s.cpu,
            memory: s.memory_mib(),
            cpu_architecture: s.cpu_architecture.as_aws().to_string(),
            execution_role,
            task_role,
            containers,
            volumes: wiring.volumes.clone(),
            file_volumes: s.native.as_ref().map_or(vec![], file_volumes),
            ephemeral_storage: s
                .native
                .as_ref()
                .and_then(|n| n.ephemeral_storage)
                .map(|e| e.size_in_gib),
            fault_injection: s
                .native
                .as_ref()
                .and_then(|n| n.enable_fault_injection)
                .unwrap_or(false),
            pid_mode: s.native.as_ref().and_then(|n| n.pid_mode.clone()),
            after: vec![log_group_id()],
        }),
    });

    let load_balancers: Vec<LbAttachment> = match (&s.target_group, lb.target_groups.get(key)) {
        (Some(tg), Some(id)) => vec![LbAttachment {
            target_group: Val::Ref(Ref::arn(id)),
            container_name: c.container_name(key),
            container_port: tg.port,
            advanced: lb.shifting.get(key).map(|sh| AdvancedSpec {
                alternate_target_group: Val::Ref(Ref::arn(&sh.alternate)),
                production_rule: Val::Ref(Ref::arn(&sh.production_rule)),
                test_rule: sh.test_rule.as_ref().map(|t| Val::Ref(Ref::arn(t))),
                role: Val::Ref(Ref::arn(&infrastructure_role_id())),
            }),
        }],
        _ => vec![],
    };
    let subnets = net.subnets(s.subnets);
    let assign_public_ip = s
        .assign_public_ip
        .unwrap_or(s.subnets == SubnetKind::Public);
    // Listeners routing to it, and the services it depends on (deployed and stable first:
    // their steps wait for the deployment).
    let mut after: Vec<ResourceId> = lb
        .routes_to
        .get(key)
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .chain(s.depends_on.iter().map(|d| service_id(d)))
        .chain(wiring.after.iter().cloned())
        // What its tasks need to pull the image and ship logs from its subnets.
        .chain(net.ready(s.subnets))
        .collect();
    if let Some(rel) = &s.release {
        // Runs right before the service moves to the revision: after all the service
        // waits for, and the service after it.
        out.push(Resource {
            id: release_id(key),
            name: c.service_name(key),
            spec: Spec::Release(ReleaseSpec {
                cluster: Val::Ref(Ref::id(&cluster_id())),
                task_definition: Val::Ref(Ref::arn(&td)),
                subnets: subnets.clone(),
                security_groups: security_groups.clone(),
                assign_public_ip,
                container: c.container_name(key),
                command: rel.command.clone(),
                timeout_seconds: rel.timeout,
                after: after.clone(),
            }),
        });
        after.push(release_id(key));
    }
    out.push(Resource {
        id: service_id(key),
        name: c.service_name(key),
        spec: Spec::Service(ServiceSpec {
            cluster: Val::Ref(Ref::id(&cluster_id())),
            task_definition: Val::Ref(Ref::arn(&td)),
            desired_count: match &s.autoscaling {
                Some(a) => s.desired_count.clamp(a.min, a.max.max(a.min)),
                None => s.desired_count,
            },
            subnets,
            security_groups,
            assign_public_ip,
            health_check_grace_period: s.target_group.as_ref().map(|t| t.health_check_grace_period),
            load_balancers,
            desired_count_managed: s.autoscaling.is_some(),
            enable_execute_command: s.enable_execute_command,
            deployment: DeploymentSpec::from_config(&s.deployment),
            service_connect: service_connect(c, env, key),
            capacity: s
                .capacity
                .map_or(vec![], |cap| spot_strategy(cap.spot, cap.on_demand_base)),
            keep_revisions: s.keep_revisions,
            after,
        }),
    });
    if let Some(a) = &s.autoscaling {
        autoscaling(c, lb, key, a, out);
    }
}

/// The containers of a service described in TOML: the main container (named like the
/// service, with the wiring of the stores it uses) and its sidecars.
fn toml_containers(
    c: &Config,
    env: &Env,
    key: &str,
    image: Val,
    wiring: &Wiring,
) -> Vec<ContainerSpec> {
    let s = &c.services[key];
    std::iter::once(ContainerSpec {
        name: c.container_name(key),
        image,
        essential: true,
        ports: s.ports.clone(),
        port_names: port_names(key, s),
        health_check: s.health_check.as_ref().map(health_check),
        stop_timeout: s.stop_timeout,
        ulimits: s
            .ulimits
            .iter()
            .map(|(n, u)| (n.clone(), (u.soft, u.hard)))
            .collect(),
        depends_on: container_deps(&s.container_depends_on),
        environment: by_name(
            s.environment.iter().map(|(k, v)| (k.clone(), Val::lit(v))),
            &wiring.environment,
        ),
        secrets: wiring.secrets.clone(),
        mount_points: wiring.mount_points.clone(),
        command: s.command.clone(),
        log_group: c.log_group_name(),
        log_region: env.region.clone(),
        log_stream_prefix: key.to_string(),
        extra: ContainerExtra::default(),
    })
    .chain(s.sidecars.iter().map(|sc| {
        ContainerSpec {
            name: sc.name.clone(),
            image: Val::lit(&sc.image),
            essential: sc.essential,
            ports: sc.ports.clone(),
            port_names: BTreeMap::new(),
            health_check: sc.health_check.as_ref().map(health_check),
            stop_timeout: None,
            ulimits: BTreeMap::new(),
            depends_on: container_deps(&sc.depends_on),
            environment: sc
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), Val::lit(v)))
                .collect(),
            secrets: vec![],
            mount_points: vec![],
            command: sc.command.clone(),
            log_group: c.log_group_name(),
            log_region: env.region.clone(),
            log_stream_prefix: format!("{key}-{}", sc.name),
            extra: ContainerExtra::default(),
        }
    }))
    .collect()
}

/// The containers of a task-definition file: the main container gets the service's image
/// (when the config gives one), the wiring of the stores it uses, the Service Connect port
/// names, and every container the app's log group.
fn native_containers(
    c: &Config,
    env: &Env,
    key: &str,
    def: &crate::config::native::NativeTaskDef,
    image: Val,
    wiring: &Wiring,
) -> Vec<ContainerSpec> {
    let s = &c.services[key];
    let main = c.container_name(key);
    let published = port_names(key, s);
    def.container_definitions
        .iter()
        .map(|n| {
            let is_main = n.name == main;
            let wired = |w: &Vec<(String, Val)>| if is_main { w.clone() } else { vec![] };
            let environment = by_name(
                n.environment
                    .iter()
                    .map(|kv| (kv.name.clone(), Val::lit(&kv.value))),
                &wired(&wiring.environment),
            );
            let secrets = by_name(
                n.secrets
                    .iter()
                    .map(|x| (x.name.clone(), Val::lit(&x.value_from))),
                &wired(&wiring.secrets),
            );
            ContainerSpec {
                name: n.name.clone(),
                image: if is_main {
                    image.clone()
                } else {
                    Val::lit(n.image.clone().unwrap_or_default())
                },
                essential: n.essential.unwrap_or(true),
                ports: n
                    .port_mappings
                    .iter()
                    .filter_map(|p| p.container_port)
                    .collect(),
                port_names: n
                    .port_mappings
                    .iter()
                    .filter_map(|p| {
                        let port = p.container_port?;
                        let published = is_main.then(|| published.get(&port)).flatten();
                        published
                            .cloned()
                            .or_else(|| p.name.clone())
                            .map(|name| (port, name))
                    })
                    .collect(),
                health_check: n.health_check.as_ref().map(|h| HealthCheckCmd {
                    command: h.command.clone(),
                    interval: h.interval.unwrap_or(30),
                    timeout: h.timeout.unwrap_or(5),
                    retries: h.retries.unwrap_or(3),
                    start_period: h.start_period.unwrap_or(0),
                }),
                stop_timeout: n.stop_timeout,
                ulimits: n
                    .ulimits
                    .iter()
                    .map(|u| (u.name.clone(), (u.soft_limit, u.hard_limit)))
                    .collect(),
                depends_on: n
                    .depends_on
                    .iter()
                    .map(|d| (d.container_name.clone(), d.condition.clone()))
                    .collect(),
                environment,
                secrets,
                mount_points: if is_main {
                    wiring.mount_points.clone()
                } else {
                    vec![]
                }
                .into_iter()
                .chain(n.mount_points.iter().map(|m| MountPointSpec {
                    volume: m.source_volume.clone(),
                    container_path: m.container_path.clone(),
                    read_only: m.read_only.unwrap_or(false),
                }))
                .collect(),
                command: n.command.clone(),
                log_group: c.log_group_name(),
                log_region: env.region.clone(),
                log_stream_prefix: if is_main {
                    key.to_string()
                } else {
                    format!("{key}-{}", n.name)
                },
                extra: ContainerExtra {
                    entry_point: n.entry_point.clone(),
                    working_directory: n.working_directory.clone(),
                    user: n.user.clone(),
                    readonly_root_filesystem: n.readonly_root_filesystem,
                    cpu: n.cpu,
                    memory: n.memory,
                    memory_reservation: n.memory_reservation,
                    docker_labels: n.docker_labels.clone(),
                    start_timeout: n.start_timeout,
                    app_protocols: n
                        .port_mappings
                        .iter()
                        .filter_map(|p| Some((p.container_port?, p.app_protocol.clone()?)))
                        .collect(),
                    protocols: n
                        .port_mappings
                        .iter()
                        .filter_map(|p| {
                            let x = p.protocol.clone().filter(|x| x != "tcp")?;
                            Some((p.container_port?, x))
                        })
                        .collect(),
                    volumes_from: n
                        .volumes_from
                        .iter()
                        .map(|v| (v.source_container.clone(), v.read_only.unwrap_or(false)))
                        .collect(),
                    pseudo_terminal: n.pseudo_terminal,
                    interactive: n.interactive,
                    restart_policy: n.restart_policy.as_ref().map(|r| {
                        (
                            r.enabled,
                            r.ignored_exit_codes.clone(),
                            r.restart_attempt_period,
                        )
                    }),
                    version_consistency: n.version_consistency.clone(),
                    system_controls: n
                        .system_controls
                        .iter()
                        .map(|x| (x.namespace.clone(), x.value.clone()))
                        .collect(),
                    init_process_enabled: n
                        .linux_parameters
                        .as_ref()
                        .and_then(|l| l.init_process_enabled),
                    capabilities: n
                        .linux_parameters
                        .as_ref()
                        .and_then(|l| l.capabilities.as_ref())
                        .map_or_else(Default::default, |c| (c.add.clone(), c.drop.clone())),
                    keys: file_keys(n),
                },
            }
        })
        .collect()
}

/// A file container's environment files, registry credentials, gMSA CredSpecs, FireLens
/// settings and port ranges, as written.
fn file_keys(n: &crate::config::native::NativeContainer) -> FileKeys {
    FileKeys {
        environment_files: n
            .environment_files
            .iter()
            .map(|f| (f.kind.clone(), f.value.clone()))
            .collect(),
        repository_credentials: n
            .repository_credentials
            .as_ref()
            .map(|r| r.credentials_parameter.clone()),
        credential_specs: n.credential_specs.clone(),
        firelens: n
            .firelens_configuration
            .as_ref()
            .map(|f| (f.kind.clone(), f.options.clone())),
        firelens_log: n
            .firelens_log()
            .and_then(Result::ok)
            .map(|l| FirelensLogSpec {
                options: l.options,
                secret_options: l
                    .secret_options
                    .into_iter()
                    .map(|s| (s.name, s.value_from))
                    .collect(),
            }),
        port_ranges: n
            .port_mappings
            .iter()
            .filter_map(|p| {
                Some(PortRangeSpec {
                    range: p.container_port_range.clone()?,
                    protocol: p.protocol.clone().unwrap_or_else(|| "tcp".into()),
                    name: p.name.clone(),
                    app_protocol: p.app_protocol.clone(),
                })
            })
            .collect(),
    }
}

/// The volumes of a task-definition file, as written.
fn file_volumes(def: &crate::config::native::NativeTaskDef) -> Vec<FileVolumeSpec> {
    def.volumes
        .iter()
        .map(|v| FileVolumeSpec {
            name: v.name.clone(),
            efs: v.efs_volume_configuration.as_ref().map(|e| {
                let auth = e.authorization_config.as_ref();
                FileEfsSpec {
                    file_system_id: e.file_system_id.clone(),
                    root_directory: e.root_directory.clone(),
                    transit_encryption: e.transit_encryption.as_deref() == Some("ENABLED"),
                    transit_encryption_port: e.transit_encryption_port,
                    access_point_id: auth.and_then(|a| a.access_point_id.clone()),
                    iam: auth.and_then(|a| a.iam.as_deref()) == Some("ENABLED"),
                }
            }),
        })
        .collect()
}

/// The image a service builds: pushed to `repo` with the tag of its source.
fn image_resource(
    c: &Config,
    env: &Env,
    key: &str,
    repo: &str,
    b: &crate::config::Build,
) -> Resource {
    let s = &c.services[key];
    let tag = env
        .image_tags
        .get(key)
        .cloned()
        .unwrap_or_else(|| UNKNOWN.to_string());
    let context = b
        .context_dir
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from(&b.context));
    Resource {
        id: image_id(key),
        name: format!("{}:{tag}", c.repository_name(repo)),
        spec: Spec::Image(ImageSpec {
            repository_uri: Val::Ref(Ref::uri(&repository_id(repo))),
            repository_name: c.repository_name(repo),
            tag,
            platform: crate::image::platform(s.cpu_architecture.as_aws()).to_string(),
            dockerfile: b
                .dockerfile_path
                .clone()
                .unwrap_or_else(|| context.join(b.dockerfile.as_deref().unwrap_or("Dockerfile"))),
            context,
            build_args: b.args.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            target: b.target.clone(),
        }),
    }
}

/// The namespace as services and the cluster refer to it: the created one's ARN, or an
/// existing one by name.
pub fn namespace_val(c: &Config) -> Val {
    match &c.service_connect {
        Some(sc) if sc.existing => Val::lit(&sc.namespace),
        _ => Val::Ref(Ref::arn(&namespace_id())),
    }
}

/// Names of the main container's port mappings: published Service Connect ports.
fn port_names(key: &str, s: &crate::config::Service) -> BTreeMap<u16, String> {
    s.connect
        .iter()
        .flat_map(|c| c.publish.iter())
        .map(|p| (p.port, p.name.clone().unwrap_or_else(|| key.to_string())))
        .collect()
}

fn health_check(h: &crate::config::ContainerHealthCheck) -> HealthCheckCmd {
    HealthCheckCmd {
        command: vec!["CMD-SHELL".to_string(), h.command.clone()],
        interval: h.interval,
        timeout: h.timeout,
        retries: h.retries,
        start_period: h.start_period,
    }
}

fn container_deps(deps: &[crate::config::ContainerDependency]) -> Vec<(String, String)> {
    deps.iter()
        .map(|d| (d.container.clone(), d.condition.as_aws().to_string()))
        .collect()
}

fn service_connect(c: &Config, env: &Env, key: &str) -> Option<ServiceConnectSpec> {
    let conn = c.services[key].connect.as_ref()?;
    let names = port_names(key, &c.services[key]);
    // By name as written, or as read from Cloud Map when the config gives an ARN.
    let namespace = env.namespace_name.as_deref().unwrap_or_else(|| {
        c.service_connect
            .as_ref()
            .map_or("", |n| n.namespace.as_str())
    });
    Some(ServiceConnectSpec {
        namespace: namespace_val(c),
        services: conn
            .publish
            .iter()
            .map(|p| {
                let port_name = names[&p.port].clone();
                let discovery_name = p
                    .discovery_name
                    .clone()
                    .unwrap_or_else(|| port_name.clone());
                ConnectServiceSpec {
                    // AWS's own default: `<discovery name>.<namespace>`.
                    dns_name: p
                        .dns_name
                        .clone()
                        .unwrap_or_else(|| format!("{discovery_name}.{namespace}")),
                    client_port: p.client_port.unwrap_or(p.port),
                    port_name,
                    discovery_name,
                }
            })
            .collect(),
        log_group: c.log_group_name(),
        log_region: env.region.clone(),
        log_stream_prefix: conn
            .log_stream_prefix
            .clone()
            .unwrap_or_else(|| format!("{key}-connect")),
    })
}

/// The scalable target of a service, its target-tracking policy (when it tracks a metric)
/// and its scheduled actions.
fn autoscaling(
    c: &Config,
    lb: &LbWiring,
    key: &str,
    a: &crate::config::Autoscaling,
    out: &mut Vec<Resource>,
) {
    let target = scalable_target_id(key);
    out.push(Resource {
        id: target.clone(),
        name: format!("service/{}/{}", c.cluster_name(), c.service_name(key)),
        spec: Spec::ScalableTarget(ScalableTargetSpec {
            service: Val::Ref(Ref::id(&service_id(key))),
            cluster: c.cluster_name(),
            min: a.min,
            max: a.max,
            schedules: a.schedules.values().map(|s| (s.min, s.max)).collect(),
        }),
    });
    for (name, s) in &a.schedules {
        out.push(Resource {
            id: scheduled_action_id(key, name),
            name: format!("{}-{}-{}", c.app, key, name),
            spec: Spec::ScheduledAction(ScheduledActionSpec {
                target: Val::Ref(Ref::id(&target)),
                schedule: s.schedule.trim().to_string(),
                timezone: s.timezone.clone(),
                min: s.min,
                max: s.max,
            }),
        });
    }
    let (metric, value, by_requests) = match (a.cpu, a.memory, a.requests_per_target) {
        (Some(v), _, _) => ("ECSServiceAverageCPUUtilization", v, false),
        (_, Some(v), _) => ("ECSServiceAverageMemoryUtilization", v, false),
        (_, _, Some(v)) => ("ALBRequestCountPerTarget", v, true),
        // Scaled by its schedules only.
        (None, None, None) => return,
    };
    let tg = lb.target_groups.get(key).filter(|_| by_requests);
    out.push(Resource {
        id: scaling_policy_id(key),
        name: format!("{}-{}-{}", c.app, key, metric),
        spec: Spec::ScalingPolicy(ScalingPolicySpec {
            target: Val::Ref(Ref::id(&target)),
            metric: metric.to_string(),
            target_group: tg.map(|t| Val::Ref(Ref::arn(t))),
            load_balancer: tg.map(|_| Val::Ref(Ref::arn(&lb_id()))),
            target_value: value,
            scale_in_cooldown: a.scale_in_cooldown,
            scale_out_cooldown: a.scale_out_cooldown,
            disable_scale_in: a.disable_scale_in,
        }),
    });
}

/// The service's security group: the configured CIDR rules, the ports of services that
/// depend on it from their groups, plus its target port (and a health check's other port)
/// from the load balancer's security groups. Nothing else reaches the container. A port is
/// opened on its own protocol: UDP for a UDP port of a task-definition file's main
/// container, TCP otherwise.
fn service_sg(c: &Config, env: &Env, net: &Net, lb: &LbWiring, key: &str) -> Resource {
    let s = &c.services[key];
    let on_port = |port: u16, source: Source, description: Option<String>| {
        IngressRule::port(s.port_protocol(key, port), port, source, description)
    };
    let mut ingress: Vec<IngressRule> = s
        .ingress
        .iter()
        .flat_map(|rule| {
            rule.cidrs.iter().map(move |cidr| {
                on_port(
                    rule.port,
                    Source::Cidr(cidr.clone()),
                    rule.description.clone(),
                )
            })
        })
        .collect();
    // Services that depend on this one reach its ports from their own groups only.
    for (other_key, _) in c
        .services
        .iter()
        .filter(|(_, o)| o.depends_on.iter().any(|d| d == key))
    {
        let sources = stores::service_groups(c, env, other_key);
        let from = || Some(format!("from service {other_key}"));
        for g in &sources {
            for port in &s.ports {
                ingress.push(on_port(*port, Source::Group(g.clone()), from()));
            }
            // A task-definition file's port ranges, each on its protocol.
            for (protocol, first, last) in s.port_ranges(key) {
                let source = Source::Group(g.clone());
                ingress.push(IngressRule::ports(protocol, (first, last), source, from()));
            }
        }
    }
    // The target port is TCP: validate refuses a UDP one (the ALB speaks HTTP(S)). A health
    // check on another port is opened too: the load balancer sends its checks from its own
    // groups, and without the rule every check times out, no task becomes healthy and the
    // circuit breaker rolls the deployment back. Elastic Load Balancing, "Security groups
    // for your Application Load Balancer": the load balancer must reach its targets "on both
    // the listener port and the health check port".
    if let Some(tg) = &s.target_group {
        let health_port = tg.health_check.port.parse::<u16>().ok();
        let ports = std::iter::once(tg.port).chain(health_port.filter(|p| *p != tg.port));
        for port in ports {
            for g in &lb.security_groups {
                ingress.push(IngressRule::tcp(
                    port,
                    Source::Group(g.clone()),
                    Some("from the load balancer".to_string()),
                ));
            }
        }
    }
    ingress.sort();
    net.security_group(
        service_sg_id(key),
        c.service_sg_name(key),
        format!("ecsdeploy {} service {}", c.app, key),
        ingress,
    )
}

/// A container's own name/value pairs, then those its store wiring adds, sorted by name.
fn by_name(
    own: impl Iterator<Item = (String, Val)>,
    wired: &[(String, Val)],
) -> Vec<(String, Val)> {
    let mut pairs: Vec<(String, Val)> = own.chain(wired.iter().cloned()).collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    pairs
}

/// An image from a declared repository is the repository URI plus `:tag`.
fn with_tag(image: Val, tag: Option<String>) -> Val {
    match (image, tag) {
        (Val::Ref(r), Some(tag)) => Val::Suffixed(r, format!(":{tag}")),
        (v, _) => v,
    }
}

#[cfg(test)]
mod tests;
