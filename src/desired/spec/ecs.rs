//! ECS specs: repositories and images, the cluster and its namespace, logs, containers
//! and task definitions. Services are in `service.rs`, their autoscaling in
//! `autoscaling.rs`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::kind_spec::KindSpec;
use super::stores::EfsVolumeSpec;
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

/// Normal form of an `awslogs` log configuration (a container's, Service Connect's proxy's).
pub fn awslogs_fields(group: &str, region: &str, stream_prefix: &str) -> Value {
    json!({
        "driver": "awslogs",
        "options": {
            "awslogs-group": group,
            "awslogs-region": region,
            "awslogs-stream-prefix": stream_prefix,
        },
    })
}

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
                    "log_configuration": awslogs_fields(&c.log_group, &c.log_region, &c.log_stream_prefix),
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
