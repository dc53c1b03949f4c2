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
use crate::desired::{ResourceId, TAG_APP};
use crate::plan::Unsettled;
use crate::steps::support::autoscaling::{DIMENSION, NAMESPACE};
use crate::steps::support::ownership::{is_ours, not_owned};
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
    if !is_ours(ctx, tag(s.tags(), TAG_APP)) {
        return Err(not_owned(
            ctx,
            &format!("service {name} in cluster {}", ctx.cluster),
            "ecsdeploy acts only on its own services",
        ));
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

/// Before a service that shifts traffic turns rolling: its deployment in flight (if any)
/// followed to its end, then, unless production is on `keeps` by then (the production
/// rule `rule` read again), one more deployment under the service's current strategy, so
/// that ECS, which alternates the two target groups, moves the tasks and the traffic to
/// `keeps` (see `ops::leave_shifting`).
pub async fn traffic_back(
    ctx: &Ctx,
    id: &ResourceId,
    name: &str,
    keeps: &str,
    rule: &str,
    in_flight: Option<&Unsettled>,
) -> Result<()> {
    let key = id.to_string();
    // Waited for even with --no-wait: ECS refuses to turn a service rolling while a
    // deployment is in progress ("Update the Amazon ECS deployment strategy"), and the
    // switch must find the traffic where these deployments put it.
    let timeout = ctx.service_wait.unwrap_or(SWITCH_WAIT);
    if let Some(u) = in_flight {
        let found = describe_services(ctx, &[name.to_string()]).await?;
        let svc = found
            .first()
            .ok_or_else(|| anyhow!("service {name} disappeared"))?;
        let since = super::outcome::Since::deployment(u.since.as_deref());
        let outcome = super::lifecycle::wait(ctx, &key, svc, &u.deployment, since, timeout).await?;
        conclude(outcome, &u.deployment)?;
    }
    let live = ctx.aws.elb.describe_rules().rule_arns(rule).send().await;
    let weights = live
        .map_err(err)?
        .rules()
        .first()
        .map(|r| crate::steps::support::elb_actions::forward_weights(r.actions()))
        .unwrap_or_default();
    if weights.get(keeps).copied().unwrap_or(0) == weights.values().sum::<i32>() {
        return Ok(());
    }
    let group = keeps.split('/').nth(1).unwrap_or(keeps);
    ctx.report.progress(
        &key,
        &format!(
            "production traffic is on the other target group: one more deployment moves it \
             to {group}, which the rolling service keeps"
        ),
    );
    let out = update(ctx, name)
        .force_new_deployment(true)
        .send()
        .await
        .map_err(err)?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow!("UpdateService returned no service"))?;
    let Some((deployment, outcome)) = super::follow_mutation(ctx, &key, svc, timeout).await? else {
        bail!("service {name} reports no deployment");
    };
    conclude(outcome, &deployment)
}

/// How long [`traffic_back`] waits when `up` itself does not wait (`--no-wait`).
const SWITCH_WAIT: std::time::Duration = std::time::Duration::from_secs(900);

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
