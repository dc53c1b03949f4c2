//! The operations behind the commands, apart from how their results are printed: a
//! [`Session`] is opened once, with every setting the run needs, and never patched after;
//! `up` and `down` work from it with their options and return what happened, which the
//! commands in `crate::commands` print.

pub mod down;
pub mod leave_shifting;
pub mod preflight;
pub mod up;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use tokio::sync::watch;

use crate::aws::{Clients, Say, Target};
use crate::cli::{Global, OutputFormat};
use crate::config::{self, Config, Loaded};
use crate::desired::{self, Env, Resource};
use crate::error::{Interrupted, UsageError};
use crate::observe::{imported, zones};
use crate::report::Reporter;
use crate::report::RunSummary;
use crate::steps::Ctx;

/// Everything a command works with.
pub struct Session {
    pub config: Config,
    pub ctx: Ctx,
    pub desired: Vec<Resource>,
    pub output: OutputFormat,
    pub concurrency: usize,
    pub cancel: watch::Receiver<bool>,
    /// `up` runs [`preflight`] before its first write.
    pub preflight: bool,
}

/// What a run's steps need to know beyond the config: set once, when the session opens.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long `up` waits for a service deployment; `None` = do not wait.
    pub service_wait: Option<Duration>,
    /// Delete ECR repositories even when they hold images.
    pub delete_images: bool,
    /// How long deletes retry `DependencyViolation` (ENIs draining) before giving up.
    pub delete_deadline: Duration,
    /// Delete databases without a final snapshot.
    pub skip_final_snapshot: bool,
    /// Observe the facts only `status` shows (target health).
    pub status_details: bool,
    /// `up` runs the preflight checks before its first write.
    pub preflight: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            service_wait: None,
            delete_images: false,
            delete_deadline: Duration::from_secs(600),
            skip_final_snapshot: false,
            status_details: false,
            preflight: false,
        }
    }
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

/// The AWS clients for the config's region (or `--region`), and the checks that need only
/// the region: nothing here calls AWS. A call that cannot reach AWS is said once through
/// `report`, as a warning, while the SDK retries it.
pub async fn connect(
    global: &Global,
    config: &Config,
    report: Arc<dyn Reporter>,
) -> Result<Clients> {
    let target = Target {
        region: global.region.clone().or_else(|| config.region.clone()),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        say: Say(Some(Arc::new(move |m: &str| report.warn(m)))),
    };
    let aws = Clients::new(&target).await?;
    zones::check_azs(config, &aws.region)?;
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
    settings: Settings,
) -> Result<Session> {
    let config = loaded.config;
    let ctx = Ctx {
        app: config.app.clone(),
        cluster: config.cluster_name(),
        aws,
        report,
        service_wait: settings.service_wait,
        delete_images: settings.delete_images,
        delete_deadline: settings.delete_deadline,
        skip_final_snapshot: settings.skip_final_snapshot,
        status_details: settings.status_details,
    };
    let (azs, imported, secrets, namespace_name) = tokio::try_join!(
        zones::resolve_azs(&ctx, &config),
        imported::resolve(&ctx, &config),
        imported::resolve_secrets(&ctx, &config),
        imported::resolve_namespace(&ctx, &config)
    )?;
    let env = Env {
        region: ctx.aws.region.clone(),
        azs,
        imported: imported.network,
        security_groups: imported.security_groups,
        secrets,
        image_tags: image_tags(&config)?,
        namespace_name,
    };
    let desired = desired::build(&config, &env);
    Ok(Session {
        config,
        ctx,
        desired,
        output: global.output,
        concurrency: usize::from(global.concurrency),
        cancel,
        preflight: settings.preflight,
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

/// Map a run's summary to the operation's result (and so the exit code).
pub fn finish(summary: &RunSummary) -> Result<()> {
    if summary.interrupted {
        return Err(Interrupted.into());
    }
    if summary.failed() > 0 {
        bail!("{} step(s) failed", summary.failed());
    }
    Ok(())
}
