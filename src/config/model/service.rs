//! `[services.<key>]`: the service, its image, ingress, task policy, deployment and
//! autoscaling.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::job::default_timezone;
use super::{
    Connect, ContainerDependency, ContainerHealthCheck, Deployment, Sidecar, TargetGroup, Ulimit,
    Use,
};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Service {
    /// ECS service name. Default `<app>-<key>`.
    pub name: Option<String>,
    /// Container image: a full reference (`nginx:latest`), `{ repository = "<key>", tag =
    /// "..." }` or `{ build = { context = "..." } }`. Required unless `task_definition` is
    /// given (then it overrides the main container's image).
    pub image: Option<Image>,
    /// A native ECS task-definition JSON file (the `register-task-definition
    /// --cli-input-json` format), relative to the config file, instead of the container
    /// keys (`command`, `environment`, `health_check`, `sidecars`, `cpu`, `memory`, ...).
    pub task_definition: Option<String>,
    /// The task-definition file, read and checked by the loader.
    #[serde(skip)]
    pub native: Option<crate::config::native::NativeTaskDef>,
    /// Task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384). Default 256.
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    /// Task memory in MiB; must be valid for `cpu` on Fargate. Default: twice `cpu`
    /// (the smallest valid value for every cpu size).
    pub memory: Option<u32>,
    /// `X86_64` (default) or `ARM64`.
    #[serde(default)]
    pub cpu_architecture: CpuArchitecture,
    /// Container ports (TCP). With `task_definition`, the main container's ports in the
    /// file, UDP ones included.
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Plain environment variables. Secrets do not belong here.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Overrides the image's CMD.
    pub command: Option<Vec<String>>,
    /// Number of tasks. Default 1.
    #[serde(default = "default_desired")]
    pub desired_count: u32,
    /// Which subnets the tasks run in: `public` (default) or `private`.
    #[serde(default)]
    pub subnets: SubnetKind,
    /// Give tasks a public IP. Default: true in public subnets, false in private ones.
    pub assign_public_ip: Option<bool>,
    /// Inbound rules of the service's security group.
    #[serde(default)]
    pub ingress: Vec<Ingress>,
    /// Existing security groups (ids or `Name` tags) to use instead of the generated one.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Expose one container port through the app's load balancer.
    pub target_group: Option<TargetGroup>,
    /// Services that must be deployed and stable before this one is created or updated
    /// (and that `down` deletes after it). Their security groups admit this service.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// This service's part in Service Connect; absent = not connected.
    pub connect: Option<Connect>,
    /// Rollout settings.
    #[serde(default)]
    pub deployment: Deployment,
    /// Allow `ecs execute-command` into the tasks (ECS Exec). Default false.
    #[serde(default)]
    pub enable_execute_command: bool,
    /// Task-definition revisions kept: after a deploy, older ACTIVE ones of the service's
    /// family are deregistered (never one a deployment uses). Default 10; 0 keeps all.
    #[serde(default = "default_keep_revisions")]
    pub keep_revisions: u32,
    /// Run part of the tasks on Fargate Spot: `{ spot = 75, on_demand_base = 1 }`. Absent:
    /// every task on regular Fargate (the `FARGATE` launch type).
    pub capacity: Option<Capacity>,
    /// Container health check of the main container.
    pub health_check: Option<ContainerHealthCheck>,
    /// Seconds between SIGTERM and SIGKILL for the main container (2..=120).
    pub stop_timeout: Option<u32>,
    /// Resource limits of the main container, e.g. `{ nofile = { soft = 65536, hard = 65536 } }`.
    #[serde(default)]
    pub ulimits: BTreeMap<String, Ulimit>,
    /// Further containers in the task (log routers, proxies, agents).
    #[serde(default)]
    pub sidecars: Vec<Sidecar>,
    /// Containers the main container waits for, with the condition.
    #[serde(default)]
    pub container_depends_on: Vec<ContainerDependency>,
    /// Application Auto Scaling of the desired count.
    pub autoscaling: Option<Autoscaling>,
    /// ARN of an existing task role. Mutually exclusive with `task_policy`.
    pub task_role: Option<String>,
    /// Inline statements of the generated task role `<app>-<key>-task`.
    #[serde(default)]
    pub task_policy: Vec<Statement>,
    /// Data stores and secrets this service uses: each adds its environment variables (or
    /// task-definition secrets, or a volume) and a task-role grant scoped to that resource.
    #[serde(default)]
    pub uses: Vec<Use>,
    /// A one-off task run once per deploy of this service (a database migration): after the
    /// new task-definition revision is registered, before the service is updated to it.
    pub release: Option<Release>,
}

/// `release = { command = [...] }`: what runs before each deploy of a service.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Release {
    /// The main container's command in the release task, e.g. `["python", "manage.py",
    /// "migrate"]`.
    pub command: Vec<String>,
    /// Seconds the release task may run; it is then stopped and the deploy fails.
    /// Default 600.
    #[serde(default = "default_release_timeout")]
    pub timeout: u32,
}

fn default_release_timeout() -> u32 {
    600
}

fn default_cpu() -> u32 {
    256
}

impl Service {
    /// The image (an empty reference when the config has none: reported by the loader).
    pub fn image(&self) -> &Image {
        self.image.as_ref().unwrap_or(&NO_IMAGE)
    }

    /// Task memory in MiB, the default applied.
    pub fn memory_mib(&self) -> u32 {
        self.memory.unwrap_or(self.cpu * 2)
    }

    /// The port ranges (`containerPortRange`) of the task-definition file's main container
    /// in service `key`, each as (protocol, first, last); `tcp` when the file names none,
    /// as ECS takes it.
    pub fn port_ranges(&self, key: &str) -> Vec<(&str, u16, u16)> {
        let Some(main) = self.native.as_ref().and_then(|d| d.main_container(key)) else {
            return Vec::new();
        };
        main.port_mappings
            .iter()
            .filter_map(|p| {
                let (lo, hi) = p.range()?;
                Some((p.protocol.as_deref().unwrap_or("tcp"), lo, hi))
            })
            .collect()
    }

    /// The transport protocol of the main container's port `port` (one of `ports`) in
    /// service `key`: `udp` when the task-definition file maps it on UDP, else `tcp` (the
    /// TOML `ports` are TCP ports).
    pub fn port_protocol(&self, key: &str, port: u16) -> &'static str {
        let udp = self
            .native
            .as_ref()
            .and_then(|d| d.main_container(key))
            .is_some_and(|m| {
                m.port_mappings
                    .iter()
                    .any(|p| p.container_port == Some(port) && p.protocol.as_deref() == Some("udp"))
            });
        if udp {
            "udp"
        } else {
            "tcp"
        }
    }
}

fn default_desired() -> u32 {
    1
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CpuArchitecture {
    #[default]
    X86_64,
    Arm64,
}

impl CpuArchitecture {
    pub fn as_aws(self) -> &'static str {
        match self {
            CpuArchitecture::X86_64 => "X86_64",
            CpuArchitecture::Arm64 => "ARM64",
        }
    }
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SubnetKind {
    #[default]
    Public,
    Private,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ingress {
    /// Container port this rule opens; must be one of the service's `ports`.
    pub port: u16,
    /// Source IPv4 CIDRs.
    pub cidrs: Vec<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Statement {
    #[serde(default)]
    pub effect: Effect,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

/// `image = "nginx:latest"` or `image = { repository = "web", tag = "v1" }`.
#[derive(Debug, Clone, Serialize, PartialEq, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Image {
    Reference(String),
    Repository(RepositoryImage),
}

/// What a service without `image` reads as (the loader reports it as missing unless a
/// task-definition file gives the image).
pub static NO_IMAGE: Image = Image::Reference(String::new());

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct RepositoryImage {
    /// Key of an entry in `[repositories]`. Required unless `build` is given; with `build`
    /// the default is the service key (and `[repositories.<service>]` is created with
    /// default settings when the config does not declare it).
    pub repository: Option<String>,
    /// Image tag. Default `latest`. Not allowed with `build`: a built image is tagged with
    /// the git commit of its context.
    pub tag: Option<String>,
    /// Build the image from source with `docker buildx`, push it to the repository and
    /// deploy it by digest.
    pub build: Option<Build>,
}

impl RepositoryImage {
    /// The repository key (set for every service once the config is loaded).
    pub fn repository_key(&self) -> &str {
        self.repository.as_deref().unwrap_or_default()
    }
    /// The configured tag, `latest` by default.
    pub fn tag(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }
}

/// `build = { context = "./backend", dockerfile = "Dockerfile" }`: how to build an image.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Build {
    /// Build context directory, relative to the config file.
    pub context: String,
    /// Dockerfile, relative to the context. Default `Dockerfile`.
    pub dockerfile: Option<String>,
    /// Build arguments (`--build-arg NAME=VALUE`). Not for secrets: they stay in the image
    /// history.
    #[serde(default)]
    pub args: BTreeMap<String, String>,
    /// Build stage of a multi-stage Dockerfile (`--target`).
    pub target: Option<String>,
    /// The context directory, resolved and checked by the loader.
    #[serde(skip)]
    pub context_dir: Option<std::path::PathBuf>,
    /// The Dockerfile, resolved and checked by the loader.
    #[serde(skip)]
    pub dockerfile_path: Option<std::path::PathBuf>,
}

// Hand-written instead of `#[serde(untagged)]`: an untagged enum buffers its input, which
// hides unknown keys from serde_ignored and turns every mistake into "did not match any
// variant". A visitor keeps both the unknown-key report and serde's precise messages.
impl<'de> Deserialize<'de> for Image {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Image;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an image reference string or a table { repository, tag }")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Image, E> {
                Ok(Image::Reference(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Image, A::Error> {
                RepositoryImage::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(Image::Repository)
            }
        }
        d.deserialize_any(V)
    }
}

/// `services.<key>.capacity`: how the tasks split between Fargate and Fargate Spot,
/// mapped to a capacity provider strategy.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Capacity {
    /// Percentage (0..=100) of the tasks above `on_demand_base` that run on Fargate Spot;
    /// the rest run on regular Fargate. 100 = all of them.
    pub spot: u32,
    /// The first this many tasks always run on regular Fargate. Default 0.
    #[serde(default)]
    pub on_demand_base: u32,
}

/// `[services.<key>.autoscaling]`: target tracking on one metric.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Autoscaling {
    /// Fewest tasks. Default 1.
    #[serde(default = "default_desired")]
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation (%).
    pub cpu: Option<f64>,
    /// Target average memory utilisation (%).
    pub memory: Option<f64>,
    /// Target ALB requests per target (needs a target group).
    pub requests_per_target: Option<f64>,
    /// Seconds. Default 60.
    #[serde(default = "default_cooldown")]
    pub scale_in_cooldown: u32,
    /// Seconds. Default 60.
    #[serde(default = "default_cooldown")]
    pub scale_out_cooldown: u32,
    /// Only scale out; never remove tasks. Default false.
    #[serde(default)]
    pub disable_scale_in: bool,
    /// Scheduled changes of `min` and `max`, keyed by a name (`night`, `business-hours`).
    #[serde(default)]
    pub schedules: BTreeMap<String, ScalingSchedule>,
}

/// `[services.<key>.autoscaling.schedules.<name>]`: at `schedule`, Application Auto
/// Scaling sets the service's task range to `min` and/or `max`.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ScalingSchedule {
    /// `cron(...)`, `rate(...)` or `at(yyyy-mm-ddThh:mm:ss)`.
    pub schedule: String,
    /// IANA time zone of `cron` and `at` expressions. Default `UTC`.
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// The fewest tasks from then on.
    pub min: Option<u32>,
    /// The most tasks from then on.
    pub max: Option<u32>,
}

fn default_cooldown() -> u32 {
    60
}

fn default_keep_revisions() -> u32 {
    10
}
