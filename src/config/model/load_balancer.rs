//! `[load_balancer]`: listeners, rules, authentication, and the services' target groups
//! with their health checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SubnetKind;

/// `[load_balancer]`: one Application Load Balancer shared by the app's services.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct LoadBalancer {
    /// ALB name (at most 32 characters). Default `<app>`.
    pub name: Option<String>,
    /// `internet-facing` (default) or `internal`.
    #[serde(default)]
    pub scheme: Scheme,
    /// Subnets: default `public` for internet-facing, `private` for internal.
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

fn default_idle_timeout() -> u32 {
    60
}

fn default_lb_cidrs() -> Vec<String> {
    vec!["0.0.0.0/0".to_string()]
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Listener {
    pub port: u16,
    pub protocol: Protocol,
    /// ACM certificate ARNs (HTTPS); the first is the default certificate.
    #[serde(default)]
    pub certificates: Vec<String>,
    /// TLS policy (HTTPS). Default `ELBSecurityPolicy-TLS13-1-2-2021-06`.
    pub ssl_policy: Option<String>,
    /// Default action: forward to this service's target group.
    pub service: Option<String>,
    /// Default action: redirect to HTTPS on this port (e.g. 443).
    pub redirect_https_port: Option<u16>,
    /// Default action: a fixed response.
    pub fixed_response: Option<FixedResponse>,
    /// Sign users in with Cognito before forwarding (default action and rules).
    pub cognito: Option<Cognito>,
    /// Sign users in with an OIDC provider before forwarding (default action and rules).
    pub oidc: Option<Oidc>,
    /// Routing rules, evaluated by priority before the default action.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct FixedResponse {
    pub status: u16,
    #[serde(default = "default_content_type")]
    pub content_type: String,
    pub body: Option<String>,
}

fn default_content_type() -> String {
    "text/plain".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Cognito {
    pub user_pool_arn: String,
    pub client_id: String,
    /// The user pool domain prefix (or full custom domain).
    pub domain: String,
    /// `authenticate` (default), `allow` or `deny`.
    #[serde(default)]
    pub on_unauthenticated: OnUnauthenticated,
    pub scope: Option<String>,
    pub session_timeout: Option<u32>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    pub scope: Option<String>,
    pub session_timeout: Option<u32>,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    pub priority: Option<u32>,
}

/// `[services.<key>.target_group]`: how the load balancer reaches the service.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct TargetGroup {
    /// Container port to register; one of the service's `ports`.
    pub port: u16,
    /// `HTTP` (default) or `HTTPS`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Target group name (at most 32 characters). Default: derived from app and key plus a
    /// short hash of port and protocol, so changing those creates a new group first.
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
