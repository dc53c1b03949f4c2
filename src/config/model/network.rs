//! `[network]`: a created VPC or an imported one.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Network {
    /// IPv4 CIDR of the VPC ecsdeploy creates.
    #[serde(default = "default_vpc_cidr")]
    pub vpc_cidr: String,
    /// Availability zones by name (e.g. `ap-northeast-1a`). Mutually exclusive with `az_count`.
    pub azs: Option<Vec<String>>,
    /// Number of availability zones to use (the region's first N). Default 2.
    pub az_count: Option<u8>,
    /// Public subnet CIDRs, one per AZ. Derived from `vpc_cidr` when omitted.
    pub public_subnets: Option<Vec<String>>,
    /// Private subnet CIDRs, one per AZ. Derived from `vpc_cidr` when omitted and something
    /// runs in private subnets.
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

#[derive(
    Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum NatMode {
    #[default]
    None,
    Single,
    PerAz,
}

/// An imported network. Each value is an id (`vpc-...`, `subnet-...`) or the value of the
/// resource's `Name` tag. ecsdeploy never modifies or deletes these.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
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
