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
    /// The app's Application Load Balancer, if any service is exposed through one.
    #[serde(default)]
    pub load_balancer: Option<LoadBalancer>,
    /// ECS Service Connect: the Cloud Map namespace services find each other in.
    #[serde(default)]
    pub service_connect: Option<ServiceConnect>,
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
    /// Private subnet CIDRs, one per AZ. Derived from `vpc_cidr` when omitted and something
    /// runs in private subnets.
    #[serde(default)]
    pub private_subnets: Option<Vec<String>>,
    /// NAT gateways for the private subnets: `none` (default), `single` or `per-az`.
    #[serde(default)]
    pub nat: NatMode,
    /// VPC endpoints: gateway (`s3`, `dynamodb`) and interface (`ecr.api`, `ecr.dkr`,
    /// `logs`, `secretsmanager`, `ssm`, ...) services.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// Use an existing network instead of creating one. Mutually exclusive with every
    /// other key of `[network]`.
    #[serde(default)]
    pub existing: Option<ExistingNetwork>,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            vpc_cidr: default_vpc_cidr(),
            azs: None,
            az_count: None,
            public_subnets: None,
            private_subnets: None,
            nat: NatMode::None,
            endpoints: Vec::new(),
            existing: None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    #[default]
    None,
    Single,
    PerAz,
}

/// An imported network. Each value is an id (`vpc-...`, `subnet-...`) or the value of the
/// resource's `Name` tag. ecsdeploy never modifies or deletes these.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ExistingNetwork {
    pub vpc: String,
    #[serde(default)]
    pub public_subnets: Vec<String>,
    #[serde(default)]
    pub private_subnets: Vec<String>,
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
    /// Existing security groups (ids or `Name` tags) to use instead of the generated one.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Expose one container port through the app's load balancer.
    #[serde(default)]
    pub target_group: Option<TargetGroup>,
    /// Services that must be deployed and stable before this one is created or updated
    /// (and that `down` deletes after it). Their security groups admit this service.
    #[serde(default)]
    pub depends_on: Vec<String>,
    /// This service's part in Service Connect; absent = not connected.
    #[serde(default)]
    pub connect: Option<Connect>,
    /// Rollout settings.
    #[serde(default)]
    pub deployment: Deployment,
    /// Allow `ecs execute-command` into the tasks (ECS Exec). Default false.
    #[serde(default)]
    pub enable_execute_command: bool,
    /// Container health check of the main container.
    #[serde(default)]
    pub health_check: Option<ContainerHealthCheck>,
    /// Seconds between SIGTERM and SIGKILL for the main container (2..=120).
    #[serde(default)]
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
    #[serde(default)]
    pub autoscaling: Option<Autoscaling>,
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

/// `[load_balancer]`: one Application Load Balancer shared by the app's services.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct LoadBalancer {
    /// ALB name (at most 32 characters). Default `<app>`.
    #[serde(default)]
    pub name: Option<String>,
    /// `internet-facing` (default) or `internal`.
    #[serde(default)]
    pub scheme: Scheme,
    /// Subnets: default `public` for internet-facing, `private` for internal.
    #[serde(default)]
    pub subnets: Option<SubnetKind>,
    /// Idle timeout in seconds (1..=4000). Default 60.
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout: u32,
    /// Refuse deletion (also by `ecsdeploy down`) until turned off. Default false.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Source CIDRs admitted to the listener ports. Default everyone.
    #[serde(default = "default_lb_cidrs")]
    pub ingress_cidrs: Vec<String>,
    /// Existing security groups (ids or `Name` tags) instead of the generated one.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Further load balancer attributes, e.g. `"routing.http2.enabled" = "true"`.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub listeners: Vec<Listener>,
}

impl LoadBalancer {
    /// The subnets the load balancer runs in: as configured, else by scheme.
    pub fn subnet_kind(&self) -> SubnetKind {
        self.subnets.unwrap_or(match self.scheme {
            Scheme::InternetFacing => SubnetKind::Public,
            Scheme::Internal => SubnetKind::Private,
        })
    }
}

impl Config {
    /// True when private subnets have something to serve: a service or the load balancer
    /// runs in them, or they are listed explicitly.
    pub fn runs_private(&self) -> bool {
        self.network.private_subnets.is_some()
            || self
                .services
                .values()
                .any(|s| s.subnets == SubnetKind::Private)
            || self
                .load_balancer
                .as_ref()
                .is_some_and(|lb| lb.subnet_kind() == SubnetKind::Private)
    }

    /// True when a created network gets private subnets: something runs there, or NAT and
    /// endpoints (which live in private subnets) are asked for.
    pub fn needs_private(&self) -> bool {
        self.runs_private()
            || self.network.nat != NatMode::None
            || !self.network.endpoints.is_empty()
    }
}

fn default_idle_timeout() -> u32 {
    60
}

fn default_lb_cidrs() -> Vec<String> {
    vec!["0.0.0.0/0".to_string()]
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    #[default]
    InternetFacing,
    Internal,
}

impl Scheme {
    pub fn as_aws(self) -> &'static str {
        match self {
            Scheme::InternetFacing => "internet-facing",
            Scheme::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    HTTP,
    HTTPS,
}

impl Protocol {
    pub fn as_aws(self) -> &'static str {
        match self {
            Protocol::HTTP => "HTTP",
            Protocol::HTTPS => "HTTPS",
        }
    }
}

/// The TLS policy HTTPS listeners get by default: TLS 1.3 and 1.2 with forward secrecy.
pub const DEFAULT_SSL_POLICY: &str = "ELBSecurityPolicy-TLS13-1-2-2021-06";

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Listener {
    pub port: u16,
    pub protocol: Protocol,
    /// ACM certificate ARNs (HTTPS); the first is the default certificate.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// TLS policy (HTTPS). Default `ELBSecurityPolicy-TLS13-1-2-2021-06`.
    #[serde(default)]
    pub ssl_policy: Option<String>,
    /// Default action: forward to this service's target group.
    #[serde(default)]
    pub service: Option<String>,
    /// Default action: redirect to HTTPS on this port (e.g. 443).
    #[serde(default)]
    pub redirect_https_port: Option<u16>,
    /// Default action: a fixed response.
    #[serde(default)]
    pub fixed_response: Option<FixedResponse>,
    /// Sign users in with Cognito before forwarding (default action and rules).
    #[serde(default)]
    pub cognito: Option<Cognito>,
    /// Sign users in with an OIDC provider before forwarding (default action and rules).
    #[serde(default)]
    pub oidc: Option<Oidc>,
    /// Routing rules, evaluated by priority before the default action.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct FixedResponse {
    pub status: u16,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    #[serde(default)]
    pub body: Option<String>,
}

fn default_content_type() -> String {
    "text/plain".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Cognito {
    pub user_pool_arn: String,
    pub client_id: String,
    /// The user pool domain prefix (or full custom domain).
    pub domain: String,
    /// `authenticate` (default), `allow` or `deny`.
    #[serde(default)]
    pub on_unauthenticated: OnUnauthenticated,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub session_timeout: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Oidc {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub user_info_endpoint: String,
    pub client_id: String,
    /// Name of the environment variable holding the client secret at `up` time (the
    /// secret never lives in the config).
    pub client_secret_env: String,
    #[serde(default)]
    pub on_unauthenticated: OnUnauthenticated,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub session_timeout: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum OnUnauthenticated {
    #[default]
    Authenticate,
    Allow,
    Deny,
}

impl OnUnauthenticated {
    pub fn as_aws(self) -> &'static str {
        match self {
            OnUnauthenticated::Authenticate => "authenticate",
            OnUnauthenticated::Allow => "allow",
            OnUnauthenticated::Deny => "deny",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Rule {
    /// Forward matching requests to this service's target group.
    pub service: String,
    /// Path patterns (`/api/*`).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Host headers (`api.example.com`, `*.example.com`).
    #[serde(default)]
    pub hosts: Vec<String>,
    /// 1..=50000. Default: 10 × the rule's position in the listener (10, 20, ...).
    #[serde(default)]
    pub priority: Option<u32>,
}

/// `[services.<key>.target_group]`: how the load balancer reaches the service.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct TargetGroup {
    /// Container port to register; one of the service's `ports`.
    pub port: u16,
    /// `HTTP` (default) or `HTTPS`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Target group name (at most 32 characters). Default: derived from app and key plus a
    /// short hash of port and protocol, so changing those creates a new group first.
    #[serde(default)]
    pub name: Option<String>,
    /// Seconds a draining target keeps serving in-flight requests. Default 30 (AWS: 300).
    #[serde(default = "default_deregistration_delay")]
    pub deregistration_delay: u32,
    /// Seconds ECS ignores failing load balancer health checks of new tasks. Default 60.
    #[serde(default = "default_grace_period")]
    pub health_check_grace_period: u32,
    #[serde(default)]
    pub health_check: HealthCheck,
}

fn default_deregistration_delay() -> u32 {
    30
}

fn default_grace_period() -> u32 {
    60
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct HealthCheck {
    #[serde(default = "default_hc_path")]
    pub path: String,
    /// `traffic-port` (default) or a port number as a string.
    #[serde(default = "default_hc_port")]
    pub port: String,
    /// Seconds between checks (5..=300). Default 15.
    #[serde(default = "default_hc_interval")]
    pub interval: u32,
    /// Seconds (2..=120), less than `interval`. Default 5.
    #[serde(default = "default_hc_timeout")]
    pub timeout: u32,
    /// Consecutive successes to become healthy (2..=10). Default 2.
    #[serde(default = "default_hc_healthy")]
    pub healthy_threshold: u32,
    /// Consecutive failures to become unhealthy (2..=10). Default 3.
    #[serde(default = "default_hc_unhealthy")]
    pub unhealthy_threshold: u32,
    /// HTTP codes counted as healthy: `200`, `200,302`, `200-299`. Default `200`.
    #[serde(default = "default_hc_matcher")]
    pub matcher: String,
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck {
            path: default_hc_path(),
            port: default_hc_port(),
            interval: default_hc_interval(),
            timeout: default_hc_timeout(),
            healthy_threshold: default_hc_healthy(),
            unhealthy_threshold: default_hc_unhealthy(),
            matcher: default_hc_matcher(),
        }
    }
}

fn default_hc_path() -> String {
    "/".to_string()
}
fn default_hc_port() -> String {
    "traffic-port".to_string()
}
fn default_hc_interval() -> u32 {
    15
}
fn default_hc_timeout() -> u32 {
    5
}
fn default_hc_healthy() -> u32 {
    2
}
fn default_hc_unhealthy() -> u32 {
    3
}
fn default_hc_matcher() -> String {
    "200".to_string()
}

/// `[service_connect]`: the Cloud Map HTTP namespace of the app.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ServiceConnect {
    /// Namespace name, e.g. `local` (clients then call `http://<dns_name>:<port>`).
    pub namespace: String,
    /// Use an existing namespace of that name instead of creating one.
    #[serde(default)]
    pub existing: bool,
    /// Make it the cluster's default Service Connect namespace. Default true.
    #[serde(default = "yes")]
    pub cluster_default: bool,
}

/// `[services.<key>.connect]`: published ports (none = client only) and proxy logs.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default)]
pub struct Connect {
    /// Ports this service publishes in the namespace. Empty: the service only calls others.
    #[serde(default)]
    pub publish: Vec<ConnectPort>,
    /// Stream prefix of the Service Connect proxy's logs in the app's log group.
    /// Default `<key>-connect`.
    #[serde(default)]
    pub log_stream_prefix: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ConnectPort {
    /// Container port to publish; one of the service's `ports`.
    pub port: u16,
    /// Name of the port mapping. Default: the service key.
    #[serde(default)]
    pub name: Option<String>,
    /// Cloud Map service name. Default: the port name.
    #[serde(default)]
    pub discovery_name: Option<String>,
    /// DNS name clients use. Default: the discovery name.
    #[serde(default)]
    pub dns_name: Option<String>,
    /// Port clients use. Default: `port`.
    #[serde(default)]
    pub client_port: Option<u16>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Deployment {
    /// Lower bound of running tasks during a rollout, in % of desired. Default 100.
    #[serde(default = "default_min_healthy")]
    pub minimum_healthy_percent: u32,
    /// Upper bound of running tasks during a rollout, in % of desired. Default 200.
    #[serde(default = "default_max_percent")]
    pub maximum_percent: u32,
    /// Roll back automatically when the circuit breaker trips. Default true.
    #[serde(default = "yes")]
    pub rollback: bool,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            minimum_healthy_percent: default_min_healthy(),
            maximum_percent: default_max_percent(),
            rollback: true,
        }
    }
}

fn default_min_healthy() -> u32 {
    100
}
fn default_max_percent() -> u32 {
    200
}

/// A container health check (`CMD-SHELL` command run inside the container).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ContainerHealthCheck {
    /// Shell command; exit 0 = healthy. E.g. `curl -f http://localhost:5000/healthcheck || exit 1`.
    pub command: String,
    /// Seconds between checks (5..=300). Default 30.
    #[serde(default = "default_chc_interval")]
    pub interval: u32,
    /// Seconds (2..=60). Default 5.
    #[serde(default = "default_chc_timeout")]
    pub timeout: u32,
    /// Failures before unhealthy (1..=10). Default 3.
    #[serde(default = "default_chc_retries")]
    pub retries: u32,
    /// Grace seconds after start (0..=300). Default 0.
    #[serde(default)]
    pub start_period: u32,
}

fn default_chc_interval() -> u32 {
    30
}
fn default_chc_timeout() -> u32 {
    5
}
fn default_chc_retries() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub struct Ulimit {
    pub soft: u32,
    pub hard: u32,
}

/// A further container in the task.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Sidecar {
    pub name: String,
    /// A full image reference.
    pub image: String,
    /// Task stops when it stops. Default false for sidecars.
    #[serde(default)]
    pub essential: bool,
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub health_check: Option<ContainerHealthCheck>,
    #[serde(default)]
    pub depends_on: Vec<ContainerDependency>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct ContainerDependency {
    /// Container name (a sidecar's `name`, or the service key for the main container).
    pub container: String,
    /// `START`, `COMPLETE`, `SUCCESS` or `HEALTHY`. Default `START`.
    #[serde(default)]
    pub condition: ContainerCondition,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ContainerCondition {
    #[default]
    Start,
    Complete,
    Success,
    Healthy,
}

impl ContainerCondition {
    pub fn as_aws(self) -> &'static str {
        match self {
            ContainerCondition::Start => "START",
            ContainerCondition::Complete => "COMPLETE",
            ContainerCondition::Success => "SUCCESS",
            ContainerCondition::Healthy => "HEALTHY",
        }
    }
}

/// `[services.<key>.autoscaling]`: target tracking on one metric.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Autoscaling {
    /// Fewest tasks. Default 1.
    #[serde(default = "default_desired")]
    pub min: u32,
    pub max: u32,
    /// Target average CPU utilisation (%).
    #[serde(default)]
    pub cpu: Option<f64>,
    /// Target average memory utilisation (%).
    #[serde(default)]
    pub memory: Option<f64>,
    /// Target ALB requests per target (needs a target group).
    #[serde(default)]
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
}

fn default_cooldown() -> u32 {
    60
}
