//! Following a deployment: the pure judge of one look at the service, and the wait that
//! polls it until the deployment is stable, failed or out of time.

use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{DeploymentRolloutState, DesiredStatus, Service};

use super::describe_services;
use crate::aws::{answer, err, Backoff};
use crate::steps::Ctx;

/// How a wait for a deployment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitOutcome {
    Stable,
    /// The circuit breaker rolled back (or ECS marked the deployment FAILED).
    Failed(String),
    /// Still in progress when the timeout hit; the last observed state.
    TimedOut(String),
}

/// Where one poll leaves a deployment (pure; see [`judge`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Stable,
    Failed(String),
    InProgress(String),
}

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
        Some(DeploymentRolloutState::Completed)
            if d.status() == Some("PRIMARY")
                && s.running_count() == s.desired_count()
                && s.deployments().len() == 1 =>
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

/// Poll until the deployment is judged, printing new service events as progress.
/// Polls on the [`Backoff`] schedule, the last time at `timeout`.
pub async fn wait_stable(
    ctx: &Ctx,
    key: &str,
    name: &str,
    deployment_id: &str,
    timeout: Duration,
) -> Result<WaitOutcome> {
    let mut backoff = Backoff::new(timeout);
    let mut seen_events: Vec<String> = Vec::new();
    loop {
        let found = describe_services(ctx, &[name.to_string()]).await?;
        let Some(s) = found.first() else {
            bail!("service {name} disappeared while waiting for its deployment");
        };
        for e in s.events().iter().rev() {
            if let (Some(id), Some(msg)) = (e.id(), e.message()) {
                if !seen_events.iter().any(|x| x == id) {
                    seen_events.push(id.to_string());
                    ctx.report.progress(key, msg);
                }
            }
        }
        match judge(s, deployment_id) {
            Judgement::Stable => return Ok(WaitOutcome::Stable),
            Judgement::Failed(reason) => {
                let stopped = stopped_reasons(ctx, name).await.unwrap_or_default();
                let mut msg = reason;
                if !stopped.is_empty() {
                    msg.push_str("; last stopped tasks: ");
                    msg.push_str(&stopped.join("; "));
                }
                return Ok(WaitOutcome::Failed(msg));
            }
            Judgement::InProgress(state) => {
                ctx.report.progress(key, &state);
                if !backoff.pause().await {
                    return Ok(WaitOutcome::TimedOut(state));
                }
            }
        }
    }
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

