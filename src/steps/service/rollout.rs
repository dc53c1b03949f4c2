//! Following a deployment: the pure judge of one look at the service, and the wait that
//! polls it until the deployment is stable, failed or out of time.

use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{DeploymentRolloutState, DesiredStatus, Service};
use aws_smithy_types::date_time::Format;

use super::describe_services;
use super::outcome::{Judgement, Since, WaitOutcome};
use crate::aws::{answer, err, stopped_waiting_for, Backoff};
use crate::plan::{Observed, Unsettled};
use crate::steps::Ctx;

/// Judge the deployment `deployment_id` of a described service. Success needs that very
/// deployment COMPLETED as PRIMARY with running == desired; FAILED is failure; the
/// deployment disappearing or losing PRIMARY to another one means it was superseded or
/// rolled back.
pub fn judge(s: &Service, deployment_id: &str) -> Judgement {
    let Some(d) = s
        .deployments()
        .iter()
        .find(|d| d.id() == Some(deployment_id))
    else {
        return Judgement::Failed(format!(
            "deployment {deployment_id} is no longer listed (superseded or rolled back)"
        ));
    };
    let reason = d.rollout_state_reason().unwrap_or("").to_string();
    match d.rollout_state() {
        Some(DeploymentRolloutState::Failed) => {
            // With rollback on, ECS starts a deployment of the previous revision.
            let back_to = s
                .deployments()
                .iter()
                .find(|x| x.id() != Some(deployment_id))
                .and_then(|x| x.task_definition())
                .map(|td| format!("; rolled back to {}", td.rsplit('/').next().unwrap_or(td)))
                .unwrap_or_default();
            return Judgement::Failed(format!("{reason}{back_to}"));
        }
        // With early success criteria ECS calls the deployment COMPLETED once enough new
        // tasks are healthy and the old ones are gone; it starts the rest afterwards.
        Some(DeploymentRolloutState::Completed)
            if d.status() == Some("PRIMARY")
                && s.deployments().len() == 1
                && (s.running_count() == s.desired_count()
                    || super::deployment::early_success(s.deployment_configuration())) =>
        {
            return Judgement::Stable
        }
        _ => {}
    }
    if d.status() != Some("PRIMARY") {
        return Judgement::Failed(format!(
            "deployment {deployment_id} is no longer PRIMARY ({})",
            d.status().unwrap_or("?")
        ));
    }
    Judgement::InProgress(format!(
        "{}/{} running, {} pending, rollout {}",
        s.running_count(),
        s.desired_count(),
        s.pending_count(),
        d.rollout_state().map_or("-", |r| r.as_str())
    ))
}

/// Where the latest deployment of a described service stands, when it is not settled
/// (pure): a deployment the circuit breaker failed — still PRIMARY, or ACTIVE beside the
/// rollback ECS started — is a failure until a newer deployment succeeds; otherwise the
/// PRIMARY one is in progress until it is COMPLETED and alone (the previous deployment's
/// tasks gone). A deployment without a rollout state (not the ECS rolling-update
/// controller) is settled once it is alone and every task runs.
pub fn unsettled(s: &Service) -> Option<Unsettled> {
    let since = |d: &aws_sdk_ecs::types::Deployment| {
        d.created_at().and_then(|t| t.fmt(Format::DateTime).ok())
    };
    // The latest deployment: one started after a failed one (a new image, `up` again)
    // supersedes it. The rollback does not: it rolls the service back to "the last
    // deployment that completed successfully" (ECS API DeploymentCircuitBreaker.rollback),
    // which the developer guide describes as taken up again (COMPLETED to IN_PROGRESS), so
    // older than the failed one. Were it listed as a newer deployment, the rolled-back
    // fields would differ from the config: an update, which fails again (exit 1 still).
    let superseded = |d: &aws_sdk_ecs::types::Deployment| {
        s.deployments().iter().any(|x| {
            x.id() != d.id()
                && matches!((x.created_at(), d.created_at()), (Some(a), Some(b)) if a > b)
        })
    };
    if let Some(d) = s
        .deployments()
        .iter()
        .find(|d| d.rollout_state() == Some(&DeploymentRolloutState::Failed) && !superseded(d))
    {
        let id = d.id().unwrap_or("?");
        let reason = match judge(s, id) {
            Judgement::Failed(r) if !r.is_empty() => r,
            _ => "failed".to_string(),
        };
        let mut attempted = crate::desired::Fields::new();
        if let Some(td) = d.task_definition() {
            attempted.insert("task_definition".into(), td.into());
        }
        return Some(Unsettled {
            deployment: id.to_string(),
            since: since(d),
            failed: true,
            reason,
            attempted,
        });
    }
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))?;
    let id = primary.id()?;
    let alone = s.deployments().len() == 1;
    let settled = match primary.rollout_state() {
        // Once COMPLETED, a task that stops and is replaced, or an autoscaler's new desired
        // count, is the service's life, not this deployment's: running may differ a while.
        Some(DeploymentRolloutState::Completed) => alone,
        None => alone && s.running_count() == s.desired_count(),
        Some(_) => false,
    };
    if settled {
        return None;
    }
    match judge(s, id) {
        Judgement::Stable => None,
        Judgement::InProgress(state) => Some(Unsettled {
            deployment: id.to_string(),
            since: since(primary),
            failed: false,
            reason: state,
            attempted: Default::default(),
        }),
        Judgement::Failed(reason) => Some(Unsettled {
            deployment: id.to_string(),
            since: since(primary),
            failed: true,
            reason,
            attempted: Default::default(),
        }),
    }
}

/// Poll until the deployment is judged, printing the service events `since` lets through
/// as progress. Polls on the [`Backoff::watching`] schedule, the last time at `timeout`.
pub async fn wait_stable(
    ctx: &Ctx,
    key: &str,
    name: &str,
    deployment_id: &str,
    mut since: Since,
    timeout: Duration,
) -> Result<WaitOutcome> {
    let mut backoff = Backoff::watching(timeout);
    loop {
        let found = describe_services(ctx, &[name.to_string()]).await?;
        let Some(s) = found.first() else {
            bail!("service {name} disappeared while waiting for its deployment");
        };
        for msg in since.fresh(s.events()) {
            ctx.report.progress(key, &msg);
        }
        match judge(s, deployment_id) {
            Judgement::Stable => return Ok(WaitOutcome::Stable(Box::new(s.clone()))),
            Judgement::Failed(reason) => {
                return Ok(WaitOutcome::Failed(with_stopped(ctx, name, reason).await));
            }
            Judgement::InProgress(state) => {
                ctx.report.progress(key, &state);
                let paused = backoff.pause().await;
                let what = format!("deployment {deployment_id}");
                if !paused.map_err(|e| stopped_waiting_for(e, &what))? {
                    return Ok(WaitOutcome::TimedOut(state, backoff.elapsed()));
                }
            }
        }
    }
}

/// `reason`, followed by why the service's last tasks stopped when ECS still says.
async fn with_stopped(ctx: &Ctx, name: &str, reason: String) -> String {
    let stopped = stopped_reasons(ctx, name).await.unwrap_or_default();
    let mut msg = reason;
    if !stopped.is_empty() {
        msg.push_str("; last stopped tasks: ");
        msg.push_str(&stopped.join("; "));
    }
    msg
}

/// The end of a wait as the step's result.
pub fn conclude(outcome: WaitOutcome, deployment: &str) -> Result<()> {
    match outcome {
        WaitOutcome::Stable(_) => Ok(()),
        WaitOutcome::Failed(reason) => bail!("deployment {deployment} failed: {reason}"),
        WaitOutcome::TimedOut(state, waited) => bail!(
            "timed out after {} waiting for deployment {deployment} ({state}); it may still \
             complete: check `ecsdeploy status`, or raise --wait-timeout",
            humantime::format_duration(Duration::from_secs(waited.as_secs()))
        ),
    }
}

/// `up` on a service whose fields match the config but whose latest deployment has not
/// settled ([`unsettled`], planned as `wait` or `failed`): one in progress is waited for
/// as a fresh one is, reading only; a failed one is the failure it is, and nothing is
/// redeployed (the same revision would fail the same way).
pub async fn follow(ctx: &Ctx, o: &Observed, u: &Unsettled) -> Result<String> {
    let d = &u.deployment;
    if u.failed {
        let reason = with_stopped(ctx, &o.name, u.reason.clone()).await;
        bail!(
            "deployment {d} failed: {}. The service's task definition and settings have not \
             changed since, so it was not redeployed: change its image or config to start a \
             new deployment (after a fix elsewhere, such as a role's policy, `ecsdeploy \
             restart {}` starts one)",
            reason.trim_end_matches('.'),
            o.id.name
        );
    }
    let Some(timeout) = ctx.service_wait else {
        return Ok(format!("deployment {d} still in progress (not waited for)"));
    };
    let since = Since::deployment(u.since.as_deref());
    let key = o.id.to_string();
    // A service deployment (blue/green, canary, linear) is followed through its lifecycle.
    let outcome = if d.starts_with("arn:") {
        let found = describe_services(ctx, std::slice::from_ref(&o.name)).await?;
        let Some(svc) = found.first() else {
            bail!(
                "service {} disappeared while waiting for its deployment",
                o.name
            );
        };
        super::lifecycle::wait(ctx, &key, svc, d, since, timeout).await?
    } else {
        wait_stable(ctx, &key, &o.name, d, since, timeout).await?
    };
    conclude(outcome, d)?;
    Ok(format!("deployment {d} completed"))
}

/// Why the service's recently stopped tasks stopped (at most 3).
async fn stopped_reasons(ctx: &Ctx, name: &str) -> Result<Vec<String>> {
    let listed = ctx
        .aws
        .ecs
        .list_tasks()
        .cluster(&ctx.cluster)
        .service_name(name)
        .desired_status(DesiredStatus::Stopped)
        .max_results(3)
        .send()
        .await
        .map_err(err)?;
    if listed.task_arns().is_empty() {
        return Ok(vec![]);
    }
    let call = ctx.aws.ecs.describe_tasks().cluster(&ctx.cluster);
    let call = call.set_tasks(Some(listed.task_arns().to_vec()));
    let tasks = answer(call.send()).await?;
    Ok(tasks
        .tasks()
        .iter()
        .filter_map(|t| t.stopped_reason().map(str::to_string))
        .collect())
}
