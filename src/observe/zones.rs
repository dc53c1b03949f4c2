//! Availability zones: the configured ones checked against the region offline, or the
//! region's first N read from AWS.

use anyhow::{Context, Result};

use crate::aws::err;
use crate::config::{Config, DEFAULT_AZ_COUNT};
use crate::error::UsageError;
use crate::steps::Ctx;

/// Configured AZ names must belong to the region: a usage error before any AWS call.
pub fn check_azs(c: &Config, region: &str) -> Result<()> {
    if let Some(bad) = c
        .network
        .azs
        .iter()
        .flatten()
        .find(|az| !az_in_region(az, region))
    {
        return Err(UsageError(format!(
            "network.azs: `{bad}` is not an availability zone of region {region}; \
             fix the config or pass the right --region"
        ))
        .into());
    }
    Ok(())
}

/// AZ names: as configured (checked by [`check_azs`]), or the region's first N zones.
/// An imported network brings its own subnets, so it needs none.
pub async fn resolve_azs(ctx: &Ctx, c: &Config) -> Result<Vec<String>> {
    if c.network.existing.is_some() {
        return Ok(vec![]);
    }
    let region = &ctx.aws.region;
    if let Some(azs) = &c.network.azs {
        return Ok(azs.clone());
    }
    let want = usize::from(c.network.az_count.unwrap_or(DEFAULT_AZ_COUNT));
    let out = ctx
        .aws
        .ec2
        .describe_availability_zones()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("zone-type")
                .values("availability-zone")
                .build(),
        )
        .send()
        .await
        .map_err(err)
        .context("listing availability zones")?;
    let mut names: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.state().map(|s| s.as_str()) == Some("available"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    names.sort();
    if names.len() < want {
        anyhow::bail!(
            "region {region} has {} available zones but network.az_count is {want}",
            names.len()
        );
    }
    names.truncate(want);
    Ok(names)
}

/// `ap-northeast-1a` is in `ap-northeast-1`.
fn az_in_region(az: &str, region: &str) -> bool {
    az.strip_prefix(region)
        .is_some_and(|rest| rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn az_region_membership() {
        assert!(az_in_region("ap-northeast-1a", "ap-northeast-1"));
        assert!(!az_in_region("ap-northeast-1a", "ap-northeast-2"));
        assert!(!az_in_region("us-east-1-bos-1a", "us-east-1"));
    }
}
