//! The serde model of `ecsdeploy.toml`. Plain data: defaults live here, rules live in
//! `validate.rs`, and nothing in this file talks to AWS.
//!
//! Unknown keys are not rejected by serde (`deny_unknown_fields` stops at the first one);
//! `load.rs` collects every ignored key with `serde_ignored` so they are all reported at once.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Config {
    /// Application name: prefix of every generated name and value of the ownership tag.
    pub app: String,
    /// AWS region. `--region` and the standard AWS chain override / fill it.
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub network: Network,
    /// ECR repositories, keyed by a logical name that services reference.
    #[serde(default)]
    pub repositories: BTreeMap<String, Repository>,
    #[serde(default)]
    pub cluster: Cluster,
    #[serde(default)]
    pub iam: Iam,
    #[serde(default)]
    pub logs: Logs,
    /// ECS services, keyed by a logical name.
    #[serde(default)]
    pub services: BTreeMap<String, Service>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Network {
    /// IPv4 CIDR of the VPC ecsdeploy creates.
    #[serde(default = "default_vpc_cidr")]
    pub vpc_cidr: String,
    /// Availability zones by name (e.g. `ap-northeast-1a`). Mutually exclusive with `az_count`.
    #[serde(default)]
    pub azs: Option<Vec<String>>,
    /// Number of availability zones to use (the region's first N). Default 2.
    #[serde(default)]
    pub az_count: Option<u8>,
    /// Public subnet CIDRs, one per AZ. Derived from `vpc_cidr` when omitted.
    #[serde(default)]
    pub public_subnets: Option<Vec<String>>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            vpc_cidr: default_vpc_cidr(),
            azs: None,
            az_count: None,
            public_subnets: None,
        }
    }
}

fn default_vpc_cidr() -> String {
    "10.0.0.0/16".to_string()
}

pub const DEFAULT_AZ_COUNT: u8 = 2;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct Repository {
    /// Repository name. Default `<app>-<key>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Scan images on push. Default true.
    #[serde(default = "yes")]
    pub scan_on_push: bool,
    /// `MUTABLE` (default) or `IMMUTABLE`.
    #[serde(default)]
    pub tag_mutability: TagMutability,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TagMutability {
    #[default]
    Mutable,
    Immutable,
}

impl TagMutability {
    pub fn as_aws(self) -> &'static str {
        match self {
            TagMutability::Mutable => "MUTABLE",
            TagMutability::Immutable => "IMMUTABLE",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct Cluster {
    /// Cluster name. Default `<app>-cluster`.
    #[serde(default)]
    pub name: Option<String>,
    /// Container Insights: `disabled` (default), `enabled` or `enhanced`.
    #[serde(default)]
    pub container_insights: ContainerInsights,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContainerInsights {
    #[default]
    Disabled,
    Enabled,
    Enhanced,
}

impl ContainerInsights {
    pub fn as_aws(self) -> &'static str {
        match self {
            ContainerInsights::Disabled => "disabled",
            ContainerInsights::Enabled => "enabled",
            ContainerInsights::Enhanced => "enhanced",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct Iam {
    /// ARN of an existing task execution role. When omitted ecsdeploy creates
    /// `<app>-execution` with the AWS managed policy AmazonECSTaskExecutionRolePolicy.
    #[serde(default)]
    pub execution_role: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Logs {
    /// Log group name. Default `/ecs/<app>`.
    #[serde(default)]
    pub group: Option<String>,
    /// Retention in days; one of the values CloudWatch Logs accepts. Default 30.
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

impl Default for Logs {
    fn default() -> Self {
        Logs {
            group: None,
            retention_days: default_retention(),
        }
    }
}

fn default_retention() -> u32 {
    30
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Service {
    /// ECS service name. Default `<app>-<key>`.
    #[serde(default)]
    pub name: Option<String>,
    /// Container image: a full reference (`nginx:latest`) or `{ repository = "<key>", tag = "..." }`.
    pub image: Image,
    /// Task CPU units (256, 512, 1024, 2048, 4096, 8192, 16384). Default 256.
    #[serde(default = "default_cpu")]
    pub cpu: u32,
    /// Task memory in MiB; must be valid for `cpu` on Fargate. Default: twice `cpu`
    /// (the smallest valid value for every cpu size).
    #[serde(default)]
    pub memory: Option<u32>,
    /// `X86_64` (default) or `ARM64`.
    #[serde(default)]
    pub cpu_architecture: CpuArchitecture,
    /// Container ports (TCP).
    #[serde(default)]
    pub ports: Vec<u16>,
    /// Plain environment variables. Secrets do not belong here.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Overrides the image's CMD.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// Number of tasks. Default 1.
    #[serde(default = "default_desired")]
    pub desired_count: u32,
    /// Which subnets the tasks run in: `public` (default) or `private`.
    #[serde(default)]
    pub subnets: SubnetKind,
    /// Give tasks a public IP. Default: true in public subnets, false in private ones.
    #[serde(default)]
    pub assign_public_ip: Option<bool>,
    /// Inbound rules of the service's security group.
    #[serde(default)]
    pub ingress: Vec<Ingress>,
    /// ARN of an existing task role. Mutually exclusive with `task_policy`.
    #[serde(default)]
    pub task_role: Option<String>,
    /// Inline statements of the generated task role `<app>-<key>-task`.
    #[serde(default)]
    pub task_policy: Vec<Statement>,
}

fn default_cpu() -> u32 {
    256
}
impl Service {
    /// Task memory in MiB, the default applied.
    pub fn memory_mib(&self) -> u32 {
        self.memory.unwrap_or(self.cpu * 2)
    }
}

fn default_desired() -> u32 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
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

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum SubnetKind {
    #[default]
    Public,
    Private,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Ingress {
    /// Container port this rule opens; must be one of the service's `ports`.
    pub port: u16,
    /// Source IPv4 CIDRs.
    pub cidrs: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Statement {
    #[serde(default)]
    pub effect: Effect,
    pub actions: Vec<String>,
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

/// `image = "nginx:latest"` or `image = { repository = "web", tag = "v1" }`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Image {
    Reference(String),
    Repository(RepositoryImage),
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct RepositoryImage {
    /// Key of an entry in `[repositories]`.
    pub repository: String,
    /// Image tag. Default `latest`.
    #[serde(default = "default_tag")]
    pub tag: String,
}

fn default_tag() -> String {
    "latest".to_string()
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
