//! A task's containers besides the image: health checks, ulimits, sidecars and the
//! start order between containers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A container health check (`CMD-SHELL` command run inside the container).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Ulimit {
    pub soft: u32,
    pub hard: u32,
}

/// A further container in the task.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
    pub command: Option<Vec<String>>,
    pub health_check: Option<ContainerHealthCheck>,
    #[serde(default)]
    pub depends_on: Vec<ContainerDependency>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct ContainerDependency {
    /// Container name (a sidecar's `name`, or the service key for the main container).
    pub container: String,
    /// `START`, `COMPLETE`, `SUCCESS` or `HEALTHY`. Default `START`.
    #[serde(default)]
    pub condition: ContainerCondition,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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
