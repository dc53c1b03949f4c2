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

/// The zone IDs Fargate runs Linux tasks in, for the regions where it runs in only some of
/// them. Source: Amazon ECS Developer Guide, "Supported Regions for Amazon ECS on AWS
/// Fargate" (Linux containers): us-west-1 `usw1-az1` & `usw1-az3` only, ap-northeast-1
/// `apne1-az1`, `apne1-az2` & `apne1-az4` only, cn-north-1 `cnn1-az1` & `cnn1-az2` only.
const FARGATE_ZONE_IDS: &[(&str, &[&str])] = &[
    ("us-west-1", &["usw1-az1", "usw1-az3"]),
    ("ap-northeast-1", &["apne1-az1", "apne1-az2", "apne1-az4"]),
    ("cn-north-1", &["cnn1-az1", "cnn1-az2"]),
];

/// An available zone of the region: its name (`us-west-1a`, mapped per account) and its ID
/// (`usw1-az3`, the same place in every account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub name: String,
    pub id: String,
}

/// Whether Fargate runs tasks in the zone with this ID.
fn fargate_runs_in(region: &str, zone_id: &str) -> bool {
    FARGATE_ZONE_IDS
        .iter()
        .find(|(r, _)| *r == region)
        .is_none_or(|(_, ids)| ids.contains(&zone_id))
}

/// The zones to use (pure): the configured ones, each checked against the region's
/// available zones and Fargate's, or the first `want` zones Fargate runs in, by name.
/// Every problem is named with its config key, all at once.
pub fn choose(
    region: &str,
    zones: &[Zone],
    configured: Option<&[String]>,
    want: usize,
) -> Result<Vec<String>, Vec<String>> {
    let fargate: Vec<&Zone> = zones
        .iter()
        .filter(|z| fargate_runs_in(region, &z.id))
        .collect();
    let names = |zs: &[&Zone]| {
        zs.iter()
            .map(|z| z.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(configured) = configured else {
        let mut chosen: Vec<&Zone> = fargate.clone();
        chosen.sort_by(|a, b| a.name.cmp(&b.name));
        if chosen.len() < want {
            return Err(vec![format!(
                "network.az_count: {want} zones asked for, but region {region} has {} \
                 available zones where Fargate runs ({}); lower az_count",
                chosen.len(),
                names(&chosen)
            )]);
        }
        chosen.truncate(want);
        return Ok(chosen.into_iter().map(|z| z.name.clone()).collect());
    };
    let mut problems = Vec::new();
    for (i, az) in configured.iter().enumerate() {
        match zones.iter().find(|z| &z.name == az) {
            None => problems.push(format!(
                "network.azs[{i}]: `{az}` is not an available zone of region {region}; the \
                 available zones are {}",
                names(&zones.iter().collect::<Vec<_>>())
            )),
            Some(z) if !fargate_runs_in(region, &z.id) => problems.push(format!(
                "network.azs[{i}]: Fargate does not run tasks in `{az}` (zone ID {}) in \
                 region {region}; use one of {}",
                z.id,
                names(&fargate)
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        Ok(configured.to_vec())
    } else {
        Err(problems)
    }
}

/// The zones the network uses: the configured ones or the region's first N where Fargate
/// runs, checked against what the region has before anything is written (a usage error,
/// exit 2). An imported network brings its own subnets, so it needs none.
pub async fn resolve_azs(ctx: &Ctx, c: &Config) -> Result<Vec<String>> {
    if c.network.existing.is_some() {
        return Ok(vec![]);
    }
    let region = &ctx.aws.region;
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
    let zones: Vec<Zone> = out
        .availability_zones()
        .iter()
        .filter(|z| z.state().map(|s| s.as_str()) == Some("available"))
        .filter_map(|z| {
            Some(Zone {
                name: z.zone_name()?.to_string(),
                id: z.zone_id().unwrap_or_default().to_string(),
            })
        })
        .collect();
    choose(region, &zones, c.network.azs.as_deref(), want)
        .map_err(|problems| UsageError(problems.join("\n")).into())
}

/// `ap-northeast-1a` is in `ap-northeast-1`.
fn az_in_region(az: &str, region: &str) -> bool {
    az.strip_prefix(region)
        .is_some_and(|rest| rest.len() == 1 && rest.chars().all(|c| c.is_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, id: &str) -> Zone {
        Zone {
            name: name.into(),
            id: id.into(),
        }
    }

    fn us_west_1() -> Vec<Zone> {
        // usw1-az2 exists for older accounts; Fargate does not run there.
        vec![
            zone("us-west-1b", "usw1-az1"),
            zone("us-west-1c", "usw1-az2"),
            zone("us-west-1a", "usw1-az3"),
        ]
    }

    #[test]
    fn the_first_zones_fargate_runs_in_by_name() {
        let chosen = choose("us-west-1", &us_west_1(), None, 2).unwrap();
        assert_eq!(chosen, ["us-west-1a", "us-west-1b"]);
        let zones = [
            zone("eu-west-1c", "euw1-az2"),
            zone("eu-west-1a", "euw1-az3"),
        ];
        assert_eq!(
            choose("eu-west-1", &zones, None, 1).unwrap(),
            ["eu-west-1a"]
        );
    }

    #[test]
    fn more_zones_than_fargate_has_is_a_usage_error_naming_az_count() {
        let e = choose("us-west-1", &us_west_1(), None, 3).unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(
            e[0].starts_with("network.az_count: 3 zones asked for"),
            "{e:?}"
        );
        assert!(e[0].contains("has 2 available zones where Fargate runs (us-west-1a, us-west-1b)"));
    }

    #[test]
    fn configured_zones_are_checked_all_at_once() {
        let azs = vec![
            "us-west-1a".to_string(),
            "us-west-1z".to_string(),
            "us-west-1c".to_string(),
        ];
        let e = choose("us-west-1", &us_west_1(), Some(&azs), 2).unwrap_err();
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("network.azs[1]: `us-west-1z` is not an available zone"));
        assert!(e[1].starts_with(
            "network.azs[2]: Fargate does not run tasks in `us-west-1c` (zone ID usw1-az2)"
        ));
        let good = vec!["us-west-1b".to_string()];
        assert_eq!(
            choose("us-west-1", &us_west_1(), Some(&good), 2).unwrap(),
            good
        );
    }

    #[test]
    fn az_region_membership() {
        assert!(az_in_region("ap-northeast-1a", "ap-northeast-1"));
        assert!(!az_in_region("ap-northeast-1a", "ap-northeast-2"));
        assert!(!az_in_region("us-east-1-bos-1a", "us-east-1"));
    }
}
