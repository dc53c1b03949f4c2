//! ECS specs: repositories and images, the cluster and its namespace, logs, task
//! definitions, services and their autoscaling.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::deployment::DeploymentSpec;
use super::kind_spec::{sorted_vals, KindSpec};
use super::stores::EfsVolumeSpec;
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

#[derive(Debug, Clone, PartialEq)]
pub struct EcrSpec {
    pub scan_on_push: bool,
    pub tag_mutability: String,
    /// The newest images a lifecycle policy keeps; 0 = no policy.
    pub keep_images: u32,
}

/// An image built from source and pushed to an ECR repository of the app. Its `uri`
/// output is the pushed image by digest (`<repository uri>@sha256:...`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// The repository's URI (a reference: known once the repository exists).
    pub repository_uri: Val,
    /// The repository's name (known offline; observe looks the tag up by it).
    pub repository_name: String,
    /// Tag from the source (git commit, or a digest of the context's files).
    pub tag: String,
    /// `linux/amd64` or `linux/arm64`, from the task's CPU architecture.
    pub platform: String,
    pub context: std::path::PathBuf,
    pub dockerfile: std::path::PathBuf,
    pub build_args: Vec<(String, String)>,
    pub target: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSpec {
    pub container_insights: String,
    /// Default Service Connect namespace (name or ARN), if any.
    pub service_connect_namespace: Option<Val>,
    /// A service runs on Fargate Spot: the cluster has the `FARGATE` and `FARGATE_SPOT`
    /// capacity providers. Otherwise its providers are left as they are.
    pub spot: bool,
}

/// The capacity providers a cluster with Spot services has.
pub const FARGATE_PROVIDERS: [&str; 2] = ["FARGATE", "FARGATE_SPOT"];

/// A Cloud Map HTTP namespace (the resource name is the namespace name).
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceSpec;

#[derive(Debug, Clone, PartialEq)]
pub struct LogGroupSpec {
    pub retention_days: i32,
}

/// A container health check as ECS runs it (`CMD-SHELL`).
#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheckCmd {
    /// The full ECS form: `["CMD-SHELL", "<shell command>"]` or `["CMD", exe, args...]`.
    pub command: Vec<String>,
    pub interval: u32,
    pub timeout: u32,
    pub retries: u32,
    pub start_period: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MountPointSpec {
    pub volume: String,
    pub container_path: String,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    pub name: String,
    pub image: Val,
    pub essential: bool,
    pub ports: Vec<u16>,
    /// Names of port mappings (Service Connect refers to ports by name).
    pub port_names: BTreeMap<u16, String>,
    pub health_check: Option<HealthCheckCmd>,
    pub stop_timeout: Option<u32>,
    /// name → (soft, hard)
    pub ulimits: BTreeMap<String, (u32, u32)>,
    /// (container, condition)
    pub depends_on: Vec<(String, String)>,
    /// Plain environment variables; values may reference other resources (a DB endpoint).
    pub environment: Vec<(String, Val)>,
    /// Environment variables ECS fills from Secrets Manager: name → `valueFrom` (a secret
    /// ARN, or `<arn>:<json-key>::`).
    pub secrets: Vec<(String, Val)>,
    pub mount_points: Vec<MountPointSpec>,
    pub command: Option<Vec<String>>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
    /// Settings only task-definition files give (TOML services leave them unset).
    pub extra: ContainerExtra,
}

/// Container settings of native task-definition files beyond what the TOML describes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContainerExtra {
    pub entry_point: Option<Vec<String>>,
    pub working_directory: Option<String>,
    pub user: Option<String>,
    pub readonly_root_filesystem: Option<bool>,
    /// Container CPU units; 0 and unset are the same to ECS.
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub memory_reservation: Option<u32>,
    pub docker_labels: BTreeMap<String, String>,
    /// Seconds a container may take to start before a dependent gives up on it.
    pub start_timeout: Option<u32>,
    /// `appProtocol` of port mappings (`http`, `http2`, `grpc`), by container port; part of
    /// `port_mappings` in the normal form.
    pub app_protocols: BTreeMap<u16, String>,
    /// Port mappings whose protocol is not `tcp` (that is, `udp`), by container port.
    pub protocols: BTreeMap<u16, String>,
    /// `volumesFrom`: (source container, read only).
    pub volumes_from: Vec<(String, bool)>,
    /// `linuxParameters.initProcessEnabled`.
    pub init_process_enabled: Option<bool>,
    /// `linuxParameters.capabilities`: (add, drop).
    pub capabilities: (Vec<String>, Vec<String>),
    pub pseudo_terminal: Option<bool>,
    pub interactive: Option<bool>,
    /// `restartPolicy`: (enabled, ignored exit codes, restart attempt period).
    pub restart_policy: Option<(bool, Vec<i32>, Option<i32>)>,
    /// `versionConsistency`; `enabled` is ECS's default.
    pub version_consistency: Option<String>,
    /// `systemControls`: (namespace, value).
    pub system_controls: Vec<(String, String)>,
    /// `environmentFiles`, `repositoryCredentials`, FireLens and port ranges.
    pub keys: super::file_keys::FileKeys,
}

impl ContainerExtra {
    /// `container` (a JSON object) with these settings' fields added.
    pub fn merged_into(&self, mut container: Value) -> Value {
        if let (Value::Object(c), Value::Object(x)) = (&mut container, self.fields()) {
            c.extend(x);
            self.keys.add_to(c);
        }
        container
    }

    /// Normal form shared by the desired and the observed side.
    pub fn fields(&self) -> Value {
        json!({
            "entry_point": self.entry_point.as_ref().filter(|e| !e.is_empty()),
            "working_directory": self.working_directory,
            "user": self.user,
            // false and unset are the same to ECS.
            "readonly_root_filesystem": self.readonly_root_filesystem.filter(|r| *r),
            "cpu": self.cpu.filter(|c| *c != 0),
            "memory": self.memory,
            "memory_reservation": self.memory_reservation,
            "docker_labels": self.docker_labels,
            "start_timeout": self.start_timeout,
            "linux_parameters": self.linux_fields(),
            // false and unset are the same to ECS; so are `enabled` and unset.
            "pseudo_terminal": self.pseudo_terminal.filter(|p| *p),
            "interactive": self.interactive.filter(|i| *i),
            "restart_policy": self.restart_fields(),
            "version_consistency": self.version_consistency.as_deref().filter(|v| *v != "enabled"),
            "system_controls": self.sysctl_fields(),
            "volumes_from": self.volumes_from.iter().map(|(c, ro)| json!({"source": c, "read_only": ro})).collect::<Vec<_>>(),
        })
    }

    /// `restartPolicy` in normal form: exit codes as a set.
    fn restart_fields(&self) -> Value {
        let Some((on, codes, period)) = &self.restart_policy else {
            return Value::Null;
        };
        let mut codes = codes.clone();
        codes.sort();
        codes.dedup();
        json!({"enabled": on, "ignored_exit_codes": codes, "restart_attempt_period": period})
    }

    /// `systemControls` as a sorted list.
    fn sysctl_fields(&self) -> Value {
        let mut all = self.system_controls.clone();
        all.sort();
        all.into_iter()
            .map(|(n, v)| json!({"namespace": n, "value": v}))
            .collect()
    }

    /// `linuxParameters` in normal form: false and unset alike, capabilities as sets; null
    /// when it sets nothing.
    fn linux_fields(&self) -> Value {
        let init = self.init_process_enabled.filter(|i| *i);
        let set = |v: &Vec<String>| {
            let mut v = v.clone();
            v.sort();
            v.dedup();
            v
        };
        let (add, drop) = (set(&self.capabilities.0), set(&self.capabilities.1));
        if init.is_none() && add.is_empty() && drop.is_empty() {
            return Value::Null;
        }
        json!({"init_process_enabled": init, "capabilities_add": add, "capabilities_drop": drop})
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaskDefSpec {
    pub cpu: u32,
    pub memory: u32,
    pub cpu_architecture: String,
    pub execution_role: Val,
    pub task_role: Option<Val>,
    pub containers: Vec<ContainerSpec>,
    /// EFS volumes of the task.
    pub volumes: Vec<EfsVolumeSpec>,
    /// Volumes a task-definition file declares, registered after `volumes`.
    pub file_volumes: Vec<FileVolumeSpec>,
    /// Task storage in GiB beyond Fargate's default 20.
    pub ephemeral_storage: Option<u32>,
    /// `enableFaultInjection`.
    pub fault_injection: bool,
    /// `pidMode` (`task`).
    pub pid_mode: Option<String>,
    /// Resources that must exist before tasks can start (log group); not referenced by value.
    pub after: Vec<ResourceId>,
}

/// A volume of a task-definition file: a bind mount on task storage, or EFS as written.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileVolumeSpec {
    pub name: String,
    pub efs: Option<FileEfsSpec>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileEfsSpec {
    pub file_system_id: String,
    pub root_directory: Option<String>,
    pub transit_encryption: bool,
    pub transit_encryption_port: Option<u32>,
    pub access_point_id: Option<String>,
    pub iam: bool,
}

/// One task volume in the normal form both sides of a diff use (ECS API `Volume`): the
/// root directory `/` is the default, disabled is the default.
#[allow(clippy::too_many_arguments)]
pub fn volume_fields(
    name: &str,
    file_system_id: Option<&str>,
    access_point_id: Option<&str>,
    transit_encryption: bool,
    iam: bool,
    root_directory: Option<&str>,
    transit_encryption_port: Option<u32>,
) -> Value {
    let on = |b: bool| if b { "ENABLED" } else { "DISABLED" };
    json!({
        "name": name,
        "file_system_id": file_system_id,
        "access_point_id": access_point_id,
        "transit_encryption": on(transit_encryption),
        "iam": on(iam),
        "root_directory": root_directory.filter(|r| *r != "/"),
        "transit_encryption_port": transit_encryption_port,
    })
}

/// A service's attachment to a target group.
#[derive(Debug, Clone, PartialEq)]
pub struct LbAttachment {
    pub target_group: Val,
    pub container_name: String,
    pub container_port: u16,
    /// What ECS needs to shift traffic (blue/green, canary, linear); `None` for rolling.
    pub advanced: Option<AdvancedSpec>,
}

/// ECS API `AdvancedConfiguration`: the second target group, the rules whose weights ECS
/// moves, and the role it moves them with.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvancedSpec {
    pub alternate_target_group: Val,
    pub production_rule: Val,
    pub test_rule: Option<Val>,
    pub role: Val,
}

/// One published Service Connect port.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectServiceSpec {
    pub port_name: String,
    pub discovery_name: String,
    pub dns_name: String,
    pub client_port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConnectSpec {
    /// Namespace name or ARN.
    pub namespace: Val,
    /// Published ports; empty = client only.
    pub services: Vec<ConnectServiceSpec>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
}

/// Normal form of a service's Service Connect configuration.
pub fn service_connect_fields(c: &ServiceConnectSpec, r: &dyn Resolve) -> Value {
    json!({
        "namespace": r.val(&c.namespace),
        "services": c.services.iter().map(|s| json!({
            "port_name": s.port_name,
            "discovery_name": s.discovery_name,
            "client_aliases": [{"port": s.client_port, "dns_name": s.dns_name}],
        })).collect::<Vec<_>>(),
        "log_configuration": {
            "driver": "awslogs",
            "options": {
                "awslogs-group": c.log_group,
                "awslogs-region": c.log_region,
                "awslogs-stream-prefix": c.log_stream_prefix,
            },
        },
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub desired_count: u32,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
    pub load_balancers: Vec<LbAttachment>,
    pub health_check_grace_period: Option<u32>,
    /// `None` when autoscaling owns the desired count (then it is not compared).
    pub desired_count_managed: bool,
    pub enable_execute_command: bool,
    pub deployment: DeploymentSpec,
    pub service_connect: Option<ServiceConnectSpec>,
    /// The capacity provider strategy; empty = the `FARGATE` launch type.
    pub capacity: Vec<CapacityItem>,
    /// Task-definition revisions of the family kept after a deploy (0 = all). Not a field
    /// of the service: it acts when the service is created or updated.
    pub keep_revisions: u32,
    /// Listeners and rules that must route to the target group before the service
    /// attaches to it (ECS rejects a target group without a load balancer).
    pub after: Vec<ResourceId>,
}

/// One item of a capacity provider strategy (ECS API `CapacityProviderStrategyItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CapacityItem {
    pub provider: &'static str,
    pub base: u32,
    pub weight: u32,
}

/// The strategy for `spot` % of the tasks above `on_demand_base` on Fargate Spot, in normal
/// form (see [`normal_strategy`]): empty when every task runs on regular Fargate.
pub fn spot_strategy(spot: u32, on_demand_base: u32) -> Vec<CapacityItem> {
    let spot = spot.min(100);
    normal_strategy(vec![
        CapacityItem {
            provider: "FARGATE",
            base: on_demand_base,
            weight: 100 - spot,
        },
        CapacityItem {
            provider: "FARGATE_SPOT",
            base: 0,
            weight: spot,
        },
    ])
}

/// A strategy in the form both sides of a diff use: items placing nothing (base and weight
/// 0) dropped, weights divided by their greatest common divisor, sorted by provider; a
/// strategy of regular Fargate alone is empty (it places tasks as the `FARGATE` launch type
/// does).
pub fn normal_strategy(items: Vec<CapacityItem>) -> Vec<CapacityItem> {
    let mut items: Vec<CapacityItem> = items
        .into_iter()
        .filter(|i| i.base > 0 || i.weight > 0)
        .collect();
    if items.iter().all(|i| i.provider == "FARGATE") {
        return vec![];
    }
    let divisor = items.iter().fold(0, |g, i| gcd(g, i.weight)).max(1);
    for i in &mut items {
        i.weight /= divisor;
    }
    items.sort();
    items
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The service's `capacity` field: `"FARGATE"` (the launch type) or the strategy.
pub fn capacity_fields(items: &[CapacityItem]) -> Value {
    if items.is_empty() {
        return json!("FARGATE");
    }
    Value::Array(
        items
            .iter()
            .map(|i| json!({"provider": i.provider, "base": i.base, "weight": i.weight}))
            .collect(),
    )
}

/// A service's release task: one task of the service's new task-definition revision, with
/// the service's network, run to completion before the service is updated to it. Not a
/// resource AWS keeps: observed as the revision the live service runs, so it differs (and
/// runs) exactly when the service is about to get another revision.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
    /// The container whose command is replaced and whose exit code decides.
    pub container: String,
    pub command: Vec<String>,
    /// How long the task may run before it is stopped and the release fails.
    pub timeout_seconds: u32,
    /// What the service's tasks need first (network routes, endpoints, policies, the
    /// services it depends on).
    pub after: Vec<ResourceId>,
}

impl KindSpec for ReleaseSpec {
    const KIND: Kind = Kind::Release;
    const DELETED_AFTER: &'static [Kind] = &[];

    fn vals(&self) -> Vec<&Val> {
        [&self.cluster, &self.task_definition]
            .into_iter()
            .chain(self.subnets.iter())
            .chain(self.security_groups.iter())
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    /// The revision it runs; the command is shown, but observed as configured (AWS keeps
    /// no record of it), so a new command alone runs nothing.
    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "task_definition": r.val(&self.task_definition),
            "command": self.command,
        })
    }
}

/// The load balancers of a service. With an alternate target group the two groups are a
/// set: ECS alternates which one serves production from one deployment to the next.
fn lb_fields(lbs: &[LbAttachment], r: &dyn Resolve) -> Value {
    let mut out: Vec<Value> = lbs
        .iter()
        .map(|l| match &l.advanced {
            None => json!({
                "target_group_arn": r.val(&l.target_group),
                "container_name": l.container_name,
                "container_port": l.container_port,
            }),
            Some(a) => lb_pair_fields(
                [r.val(&l.target_group), r.val(&a.alternate_target_group)],
                &l.container_name,
                i32::from(l.container_port),
                r.val(&a.production_rule),
                a.test_rule.as_ref().map(|t| r.val(t)),
                r.val(&a.role),
            ),
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    Value::Array(out)
}

/// One load balancer of a service with an alternate target group, in the shape both sides
/// of a diff use.
pub fn lb_pair_fields(
    mut groups: [String; 2],
    container_name: &str,
    container_port: i32,
    production_rule: String,
    test_rule: Option<String>,
    role: String,
) -> Value {
    groups.sort();
    json!({
        "target_groups": groups,
        "container_name": container_name,
        "container_port": container_port,
        "production_listener_rule": production_rule,
        "test_listener_rule": test_rule,
        "role_arn": role,
    })
}

/// Application Auto Scaling target for one ECS service's desired count.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalableTargetSpec {
    /// The service (its name); the target is `service/<cluster>/<service>`.
    pub service: Val,
    pub cluster: String,
    pub min: u32,
    pub max: u32,
}

/// A target-tracking policy on a scalable target.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicySpec {
    /// The scalable target (its `service/<cluster>/<service>` resource id).
    pub target: Val,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or
    /// `ALBRequestCountPerTarget`.
    pub metric: String,
    /// For ALB requests: the target group's ARN (the label is derived from it and the LB's).
    pub target_group: Option<Val>,
    pub load_balancer: Option<Val>,
    pub target_value: f64,
    pub scale_in_cooldown: u32,
    pub scale_out_cooldown: u32,
    pub disable_scale_in: bool,
}

/// `app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>` from the two ARNs: the label
/// target tracking on ALB requests needs.
pub fn resource_label(lb_arn: &str, tg_arn: &str) -> String {
    let lb = lb_arn
        .split_once(":loadbalancer/")
        .map_or(lb_arn, |(_, x)| x);
    let tg = tg_arn
        .split_once(":targetgroup/")
        .map_or(tg_arn, |(_, x)| x);
    format!("{lb}/targetgroup/{tg}")
}

impl KindSpec for EcrSpec {
    const KIND: Kind = Kind::EcrRepository;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({
            "scan_on_push": self.scan_on_push,
            "image_tag_mutability": self.tag_mutability,
            "keep_images": self.keep_images,
        })
    }
}

impl KindSpec for ImageSpec {
    const KIND: Kind = Kind::Image;
    /// Never deleted on its own: images go with their repository.
    const DELETED_AFTER: &'static [Kind] = &[];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.repository_uri]
    }

    // Observed images report only their tag (found by it); the rest is shown when the
    // image is to be built.
    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({
            "tag": self.tag,
            "platform": self.platform,
            "context": self.context.display().to_string(),
        })
    }
}

impl KindSpec for ClusterSpec {
    const KIND: Kind = Kind::Cluster;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::Schedule];

    /// Without Spot services the providers are not ecsdeploy's concern (an existing
    /// cluster keeps whatever it has).
    fn unmanaged(&self) -> &'static [&'static str] {
        if self.spot {
            &[]
        } else {
            &["capacity_providers"]
        }
    }

    fn vals(&self) -> Vec<&Val> {
        self.service_connect_namespace.iter().collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        let mut v = json!({
            "container_insights": self.container_insights,
            "service_connect_namespace": self.service_connect_namespace.as_ref().map(|v| r.val(v)),
        });
        if self.spot {
            v["capacity_providers"] = json!(FARGATE_PROVIDERS);
        }
        v
    }
}

impl KindSpec for NamespaceSpec {
    const KIND: Kind = Kind::Namespace;
    /// Cloud Map refuses to delete a namespace that still has services.
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::Cluster];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({ "type": "HTTP" })
    }
}

impl KindSpec for LogGroupSpec {
    const KIND: Kind = Kind::LogGroup;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({ "retention_in_days": self.retention_days })
    }
}

impl KindSpec for TaskDefSpec {
    const KIND: Kind = Kind::TaskDefinition;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Service, Kind::Schedule];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.execution_role)
            .chain(self.task_role.iter())
            .chain(self.containers.iter().map(|c| &c.image))
            .chain(
                self.containers
                    .iter()
                    .flat_map(|c| c.environment.iter().chain(c.secrets.iter()).map(|(_, v)| v)),
            )
            .chain(
                self.volumes
                    .iter()
                    .flat_map(|v| [&v.file_system, &v.access_point]),
            )
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        let containers: Vec<Value> = self
            .containers
            .iter()
            .map(|c| {
                c.extra.merged_into(json!({
                    "name": c.name,
                    "image": r.val(&c.image),
                    "essential": c.essential,
                    "port_mappings": c.ports.iter().map(|p| json!({
                        "container_port": p,
                        "protocol": c.extra.protocols.get(p).map_or("tcp", String::as_str),
                        "name": c.port_names.get(p),
                        "app_protocol": c.extra.app_protocols.get(p),
                    })).collect::<Vec<_>>(),
                    "health_check": c.health_check.as_ref().map(|h| json!({
                        "command": h.command,
                        "interval": h.interval,
                        "timeout": h.timeout,
                        "retries": h.retries,
                        "start_period": h.start_period,
                    })),
                    "stop_timeout": c.stop_timeout,
                    "ulimits": c.ulimits.iter().map(|(n, (soft, hard))| json!({"name": n, "soft": soft, "hard": hard})).collect::<Vec<_>>(),
                    "depends_on": c.depends_on.iter().map(|(n, cond)| json!({"container": n, "condition": cond})).collect::<Vec<_>>(),
                    "environment": c.environment.iter().map(|(k, v)| json!({"name": k, "value": r.val(v)})).collect::<Vec<_>>(),
                    "secrets": c.secrets.iter().map(|(k, v)| json!({"name": k, "value_from": r.val(v)})).collect::<Vec<_>>(),
                    "mount_points": c.mount_points.iter().map(|m| json!({
                        "source_volume": m.volume,
                        "container_path": m.container_path,
                        "read_only": m.read_only,
                    })).collect::<Vec<_>>(),
                    "command": c.command,
                    "log_configuration": {
                        "driver": "awslogs",
                        "options": {
                            "awslogs-group": c.log_group,
                            "awslogs-region": c.log_region,
                            "awslogs-stream-prefix": c.log_stream_prefix,
                        },
                    },
                }))
            })
            .collect();
        json!({
            "network_mode": "awsvpc",
            "requires_compatibilities": ["FARGATE"],
            "cpu": self.cpu.to_string(),
            "memory": self.memory.to_string(),
            "cpu_architecture": self.cpu_architecture,
            "operating_system_family": "LINUX",
            "execution_role_arn": r.val(&self.execution_role),
            "task_role_arn": self.task_role.as_ref().map(|t| r.val(t)),
            "containers": containers,
            "volumes": self.volumes.iter().map(|v| {
                let (fs, ap) = (r.val(&v.file_system), r.val(&v.access_point));
                volume_fields(&v.name, Some(&fs), Some(&ap), true, true, None, None)
            }).chain(self.file_volumes.iter().map(|v| match &v.efs {
                Some(e) => volume_fields(
                    &v.name,
                    Some(&e.file_system_id),
                    e.access_point_id.as_deref(),
                    e.transit_encryption,
                    e.iam,
                    e.root_directory.as_deref(),
                    e.transit_encryption_port,
                ),
                None => volume_fields(&v.name, None, None, false, false, None, None),
            })).collect::<Vec<_>>(),
            "ephemeral_storage": self.ephemeral_storage,
            // false and unset are the same to ECS.
            "fault_injection": self.fault_injection.then_some(true),
            "pid_mode": self.pid_mode,
        })
    }
}

impl KindSpec for ServiceSpec {
    const KIND: Kind = Kind::Service;
    const DELETED_AFTER: &'static [Kind] = &[Kind::ScalableTarget, Kind::ScalingPolicy];
    /// A change between the launch type and a capacity provider strategy is made in place
    /// (UpdateService, since June 2025), so `capacity` is not here.
    const IMMUTABLE: &'static [&'static str] = &["cluster"];

    fn vals(&self) -> Vec<&Val> {
        [&self.cluster, &self.task_definition]
            .into_iter()
            .chain(self.subnets.iter())
            .chain(self.security_groups.iter())
            .chain(self.load_balancers.iter().flat_map(|l| {
                std::iter::once(&l.target_group).chain(l.advanced.iter().flat_map(|a| {
                    [&a.alternate_target_group, &a.production_rule, &a.role]
                        .into_iter()
                        .chain(a.test_rule.iter())
                }))
            }))
            .chain(self.service_connect.iter().map(|c| &c.namespace))
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn unmanaged(&self) -> &'static [&'static str] {
        if self.desired_count_managed {
            &["desired_count"]
        } else {
            &[]
        }
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "cluster": r.val(&self.cluster),
            "capacity": capacity_fields(&self.capacity),
            "task_definition": r.val(&self.task_definition),
            "desired_count": self.desired_count,
            "subnets": sorted_vals(&self.subnets, r),
            "security_groups": sorted_vals(&self.security_groups, r),
            "assign_public_ip": self.assign_public_ip,
            "load_balancers": lb_fields(&self.load_balancers, r),
            "health_check_grace_period": self.health_check_grace_period,
            "enable_execute_command": self.enable_execute_command,
            "deployment": self.deployment.fields(),
            "service_connect": self.service_connect.as_ref().map(|c| service_connect_fields(c, r)),
        })
    }
}

impl KindSpec for ScalableTargetSpec {
    const KIND: Kind = Kind::ScalableTarget;
    const DELETED_AFTER: &'static [Kind] = &[Kind::ScalingPolicy];
    const IMMUTABLE: &'static [&'static str] = &["resource_id"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.service]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "resource_id": format!("service/{}/{}", self.cluster, r.val(&self.service)),
            "min_capacity": self.min,
            "max_capacity": self.max,
        })
    }
}

impl KindSpec for ScalingPolicySpec {
    const KIND: Kind = Kind::ScalingPolicy;
    const DELETED_AFTER: &'static [Kind] = &[];
    const IMMUTABLE: &'static [&'static str] = &["resource_id"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.target)
            .chain(self.target_group.iter())
            .chain(self.load_balancer.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "resource_id": r.val(&self.target),
            "policy_type": "TargetTrackingScaling",
            "metric": self.metric,
            "resource_label": match (&self.load_balancer, &self.target_group) {
                (Some(lb), Some(tg)) => json!(resource_label(&r.val(lb), &r.val(tg))),
                _ => Value::Null,
            },
            "target_value": self.target_value,
            "scale_in_cooldown": self.scale_in_cooldown,
            "scale_out_cooldown": self.scale_out_cooldown,
            "disable_scale_in": self.disable_scale_in,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_resource_label() {
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:loadbalancer/app/web/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web-tg/943f017f100becff"
            ),
            "app/web/50dc6c495c0c9188/targetgroup/web-tg/943f017f100becff"
        );
    }

    fn item(provider: &'static str, base: u32, weight: u32) -> CapacityItem {
        CapacityItem {
            provider,
            base,
            weight,
        }
    }

    #[test]
    fn spot_percentages_become_reduced_weights() {
        assert_eq!(
            spot_strategy(75, 1),
            vec![item("FARGATE", 1, 1), item("FARGATE_SPOT", 0, 3)]
        );
        assert_eq!(
            spot_strategy(50, 0),
            vec![item("FARGATE", 0, 1), item("FARGATE_SPOT", 0, 1)]
        );
    }

    #[test]
    fn all_spot_keeps_only_the_on_demand_base() {
        assert_eq!(spot_strategy(100, 0), vec![item("FARGATE_SPOT", 0, 1)]);
        assert_eq!(
            spot_strategy(100, 2),
            vec![item("FARGATE", 2, 0), item("FARGATE_SPOT", 0, 1)]
        );
    }

    #[test]
    fn no_spot_is_the_launch_type() {
        assert!(spot_strategy(0, 3).is_empty());
        assert_eq!(capacity_fields(&spot_strategy(0, 0)), json!("FARGATE"));
        // What AWS reports for a service moved off Spot: regular Fargate alone.
        assert!(normal_strategy(vec![item("FARGATE", 0, 1)]).is_empty());
    }

    #[test]
    fn equivalent_strategies_compare_equal() {
        let reported = normal_strategy(vec![item("FARGATE_SPOT", 0, 6), item("FARGATE", 1, 2)]);
        assert_eq!(reported, spot_strategy(75, 1));
    }
}
