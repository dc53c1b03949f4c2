//! What a user does to a service between deploys, outside the plan: `ecsdeploy restart`
//! (a new deployment of the revision it runs, so that its tasks start again and read their
//! secrets afresh after a rotation; nothing the config describes changes) and `ecsdeploy
//! scale` (its task count, or its autoscaling bounds). Both act only on the app's own
//! services and wait as `up` waits.

use anyhow::{anyhow, bail, Result};
use aws_sdk_ecs::operation::update_service::builders::UpdateServiceFluentBuilder;
use aws_sdk_ecs::types::Service;

use super::rollout::conclude;
use super::{describe_services, primary_id};
use crate::aws::err;
use crate::desired::TAG_APP;
use crate::steps::support::autoscaling::{DIMENSION, NAMESPACE};
use crate::steps::support::tags::tag;
use crate::steps::Ctx;

/// The app's ACTIVE service `name`, or why there is none to act on.
pub async fn owned(ctx: &Ctx, name: &str) -> Result<Service> {
    let found = describe_services(ctx, &[name.to_string()]).await?;
    let Some(s) = found.iter().find(|s| s.status() == Some("ACTIVE")) else {
        bail!(
            "service {name} does not exist in cluster {}: run `ecsdeploy up` first",
            ctx.cluster
        );
    };
    if tag(s.tags(), TAG_APP) != Some(ctx.app.as_str()) {
        bail!(
            "service {name} in cluster {} is not owned by app {}; ecsdeploy acts only on \
             its own services",
            ctx.cluster,
            ctx.app
        );
    }
    Ok(s.clone())
}

/// Starts a new deployment of service `name` (same task definition, same settings) and,
/// unless `ctx.service_wait` is `None`, waits for it as `up` waits for its own.
pub async fn restart(ctx: &Ctx, name: &str) -> Result<String> {
    owned(ctx, name).await?;
    let call = update(ctx, name).force_new_deployment(true);
    changed(ctx, name, call, "restart").await
}

/// UpdateService of `name` in the app's cluster, to which the caller adds the change.
pub(super) fn update(ctx: &Ctx, name: &str) -> UpdateServiceFluentBuilder {
    ctx.aws
        .ecs
        .update_service()
        .cluster(&ctx.cluster)
        .service(name)
}

/// Sends `call` and waits for the deployment its answer names as primary.
pub(super) async fn changed(
    ctx: &Ctx,
    name: &str,
    call: UpdateServiceFluentBuilder,
    verb: &str,
) -> Result<String> {
    let out = call.send().await.map_err(err)?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow!("UpdateService returned no service"))?;
    waited(ctx, name, svc, verb).await
}

/// One more deployment under the service's current (traffic-shifting) strategy, so that
/// ECS, which alternates the two target groups, moves the tasks and production traffic to
/// `keeps` before the service turns rolling (see `ops::leave_shifting`).
pub async fn traffic_back(ctx: &Ctx, key: &str, name: &str, keeps: &str) -> Result<()> {
    let group = keeps.split('/').nth(1).unwrap_or(keeps);
    ctx.report.progress(
        key,
        &format!(
            "production traffic is on the other target group: one more deployment moves it \
             to {group}, which the rolling service keeps"
        ),
    );
    let call = update(ctx, name).force_new_deployment(true);
    changed(ctx, name, call, "move traffic back").await?;
    Ok(())
}

/// Sets the task count of a service without autoscaling, and waits until its deployment
/// runs that many tasks.
pub async fn scale(ctx: &Ctx, name: &str, count: u32) -> Result<String> {
    let before = owned(ctx, name).await?;
    let call = update(ctx, name).desired_count(i32::try_from(count)?);
    let done = changed(ctx, name, call, "scale").await?;
    Ok(format!(
        "{} → {count} tasks; {done}",
        before.desired_count()
    ))
}

/// Sets the bounds autoscaling keeps service `name`'s task count within.
pub async fn scale_bounds(ctx: &Ctx, name: &str, min: u32, max: u32) -> Result<String> {
    owned(ctx, name).await?;
    ctx.aws
        .autoscaling
        .register_scalable_target()
        .service_namespace(NAMESPACE)
        .resource_id(format!("service/{}/{name}", ctx.cluster))
        .scalable_dimension(DIMENSION)
        .min_capacity(i32::try_from(min)?)
        .max_capacity(i32::try_from(max)?)
        .send()
        .await
        .map_err(err)?;
    Ok(format!("autoscaling keeps {min} to {max} tasks"))
}

/// Waits (unless `ctx.service_wait` is `None`) for `deployment`, which the answer `svc` of
/// an UpdateService started or changed, reporting it as a step named `verb`.
async fn waited(ctx: &Ctx, name: &str, svc: &Service, verb: &str) -> Result<String> {
    let Some(timeout) = ctx.service_wait else {
        let started = primary_id(svc).unwrap_or_default();
        return Ok(format!("deployment {started} started (not waited for)"));
    };
    let key = format!("service.{name}");
    ctx.report.start(&key, &format!("{verb} {name}"));
    let started = std::time::Instant::now();
    let Some((deployment, outcome)) = super::follow_mutation(ctx, &key, svc, timeout).await? else {
        bail!("service {name} reports no deployment");
    };
    let result = conclude(outcome, &deployment);
    let shown = match &result {
        Ok(()) => crate::report::Outcome::Done(format!("deployment {deployment} completed")),
        Err(e) => crate::report::Outcome::Failed(format!("{e:#}")),
    };
    ctx.report.done(&key, &shown, started.elapsed());
    result.map(|()| format!("deployment {deployment} completed"))
}
