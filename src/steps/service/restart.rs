//! `ecsdeploy restart`: a new deployment of the revision a service runs, so that its tasks
//! start again and read their secrets afresh (after a password or key was rotated). It
//! changes nothing the config describes, so the next `up` has nothing to undo.

use anyhow::{anyhow, bail, Result};

use super::rollout::{conclude, wait_stable, Since};
use super::{describe_services, primary_id};
use crate::aws::err;
use crate::desired::TAG_APP;
use crate::steps::support::tags::tag;
use crate::steps::Ctx;

/// Starts a new deployment of service `name` (same task definition, same settings) and,
/// unless `ctx.service_wait` is `None`, waits for it as `up` waits for its own.
pub async fn restart(ctx: &Ctx, name: &str) -> Result<String> {
    let found = describe_services(ctx, &[name.to_string()]).await?;
    let Some(s) = found.iter().find(|s| s.status() == Some("ACTIVE")) else {
        bail!(
            "service {name} does not exist in cluster {}: run `ecsdeploy up` first",
            ctx.cluster
        );
    };
    if tag(s.tags(), TAG_APP) != Some(ctx.app.as_str()) {
        bail!(
            "service {name} in cluster {} is not owned by app {}; ecsdeploy restarts only \
             its own services",
            ctx.cluster,
            ctx.app
        );
    }
    let out = ctx
        .aws
        .ecs
        .update_service()
        .cluster(&ctx.cluster)
        .service(name)
        .force_new_deployment(true)
        .send()
        .await
        .map_err(err)?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow!("UpdateService returned no service"))?;
    let deployment =
        primary_id(svc).ok_or_else(|| anyhow!("service {name} reports no new deployment"))?;
    let Some(timeout) = ctx.service_wait else {
        return Ok(format!("deployment {deployment} started (not waited for)"));
    };
    let since = Since::mutation(svc, &deployment);
    let key = format!("service.{name}");
    ctx.report.start(&key, &format!("restart {name}"));
    let started = std::time::Instant::now();
    let outcome = wait_stable(ctx, &key, name, &deployment, since, timeout).await?;
    let result = conclude(outcome, &deployment);
    let shown = match &result {
        Ok(()) => crate::report::Outcome::Done(format!("deployment {deployment} completed")),
        Err(e) => crate::report::Outcome::Failed(format!("{e:#}")),
    };
    ctx.report.done(&key, &shown, started.elapsed());
    result.map(|()| format!("deployment {deployment} completed"))
}
