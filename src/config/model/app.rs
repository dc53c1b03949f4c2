//! App-wide sections: `[repositories]`, `[cluster]`, `[iam]` and `[logs]`.

use serde::{Deserialize, Serialize};

use super::yes;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Repository {
    /// Repository name. Default `<app>-<key>`.
    pub name: Option<String>,
    /// Scan images on push. Default true.
    #[serde(default = "yes")]
    pub scan_on_push: bool,
    /// `MUTABLE` (default) or `IMMUTABLE`.
    #[serde(default)]
    pub tag_mutability: TagMutability,
    /// How many images a lifecycle policy keeps (the newest; untagged ones go after a
    /// day). Default 30; 0 = no lifecycle policy (keep every image).
    #[serde(default = "default_keep_images")]
    pub keep_images: u32,
}

/// Images a repository keeps by default.
pub const DEFAULT_KEEP_IMAGES: u32 = 30;

fn default_keep_images() -> u32 {
    DEFAULT_KEEP_IMAGES
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Cluster {
    /// Cluster name. Default `<app>-cluster`.
    pub name: Option<String>,
    /// Container Insights: `disabled` (default), `enabled` or `enhanced`.
    #[serde(default)]
    pub container_insights: ContainerInsights,
}

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
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

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Default, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Iam {
    /// ARN of an existing task execution role. When omitted ecsdeploy creates
    /// `<app>-execution` with the AWS managed policy AmazonECSTaskExecutionRolePolicy.
    pub execution_role: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Logs {
    /// Log group name. Default `/ecs/<app>`.
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
