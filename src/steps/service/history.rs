//! A service's latest service deployment (ECS API `ListServiceDeployments`,
//! `DescribeServiceDeployments`), for `status`: its status, its lifecycle stage while in
//! flight (scale up, test traffic, production traffic, bake, clean up), and why it ended
//! as it did; and the task definitions of service revisions (`DescribeServiceRevisions`),
//! which the waits and `rollback` read.

use anyhow::Result;
use aws_sdk_ecs::types::{
    Service, ServiceDeployment, ServiceDeploymentBrief, ServiceDeploymentStatus,
};
use serde_json::{json, Value};

use crate::aws::err;
use crate::steps::Ctx;

/// The latest deployment of each of `services` as `status` shows it, in order; `None`
/// where ECS keeps no history or does not answer (an emulator without the API, a missing
/// permission): the column then says `-`, and nothing else depends on it. DescribeServices
/// names each service's current deployment, so on AWS this is one
/// DescribeServiceDeployments call for 20 services; only an answer without it (an
/// emulator) costs a ListServiceDeployments per service, run concurrently. `known`: the
/// deployments observe has read already (those of traffic-shifting services), not read again.
pub async fn latest(
    ctx: &Ctx,
    services: &[&Service],
    mut known: Vec<ServiceDeployment>,
) -> Vec<Option<Value>> {
    let newest: Vec<Option<String>> = futures::future::join_all(
        services
            .iter()
            .map(|s| async move { latest_arn(ctx, s).await.ok().flatten() }),
    )
    .await;
    let arns: Vec<String> = newest
        .iter()
        .flatten()
        .filter(|a| {
            !known
                .iter()
                .any(|d| d.service_deployment_arn() == Some(a.as_str()))
        })
        .cloned()
        .collect();
    known.extend(describe(ctx, &arns).await.unwrap_or_default());
    let described = known;
    newest
        .iter()
        .map(|arn| {
            let arn = arn.as_deref()?;
            described
                .iter()
                .find(|d| d.service_deployment_arn() == Some(arn))
                .map(summary)
        })
        .collect()
}

/// The service's latest service deployment: the one DescribeServices names, or (an answer
/// without it, from an emulator) the newest of the whole history.
pub async fn latest_arn(ctx: &Ctx, svc: &Service) -> Result<Option<String>> {
    if let Some(a) = svc.current_service_deployment() {
        return Ok(Some(a.to_string()));
    }
    let name = svc.service_name().unwrap_or_default();
    let listed = list(ctx, name, &[], Attempts::Once).await?;
    Ok(listed
        .iter()
        .max_by(|a, b| a.created_at().cmp(&b.created_at()))
        .and_then(|b| b.service_deployment_arn())
        .map(str::to_string))
}

/// DescribeServiceDeployments of `arns`, 20 at a time (its limit).
pub async fn describe(ctx: &Ctx, arns: &[String]) -> Result<Vec<ServiceDeployment>> {
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        let found = ctx
            .aws
            .ecs
            .describe_service_deployments()
            .set_service_deployment_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(err)?;
        out.extend(found.service_deployments().iter().cloned());
    }
    Ok(out)
}

/// How hard [`list`] tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempts {
    /// The SDK's retries, as every call has them.
    Retried,
    /// One attempt: for a best-effort read (an answer that does not come is a `-`, not a
    /// slower `status`; an emulator without the API answers 500, which would be retried).
    Once,
}

/// ListServiceDeployments pages of this many (its maximum), and at most this many pages.
const PAGE: i32 = 100;
const PAGES: usize = 10;

/// The service's deployments in `statuses` (all when empty), every page (at most `PAGES`:
/// AWS keeps 90 days of history), in no particular order: the API promises none, so
/// callers sort.
pub async fn list(
    ctx: &Ctx,
    name: &str,
    statuses: &[ServiceDeploymentStatus],
    attempts: Attempts,
) -> Result<Vec<ServiceDeploymentBrief>> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..PAGES {
        let mut over = aws_sdk_ecs::config::Builder::default();
        if attempts == Attempts::Once {
            over = over.retry_config(aws_config::retry::RetryConfig::disabled());
        }
        let page = ctx
            .aws
            .ecs
            .list_service_deployments()
            .cluster(&ctx.cluster)
            .service(name)
            .set_status((!statuses.is_empty()).then(|| statuses.to_vec()))
            .max_results(PAGE)
            .set_next_token(token.take())
            .customize()
            .config_override(over)
            .send()
            .await
            .map_err(err)?;
        out.extend(page.service_deployments().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    Ok(out)
}

/// What `status` shows of a service deployment (pure).
pub fn summary(d: &ServiceDeployment) -> Value {
    let stage = d
        .lifecycle_stage()
        .map(|s| s.as_str().to_lowercase().replace('_', " "));
    let strategy = d
        .deployment_configuration()
        .and_then(|c| c.strategy())
        .map(|s| s.as_str().to_string());
    let reason = d
        .rollback()
        .and_then(|r| r.reason())
        .or(d.status_reason())
        .filter(|r| !r.is_empty());
    json!({
        "arn": d.service_deployment_arn(),
        "status": d.status().map(|s| s.as_str()),
        "stage": stage,
        "strategy": strategy,
        "reason": reason,
    })
}

/// One cell: `IN_PROGRESS (scale up)`, `SUCCESSFUL`, `ROLLBACK_SUCCESSFUL: <why>`.
pub fn cell(v: &Value) -> String {
    let Some(status) = v["status"].as_str() else {
        return "-".into();
    };
    match (v["stage"].as_str(), v["reason"].as_str()) {
        (Some(stage), _) => format!("{status} ({stage})"),
        (None, Some(why)) if status != "SUCCESSFUL" => format!("{status}: {why}"),
        _ => status.to_string(),
    }
}

/// Service revision ARN → its task definition (DescribeServiceRevisions takes 20 at a time).
pub(super) async fn revision_task_definitions(
    ctx: &Ctx,
    arns: &[String],
) -> Result<std::collections::BTreeMap<String, String>> {
    let mut out = std::collections::BTreeMap::new();
    for chunk in arns.chunks(20) {
        if chunk.is_empty() {
            continue;
        }
        let found = ctx
            .aws
            .ecs
            .describe_service_revisions()
            .set_service_revision_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(err)?;
        for r in found.service_revisions() {
            if let (Some(arn), Some(td)) = (r.service_revision_arn(), r.task_definition()) {
                out.insert(arn.to_string(), td.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::{Rollback, ServiceDeploymentLifecycleStage, ServiceDeploymentStatus};

    #[test]
    fn a_deployment_reads_as_its_status_stage_and_reason() {
        let flying = ServiceDeployment::builder()
            .status(ServiceDeploymentStatus::InProgress)
            .lifecycle_stage(ServiceDeploymentLifecycleStage::ProductionTrafficShift)
            .build();
        assert_eq!(
            cell(&summary(&flying)),
            "IN_PROGRESS (production traffic shift)"
        );
        let back = ServiceDeployment::builder()
            .status(ServiceDeploymentStatus::RollbackSuccessful)
            .rollback(Rollback::builder().reason("alarm 5xx in ALARM").build())
            .build();
        assert_eq!(
            cell(&summary(&back)),
            "ROLLBACK_SUCCESSFUL: alarm 5xx in ALARM"
        );
        let done = ServiceDeployment::builder()
            .status(ServiceDeploymentStatus::Successful)
            .status_reason("")
            .build();
        assert_eq!(cell(&summary(&done)), "SUCCESSFUL");
        assert_eq!(cell(&Value::Null), "-");
    }
}
