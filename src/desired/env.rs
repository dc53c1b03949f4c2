//! What the desired state needs to know about the target account and region, resolved
//! before building: the input of every area builder (kept apart from `build` so the area
//! builders import only this, never the top-level builder that imports them).

use std::collections::BTreeMap;

use super::resource::Val;

/// Facts about the target account/region the desired state depends on.
#[derive(Debug, Clone, Default)]
pub struct Env {
    pub region: String,
    /// AZ names, one per subnet pair, in config order (created networks).
    pub azs: Vec<String>,
    /// The imported network, resolved and checked before building.
    pub imported: Option<ImportedNetwork>,
    /// Imported security groups as written in the config (id or Name tag) → group id.
    pub security_groups: BTreeMap<String, String>,
    /// Existing secrets as written in the config (name or ARN) → full ARN.
    pub secrets: BTreeMap<String, String>,
    /// Services that build their image → the tag of this build (see `image::tag`).
    pub image_tags: BTreeMap<String, String>,
    /// The name of an existing Service Connect namespace the config gives by ARN, read from
    /// Cloud Map (default client-alias DNS names are composed from the name).
    pub namespace_name: Option<String>,
}

/// An existing network, by id, as found in AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedNetwork {
    pub vpc_id: String,
    pub public_subnets: Vec<String>,
    pub private_subnets: Vec<String>,
}

impl Env {
    /// The id of an imported security group named in the config.
    pub fn imported_sg(&self, written: &str) -> Val {
        Val::lit(
            self.security_groups
                .get(written)
                .cloned()
                .unwrap_or_else(|| written.to_string()),
        )
    }
}

/// ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}
