//! The four commands. Each is thin: open a session (config → AWS clients → desired state),
//! observe, plan, and hand the plan to the engine or the printer.

pub mod down;
pub mod exec;
mod imported;
pub mod init;
pub mod logs;
pub mod plan;
pub mod schema;
pub mod status;
pub mod up;
pub mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use futures::future::try_join_all;
use tokio::sync::watch;

use crate::aws::{err, Clients, Target};
use crate::cli::{Global, OutputFormat};
use crate::config::{self, Config, Loaded, DEFAULT_AZ_COUNT};
use crate::desired::{self, Env, Kind, Resource, ResourceId};
use crate::plan::Observed;
use crate::report::Reporter;
use crate::steps::Ctx;

/// A usage problem found after parsing (exit code 2), e.g. `down` without `--yes` in CI.
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

/// The run was interrupted (exit code 130); the summary was already printed.
#[derive(Debug)]
pub struct Interrupted;

impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("interrupted")
    }
}
impl std::error::Error for Interrupted {}

/// Everything a command works with.
pub struct Session {
    pub config: Config,
    pub ctx: Ctx,
    pub desired: Vec<Resource>,
    pub output: OutputFormat,
    pub concurrency: usize,
    pub cancel: watch::Receiver<bool>,
    /// How long the AWS reads of [`open`] and the run lock took together (seconds); `up
    /// --output json` reports it for the benchmark's critical path.
    pub setup_seconds: f64,
}

impl Session {
    /// The service `key` of the config, or a usage error naming the services there are.
    pub fn service(&self, command: &str, key: &str) -> Result<&config::Service> {
        self.config.services.get(key).ok_or_else(|| {
            let known: Vec<&str> = self.config.services.keys().map(String::as_str).collect();
            UsageError(format!(
                "{command}: `{key}` is not a service of this config; services: {}",
                known.join(", ")
            ))
            .into()
        })
    }
}

/// Load and validate the config (no AWS call before it is valid), then connect.
pub fn load_config(global: &Global, report: &dyn Reporter) -> Result<Loaded> {
    let loaded = config::load_file(&global.config)?;
    for w in &loaded.warnings {
        report.warn(&w.to_string());
    }
    Ok(loaded)
}

/// The AWS clients for the config's region (or `--region`), and the checks that need only
/// the region: nothing here calls AWS.
pub async fn connect(global: &Global, config: &Config) -> Result<Clients> {
    let target = Target {
        region: global.region.clone().or_else(|| config.region.clone()),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
    };
    let aws = Clients::new(&target).await?;
    check_azs(config, &aws.region)?;
    Ok(aws)
}

/// Read what the desired state depends on (zones, imported network and secrets) and build
/// it. Only reads: `up` and `down` take their lock at the same time.
pub async fn open(
    global: &Global,
    loaded: Loaded,
    aws: Clients,
    report: Arc<dyn Reporter>,
    cancel: watch::Receiver<bool>,
) -> Result<Session> {
    let config = loaded.config;
    let ctx = Ctx {
        app: config.app.clone(),
        cluster: config.cluster_name(),
        aws,
        report,
        service_wait: None,
        delete_images: false,
        delete_deadline: Duration::from_secs(600),
        skip_final_snapshot: false,
        status_details: false,
    };
    let (azs, imported, secrets) = tokio::try_join!(
        resolve_azs(&ctx, &config),
        imported::resolve(&ctx, &config),
        imported::resolve_secrets(&ctx, &config)
    )?;
    let env = Env {
        region: ctx.aws.region.clone(),
        azs,
        imported: imported.network,
        security_groups: imported.security_groups,
        secrets,
        image_tags: image_tags(&config)?,
    };
    let desired = desired::build(&config, &env);
    Ok(Session {
        config,
        ctx,
        desired,
        output: global.output,
        concurrency: usize::from(global.concurrency),
        cancel,
        setup_seconds: 0.0,
    })
}

/// The tag of every image the config builds, from its context's source (git commit).
fn image_tags(c: &Config) -> Result<BTreeMap<String, String>> {
    let mut tags = BTreeMap::new();
    for (key, s) in &c.services {
        if let config::Image::Repository(config::RepositoryImage { build: Some(b), .. }) = s.image()
        {
            let dir = b
                .context_dir
                .as_deref()
                .unwrap_or(std::path::Path::new(&b.context));
            let tag = crate::image::tag::source_tag(dir)
                .with_context(|| format!("reading the build context of service {key}"))?;
            tags.insert(key.clone(), tag);
        }
    }
    Ok(tags)
}

/// Configured AZ names must belong to the region: a usage error before any AWS call.
fn check_azs(c: &Config, region: &str) -> Result<()> {
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
async fn resolve_azs(ctx: &Ctx, c: &Config) -> Result<Vec<String>> {
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

/// Observe every kind at once (one batched describe per kind where the API allows).
pub async fn observe(s: &Session) -> Result<BTreeMap<ResourceId, Observed>> {
    let per_kind = Kind::ALL.into_iter().map(|kind| {
        let desired: Vec<&Resource> = s.desired.iter().filter(|r| r.id.kind == kind).collect();
        async move {
            let started = std::time::Instant::now();
            let found = crate::steps::observe(&s.ctx, kind, &desired)
                .await
                .with_context(|| format!("observing {kind} resources"));
            tracing::debug!(
                "observed {kind}: {} found in {} ms",
                found.as_ref().map_or(0, Vec::len),
                started.elapsed().as_millis()
            );
            found
        }
    });
    let mut all = BTreeMap::new();
    for o in try_join_all(per_kind).await?.into_iter().flatten() {
        if let Some(prev) = all.get(&o.id) {
            let prev: &Observed = prev;
            s.ctx.report.warn(&format!(
                "two AWS resources claim to be {} ({} and {}); using the first — delete the \
                 other by hand",
                o.id,
                prev.outputs.id(),
                o.outputs.id()
            ));
            continue;
        }
        all.insert(o.id.clone(), o);
    }
    Ok(all)
}

/// Print a JSON document on stdout.
pub fn print_json(v: &serde_json::Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).expect("JSON values always serialise")
    );
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
