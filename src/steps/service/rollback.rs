//! `ecsdeploy rollback SERVICE`: a deployment still in flight is stopped with a rollback
//! (ECS API `StopServiceDeployment`, stop type `ROLLBACK`: "rolls back the service
//! deployment to the previous service revision", whatever the service's own rollback
//! setting); otherwise the service goes back to the task definition of the newest earlier
//! service revision whose deployment succeeded (`ListServiceDeployments`,
//! `DescribeServiceRevisions`), waited for as `up` waits.

use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use aws_sdk_ecs::types::{
    ServiceDeploymentBrief, ServiceDeploymentStatus, StopServiceDeploymentStopType,
};
use serde::Serialize;

use super::history::{describe, list, revision_task_definitions, Attempts};
use super::manual::{owned, update};
use crate::aws::{err, stopped_waiting_for, Backoff};
use crate::steps::Ctx;

/// What `rollback` did, for the command's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RolledBack {
    /// `stopped_with_rollback` (a deployment in flight), `redeployed` (an earlier revision
    /// deployed anew) or `already_rolled_back` (ECS rolled the latest deployment back).
    pub action: &'static str,
    /// The task definition the service ran, or was being deployed to.
    pub from: String,
    /// The task definition it went back to (`null` in JSON when ECS did not say).
    pub to: Option<String>,
    /// The service deployment stopped, or the one that had deployed `to`.
    pub service_deployment: String,
    /// How it ended: completed, or not waited for.
    pub result: String,
}

/// The deployments newest first (pure).
pub fn newest_first(mut briefs: Vec<ServiceDeploymentBrief>) -> Vec<ServiceDeploymentBrief> {
    briefs.sort_by(|a, b| b.created_at().cmp(&a.created_at()));
    briefs
}

pub async fn rollback(ctx: &Ctx, name: &str) -> Result<RolledBack> {
    use ServiceDeploymentStatus as S;
    let svc = owned(ctx, name).await?;
    let current = svc.task_definition().unwrap_or_default().to_string();
    // ListServiceDeployments promises no order: each question is asked with a status
    // filter and every page read, then sorted here.
    let in_flight_statuses = [
        S::Pending,
        S::InProgress,
        S::RollbackRequested,
        S::RollbackInProgress,
        S::StopRequested,
    ];
    let flying = newest_first(list(ctx, name, &in_flight_statuses, Attempts::Retried).await?);
    if let Some(latest) = flying.first() {
        let arn = latest
            .service_deployment_arn()
            .unwrap_or_default()
            .to_string();
        if latest.status() == Some(&S::StopRequested) {
            // ECS developer guide, "Stopping Amazon ECS service deployments": a deployment
            // in STOP_REQUESTED "continues to stop"; it is not rolled back.
            bail!(
                "deployment {arn} of service {name} is being stopped (STOP_REQUESTED), not \
                 rolled back: run `ecsdeploy rollback` again once it has stopped"
            );
        }
        return stop_with_rollback(ctx, name, latest, &arn).await;
    }
    let successful = newest_first(list(ctx, name, &[S::Successful], Attempts::Retried).await?);
    let rolled_back =
        newest_first(list(ctx, name, &[S::RollbackSuccessful], Attempts::Retried).await?);
    // The latest deployment was rolled back already (by the circuit breaker, an alarm or an
    // earlier `rollback`): the service runs the revision before it, and going back once
    // more would skip that one too.
    if let Some(r) = rolled_back.first() {
        if successful
            .first()
            .is_none_or(|s| r.created_at() > s.created_at())
        {
            let target: Vec<String> = r
                .target_service_revision_arn()
                .map(str::to_string)
                .into_iter()
                .collect();
            let from = revision_task_definitions(ctx, &target)
                .await?
                .into_values()
                .next()
                .unwrap_or_default();
            return Ok(RolledBack {
                action: "already_rolled_back",
                from,
                to: Some(current),
                service_deployment: r.service_deployment_arn().unwrap_or_default().to_string(),
                result: "nothing to do: ECS already rolled the latest deployment back".into(),
            });
        }
    }
    // The newest earlier revision deployed successfully with another task definition,
    // looked up 20 at a time (DescribeServiceRevisions' limit), newest first.
    let mut earlier = None;
    for chunk in successful.chunks(20) {
        let arns: Vec<String> = chunk
            .iter()
            .filter_map(|b| b.target_service_revision_arn().map(str::to_string))
            .collect();
        let task_defs = revision_task_definitions(ctx, &arns).await?;
        earlier = chunk.iter().find_map(|b| {
            let td = task_defs.get(b.target_service_revision_arn()?)?;
            (*td != current).then(|| (td.clone(), b.service_deployment_arn().unwrap_or_default()))
        });
        if earlier.is_some() {
            break;
        }
    }
    let Some((to, deployment)) = earlier else {
        bail!(
            "service {name} has no earlier revision that deployed successfully (it runs {}): \
             nothing to roll back to",
            short(&current)
        );
    };
    let call = update(ctx, name).task_definition(&to);
    let result = super::manual::changed(ctx, name, call, "rollback").await?;
    Ok(RolledBack {
        action: "redeployed",
        from: current,
        to: Some(to),
        service_deployment: deployment.to_string(),
        result,
    })
}

/// StopServiceDeployment with rollback, then the wait for the rollback to finish.
async fn stop_with_rollback(
    ctx: &Ctx,
    name: &str,
    latest: &ServiceDeploymentBrief,
    arn: &str,
) -> Result<RolledBack> {
    let already = matches!(
        latest.status(),
        Some(
            ServiceDeploymentStatus::RollbackRequested
                | ServiceDeploymentStatus::RollbackInProgress
        )
    );
    if !already {
        ctx.aws
            .ecs
            .stop_service_deployment()
            .service_deployment_arn(arn)
            .stop_type(StopServiceDeploymentStopType::Rollback)
            .send()
            .await
            .map_err(err)?;
    }
    let from = revision_task_definitions(
        ctx,
        &latest
            .target_service_revision_arn()
            .map(str::to_string)
            .into_iter()
            .collect::<Vec<_>>(),
    )
    .await?
    .into_values()
    .next()
    .unwrap_or_default();
    let Some(timeout) = ctx.service_wait else {
        return Ok(RolledBack {
            action: "stopped_with_rollback",
            from,
            to: None,
            service_deployment: arn.to_string(),
            result: "rollback started (not waited for)".into(),
        });
    };
    let key = format!("service.{name}");
    ctx.report.start(&key, &format!("rollback {name}"));
    let started = std::time::Instant::now();
    let outcome = wait_rollback(ctx, &key, arn, timeout).await;
    let shown = match &outcome {
        Ok(_) => crate::report::Outcome::Done("rolled back".into()),
        Err(e) => crate::report::Outcome::Failed(format!("{e:#}")),
    };
    ctx.report.done(&key, &shown, started.elapsed());
    let to = outcome?;
    Ok(RolledBack {
        action: "stopped_with_rollback",
        from,
        to,
        service_deployment: arn.to_string(),
        result: "rollback completed".into(),
    })
}

/// Polls the stopped deployment until its rollback succeeds (the task definition rolled
/// back to, when ECS names the source revision) or fails.
async fn wait_rollback(
    ctx: &Ctx,
    key: &str,
    arn: &str,
    timeout: Duration,
) -> Result<Option<String>> {
    let mut backoff = Backoff::watching(timeout);
    let mut last = String::new();
    loop {
        let found = describe(ctx, &[arn.to_string()]).await?;
        let d = found
            .first()
            .ok_or_else(|| anyhow!("service deployment {arn} is no longer described"))?;
        let status = d.status().map_or("?", |s| s.as_str()).to_string();
        let stage = d
            .lifecycle_stage()
            .map(|s| s.as_str().to_lowercase().replace('_', " "));
        let state = match stage {
            Some(stage) => format!("{status} ({stage})"),
            None => status.clone(),
        };
        if state != last {
            ctx.report.progress(key, &state);
            last = state.clone();
        }
        match d.status() {
            Some(ServiceDeploymentStatus::RollbackSuccessful) => {
                let source: Vec<String> = d
                    .source_service_revisions()
                    .iter()
                    .filter_map(|r| r.arn().map(str::to_string))
                    .collect();
                let to = revision_task_definitions(ctx, &source)
                    .await?
                    .into_values()
                    .next();
                return Ok(to);
            }
            Some(ServiceDeploymentStatus::RollbackFailed | ServiceDeploymentStatus::Stopped) => {
                let reason = d.status_reason().unwrap_or("no reason given");
                bail!("the rollback of deployment {arn} ended {status}: {reason}");
            }
            _ => {}
        }
        let paused = backoff.pause().await;
        if !paused.map_err(|e| stopped_waiting_for(e, &format!("the rollback of {arn}")))? {
            bail!(
                "timed out after {} waiting for the rollback of {arn} ({state}); ECS goes on \
                 with it: check `ecsdeploy status`",
                humantime::format_duration(Duration::from_secs(backoff.elapsed().as_secs()))
            );
        }
    }
}

/// `family:revision` of a task-definition ARN.
pub fn short(td: &str) -> &str {
    td.rsplit('/').next().unwrap_or(td)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_types::DateTime;

    fn brief(arn: &str, secs: i64, status: ServiceDeploymentStatus) -> ServiceDeploymentBrief {
        ServiceDeploymentBrief::builder()
            .service_deployment_arn(arn)
            .created_at(DateTime::from_secs(secs))
            .status(status)
            .build()
    }

    #[test]
    fn history_is_read_newest_first() {
        let sorted = newest_first(vec![
            brief("a", 10, ServiceDeploymentStatus::Successful),
            brief("c", 30, ServiceDeploymentStatus::InProgress),
            brief("b", 20, ServiceDeploymentStatus::Successful),
        ]);
        let order: Vec<_> = sorted
            .iter()
            .filter_map(|b| b.service_deployment_arn())
            .collect();
        assert_eq!(order, ["c", "b", "a"]);
        assert_eq!(
            short("arn:aws:ecs:ap-northeast-1:1:task-definition/web:7"),
            "web:7"
        );
    }
}
