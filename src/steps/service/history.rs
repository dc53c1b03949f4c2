//! A service's latest service deployment (ECS API `ListServiceDeployments`,
//! `DescribeServiceDeployments`), for `status`: its status, its lifecycle stage while in
//! flight (scale up, test traffic, production traffic, bake, clean up), and why it ended
//! as it did.

use aws_sdk_ecs::types::ServiceDeployment;
use serde_json::{json, Value};

use crate::steps::Ctx;

/// The latest deployment of service `name` as `status` shows it; `None` when ECS keeps no
/// history for it or does not answer (an emulator without the API, a missing permission):
/// the column then says `-`, and nothing else depends on it.
pub async fn latest(ctx: &Ctx, name: &str) -> Option<Value> {
    // ListServiceDeployments promises no order: every page is read (at most 5 of 100).
    let mut briefs = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..5 {
        let page = ctx
            .aws
            .ecs
            .list_service_deployments()
            .cluster(&ctx.cluster)
            .service(name)
            .max_results(100)
            .set_next_token(token.take())
            .customize()
            // Best effort: one attempt (an answer that does not come is a `-`, not a
            // slower `status`; an emulator without the API answers 500, which would be
            // retried).
            .config_override(
                aws_sdk_ecs::config::Builder::default()
                    .retry_config(aws_config::retry::RetryConfig::disabled()),
            )
            .send()
            .await
            .ok()?;
        briefs.extend(page.service_deployments().iter().cloned());
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    let newest = briefs
        .iter()
        .max_by(|a, b| a.created_at().cmp(&b.created_at()))?;
    let arn = newest.service_deployment_arn()?;
    let described = ctx
        .aws
        .ecs
        .describe_service_deployments()
        .service_deployment_arns(arn)
        .send()
        .await
        .ok()?;
    described.service_deployments().first().map(summary)
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
