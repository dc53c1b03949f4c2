//! Following a blue/green, canary or linear deployment through its lifecycle (ECS API
//! `DescribeServiceDeployments`): the stage it is in (scale up, test traffic, production
//! traffic with the current split, bake with the time left, clean up), and how it ended.
//! Success is the service deployment `SUCCESSFUL`, which ECS reports once the new
//! revision serves all traffic and the bake time is over; a rollback is a failure once the
//! old revision serves again.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{
    Service, ServiceDeployment, ServiceDeploymentLifecycleStage as Stage,
    ServiceDeploymentStatus as Status,
};

use super::history::{self, Attempts};
use super::outcome::{Judgement, Since, WaitOutcome};
use super::{deployment, describe_services};
use crate::aws::{answer, stopped_waiting_for, Backoff};
use crate::plan::Unsettled;
use crate::steps::Ctx;

/// Where one look leaves a service deployment (pure).
pub fn judge(d: &ServiceDeployment) -> Judgement {
    let reason = || {
        d.rollback()
            .and_then(|r| r.reason())
            .or(d.status_reason())
            .filter(|r| !r.is_empty())
            .unwrap_or("no reason given")
            .to_string()
    };
    match d.status() {
        Some(Status::Successful) => Judgement::Stable,
        Some(Status::RollbackSuccessful) => Judgement::Failed(format!(
            "rolled back ({}); the previous revision serves all traffic",
            reason()
        )),
        Some(Status::RollbackFailed) => Judgement::Failed(format!(
            "the rollback failed too ({}); check the service's events and target groups",
            reason()
        )),
        Some(Status::Stopped) => Judgement::Failed(format!("stopped ({})", reason())),
        Some(Status::RollbackRequested | Status::RollbackInProgress) => {
            Judgement::InProgress(format!("rolling back: {}", reason()))
        }
        Some(s) => Judgement::InProgress(match d.lifecycle_stage() {
            Some(stage) => format!("{}: {}", s.as_str(), stage_text(stage)),
            None => s.as_str().to_string(),
        }),
        None => Judgement::InProgress("PENDING".to_string()),
    }
}

/// A lifecycle stage as progress shows it: `production traffic shift`.
pub fn stage_text(stage: &Stage) -> String {
    stage.as_str().to_lowercase().replace('_', " ")
}

/// `traffic: web-a 90%, web-b 10%` from a rule's forward weights (pure).
pub fn split_text(weights: &BTreeMap<String, i32>) -> Option<String> {
    let total: i32 = weights.values().sum();
    if weights.len() < 2 || total <= 0 {
        return None;
    }
    let parts: Vec<String> = weights
        .iter()
        .map(|(arn, w)| {
            let name = arn.split('/').nth(1).unwrap_or(arn);
            format!("{name} {}%", w * 100 / total)
        })
        .collect();
    Some(format!("traffic: {}", parts.join(", ")))
}

/// The service deployment a CreateService / UpdateService started: the one its answer
/// names, else the newest one in flight. One that has already ended in a rollback or a stop
/// is an earlier deployment (an update that started none leaves the service's current one
/// in place): `None`, and the caller judges the service as a rolling one.
pub async fn started_by(ctx: &Ctx, svc: &Service) -> Result<Option<String>> {
    if let Some(arn) = svc.current_service_deployment() {
        let found = history::describe(ctx, &[arn.to_string()]).await?;
        let ended = found.first().and_then(|d| d.status()).is_some_and(|s| {
            matches!(
                s,
                Status::RollbackSuccessful | Status::RollbackFailed | Status::Stopped
            )
        });
        return Ok((!ended).then(|| arn.to_string()));
    }
    let name = svc.service_name().unwrap_or_default();
    let flying = [Status::Pending, Status::InProgress];
    let listed = history::list(ctx, name, &flying, Attempts::Retried).await?;
    Ok(listed
        .iter()
        .max_by(|a, b| a.created_at().cmp(&b.created_at()))
        .and_then(|b| b.service_deployment_arn())
        .map(str::to_string))
}

/// The production rule ECS shifts traffic on, from a described service.
pub fn production_rule(svc: &Service) -> Option<String> {
    svc.load_balancers()
        .iter()
        .filter_map(|l| l.advanced_configuration())
        .find_map(|a| a.production_listener_rule())
        .map(str::to_string)
}

/// Whether a described service deploys with a strategy that shifts traffic.
pub fn shifts_traffic(svc: &Service) -> bool {
    deployment::strategy_of(svc.deployment_configuration()).shifts_traffic()
}

/// Where the latest service deployment of each service (that shifts traffic) stands when
/// it has not settled: in flight (to be waited for), or ended in a rollback or a stop (a
/// failure until a new deployment succeeds, `attempted` naming the task definition it was
/// to run, so asking for it again is the same failed change). `None` once it succeeded, or
/// where ECS keeps no history. The latest deployments are described together, and so are
/// the revisions of the failed ones; the deployments described are returned too (`status`
/// shows them without reading them again).
pub async fn unsettled(
    ctx: &Ctx,
    services: &[&Service],
) -> Result<(Vec<Option<Unsettled>>, Vec<ServiceDeployment>)> {
    let arns: Vec<Option<String>> =
        futures::future::try_join_all(services.iter().map(|s| history::latest_arn(ctx, s))).await?;
    let wanted: Vec<String> = arns.iter().flatten().cloned().collect();
    let described = history::describe(ctx, &wanted).await?;
    let find = |arn: &str| {
        described
            .iter()
            .find(|d| d.service_deployment_arn() == Some(arn))
    };
    let judged: Vec<Option<(&ServiceDeployment, bool, String)>> = arns
        .iter()
        .map(|arn| {
            let d = find(arn.as_deref()?)?;
            match judge(d) {
                Judgement::Stable => None,
                Judgement::Failed(r) => Some((d, true, r)),
                Judgement::InProgress(r) => Some((d, false, r)),
            }
        })
        .collect();
    let failed_revisions: Vec<String> = judged
        .iter()
        .flatten()
        .filter(|(_, failed, _)| *failed)
        .filter_map(|(d, _, _)| d.target_service_revision()?.arn().map(str::to_string))
        .collect();
    let tds = history::revision_task_definitions(ctx, &failed_revisions).await?;
    let unsettled = judged
        .into_iter()
        .map(|j| {
            let (d, failed, reason) = j?;
            let mut attempted = crate::desired::Fields::new();
            let rev = d.target_service_revision().and_then(|r| r.arn());
            if let Some(td) = rev.filter(|_| failed).and_then(|r| tds.get(r)) {
                attempted.insert("task_definition".into(), td.as_str().into());
            }
            Some(Unsettled {
                deployment: d.service_deployment_arn().unwrap_or_default().to_string(),
                since: d
                    .created_at()
                    .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()),
                failed,
                reason,
                attempted,
            })
        })
        .collect();
    Ok((unsettled, described))
}

/// Poll the service deployment `arn` until it succeeds, ends otherwise or `timeout`
/// passes, showing its stage, the production split while traffic moves, the bake time
/// left, and the service's new events.
pub async fn wait(
    ctx: &Ctx,
    key: &str,
    svc: &Service,
    arn: &str,
    mut since: Since,
    timeout: Duration,
) -> Result<WaitOutcome> {
    let name = svc.service_name().unwrap_or_default().to_string();
    let rule = production_rule(svc);
    let mut backoff = Backoff::watching(timeout);
    let mut baking_since: Option<Instant> = None;
    let mut last = String::new();
    loop {
        let found = history::describe(ctx, &[arn.to_string()]).await?;
        let Some(d) = found.first() else {
            bail!("service deployment {arn} of {name} is not listed");
        };
        if let Some(s) = describe_services(ctx, std::slice::from_ref(&name))
            .await?
            .first()
        {
            for msg in since.fresh(s.events()) {
                ctx.report.progress(key, &msg);
            }
        }
        match judge(d) {
            Judgement::Stable => {
                let now = describe_services(ctx, std::slice::from_ref(&name)).await?;
                let Some(s) = now.into_iter().next() else {
                    bail!("service {name} disappeared while waiting for its deployment");
                };
                return Ok(WaitOutcome::Stable(Box::new(s)));
            }
            Judgement::Failed(reason) => return Ok(WaitOutcome::Failed(reason)),
            Judgement::InProgress(mut state) => {
                match d.lifecycle_stage() {
                    Some(Stage::BakeTime) => {
                        let started = *baking_since.get_or_insert_with(Instant::now);
                        if let Some(left) = bake_left(d, started.elapsed()) {
                            state.push_str(&format!(", at most {left} left"));
                        }
                    }
                    Some(Stage::ProductionTrafficShift | Stage::TestTrafficShift) => {
                        if let Some(split) = split(ctx, rule.as_deref()).await {
                            state.push_str(&format!(" ({split})"));
                        }
                    }
                    _ => {}
                }
                if state != last {
                    ctx.report.progress(key, &state);
                    last = state.clone();
                }
                let paused = backoff.pause().await;
                let what = format!("service deployment {arn}");
                if !paused.map_err(|e| stopped_waiting_for(e, &what))? {
                    return Ok(WaitOutcome::TimedOut(state, backoff.elapsed()));
                }
            }
        }
    }
}

/// The bake time left at most, from the deployment's configured bake time and how long
/// this wait has seen it baking (ECS reports no start of the stage; a wait that began
/// during the bake saw less of it).
fn bake_left(d: &ServiceDeployment, baked: Duration) -> Option<String> {
    let minutes = d.deployment_configuration()?.bake_time_in_minutes()?;
    let total = Duration::from_secs(u64::try_from(minutes).ok()? * 60);
    let left = total.saturating_sub(baked);
    Some(humantime::format_duration(Duration::from_secs(left.as_secs())).to_string())
}

/// The production rule's current split (best effort: no answer, no split shown).
async fn split(ctx: &Ctx, rule: Option<&str>) -> Option<String> {
    let call = ctx.aws.elb.describe_rules().rule_arns(rule?);
    let out = answer(call.send()).await.ok()?;
    let r = out.rules().first()?;
    split_text(&crate::steps::support::elb_actions::forward_weights(
        r.actions(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{DeploymentConfiguration, Rollback};

    fn at(status: Status, stage: Option<Stage>) -> ServiceDeployment {
        ServiceDeployment::builder()
            .status(status)
            .set_lifecycle_stage(stage)
            .build()
    }

    #[test]
    fn success_is_successful_and_a_rollback_is_a_failure_once_done() {
        assert_eq!(judge(&at(Status::Successful, None)), Judgement::Stable);
        assert_eq!(
            judge(&at(Status::InProgress, Some(Stage::BakeTime))),
            Judgement::InProgress("IN_PROGRESS: bake time".into())
        );
        let back = ServiceDeployment::builder()
            .status(Status::RollbackInProgress)
            .rollback(Rollback::builder().reason("alarm 5xx").build())
            .build();
        assert_eq!(
            judge(&back),
            Judgement::InProgress("rolling back: alarm 5xx".into())
        );
        let done = ServiceDeployment::builder()
            .status(Status::RollbackSuccessful)
            .rollback(Rollback::builder().reason("alarm 5xx").build())
            .build();
        assert!(matches!(judge(&done), Judgement::Failed(r) if r.contains("alarm 5xx")));
        assert!(matches!(
            judge(&at(Status::Stopped, None)),
            Judgement::Failed(_)
        ));
    }

    #[test]
    fn the_split_names_the_groups_and_their_share() {
        let w: BTreeMap<String, i32> = [
            (
                "arn:aws:elasticloadbalancing:r:1:targetgroup/web-a/1".to_string(),
                90,
            ),
            (
                "arn:aws:elasticloadbalancing:r:1:targetgroup/web-b/2".to_string(),
                10,
            ),
        ]
        .into();
        assert_eq!(split_text(&w).unwrap(), "traffic: web-a 90%, web-b 10%");
        assert_eq!(split_text(&BTreeMap::new()), None);
    }

    #[test]
    fn bake_time_left_counts_down_from_the_configured_minutes() {
        let d = ServiceDeployment::builder()
            .deployment_configuration(
                DeploymentConfiguration::builder()
                    .bake_time_in_minutes(2)
                    .build(),
            )
            .build();
        assert_eq!(bake_left(&d, Duration::from_secs(30)).unwrap(), "1m 30s");
        assert_eq!(bake_left(&d, Duration::from_secs(500)).unwrap(), "0s");
    }
}
