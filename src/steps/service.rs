//! ECS services on Fargate. After a create or update, `up` waits for the deployment that
//! mutation started — identified by the PRIMARY deployment id in the mutation's own
//! response, so neither an older deployment nor clock skew can fake success — to complete,
//! fail (circuit breaker), or time out.

use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentRolloutState, DesiredStatus, LaunchType, NetworkConfiguration, PropagateTags,
    Service, ServiceField, Tag,
};
use futures::future::try_join_all;
use serde_json::json;

use super::Ctx;
use crate::aws::err;
use crate::desired::{Fields, Outputs, Resolve, Resource, ResourceId, Spec, TAG_APP, TAG_RESOURCE};
use crate::plan::Observed;

/// DescribeServices takes at most 10 services per call.
const DESCRIBE_BATCH: usize = 10;

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let mut names: Vec<String> = desired.iter().map(|r| r.name.clone()).collect();
    // Services removed from the config still run in the cluster: list them all and keep the
    // ones our ownership tag claims.
    match list_services(ctx).await {
        Ok(listed) => {
            for n in listed {
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        Err(e) if super::is_gone(&e) => return Ok(vec![]),
        Err(e) => return Err(e),
    }
    let found = describe_services(ctx, &names).await?;
    Ok(found.iter().filter_map(|s| observed(ctx, s)).collect())
}

async fn list_services(ctx: &Ctx) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut pages = ctx
        .aws
        .ecs
        .list_services()
        .cluster(&ctx.cluster)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(err)?;
        names.extend(page.service_arns().iter().filter_map(|a| last_segment(a)));
    }
    Ok(names)
}

fn last_segment(arn: &str) -> Option<String> {
    arn.rsplit('/').next().map(str::to_string)
}

/// Describe services by name in batches of 10, concurrently. Missing ones are skipped;
/// a missing cluster means no services.
pub async fn describe_services(ctx: &Ctx, names: &[String]) -> Result<Vec<Service>> {
    let batches = names.chunks(DESCRIBE_BATCH).map(|chunk| async move {
        let out = ctx
            .aws
            .ecs
            .describe_services()
            .cluster(&ctx.cluster)
            .set_services(Some(chunk.to_vec()))
            .include(ServiceField::Tags)
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.services().to_vec()),
            Err(e) if crate::aws::is_not_found(&e) => Ok(vec![]),
            Err(e) => Err(err(e)),
        }
    });
    Ok(try_join_all(batches).await?.into_iter().flatten().collect())
}

fn tag<'a>(s: &'a Service, key: &str) -> Option<&'a str> {
    s.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
}

/// An ACTIVE service this app owns, as observed state.
fn observed(ctx: &Ctx, s: &Service) -> Option<Observed> {
    if s.status() != Some("ACTIVE") || tag(s, TAG_APP) != Some(ctx.app.as_str()) {
        return None;
    }
    let id = tag(s, TAG_RESOURCE).and_then(ResourceId::parse)?;
    let name = s.service_name()?.to_string();
    let primary = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"));
    let rollout = primary
        .and_then(|d| d.rollout_state())
        .map_or("-", |r| r.as_str());
    let events: Vec<String> = s
        .events()
        .iter()
        .take(3)
        .filter_map(|e| e.message().map(str::to_string))
        .collect();
    Some(Observed {
        id,
        name,
        outputs: Outputs::with_id(s.service_name()?).arn(s.service_arn().unwrap_or_default()),
        fields: fields_of(s),
        state: format!(
            "{}/{} running, rollout {}",
            s.running_count(),
            s.desired_count(),
            rollout
        ),
        details: json!({
            "desired": s.desired_count(),
            "running": s.running_count(),
            "pending": s.pending_count(),
            "rollout_state": rollout,
            "task_definition": s.task_definition(),
            "deployments": s.deployments().len(),
            "events": events,
        }),
    })
}

/// Normalised fields in the shape of `Spec::fields` for services.
pub fn fields_of(s: &Service) -> Fields {
    let vpc = s
        .network_configuration()
        .and_then(|n| n.awsvpc_configuration());
    let mut subnets: Vec<&str> =
        vpc.map_or(vec![], |v| v.subnets().iter().map(String::as_str).collect());
    subnets.sort();
    let mut sgs: Vec<&str> = vpc.map_or(vec![], |v| {
        v.security_groups().iter().map(String::as_str).collect()
    });
    sgs.sort();
    let v = json!({
        "cluster": s.cluster_arn().and_then(last_segment),
        "launch_type": s.launch_type().map(|l| l.as_str()),
        "task_definition": s.task_definition(),
        "desired_count": s.desired_count(),
        "subnets": subnets,
        "security_groups": sgs,
        "assign_public_ip": vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled),
        "load_balancers": lb_fields(s),
    });
    let mut fields: Fields = v
        .as_object()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    // Reported only when AWS says it (moto never echoes it): an absent field is not compared.
    if let Some(g) = s.health_check_grace_period_seconds() {
        fields.insert("health_check_grace_period".into(), json!(g));
    }
    fields
}

fn lb_fields(s: &Service) -> serde_json::Value {
    let mut v: Vec<serde_json::Value> = s
        .load_balancers()
        .iter()
        .map(|l| {
            json!({
                "target_group_arn": l.target_group_arn(),
                "container_name": l.container_name(),
                "container_port": l.container_port(),
            })
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    serde_json::Value::Array(v)
}

fn load_balancers(
    s: &crate::desired::ServiceSpec,
    res: &dyn Resolve,
) -> Result<Vec<aws_sdk_ecs::types::LoadBalancer>> {
    s.load_balancers
        .iter()
        .map(|l| {
            Ok(aws_sdk_ecs::types::LoadBalancer::builder()
                .target_group_arn(res.need(&l.target_group)?)
                .container_name(&l.container_name)
                .container_port(i32::from(l.container_port))
                .build())
        })
        .collect()
}

fn network(s: &crate::desired::ServiceSpec, res: &dyn Resolve) -> Result<NetworkConfiguration> {
    let mut vpc = AwsVpcConfiguration::builder().assign_public_ip(if s.assign_public_ip {
        AssignPublicIp::Enabled
    } else {
        AssignPublicIp::Disabled
    });
    for v in &s.subnets {
        vpc = vpc.subnets(res.need(v)?);
    }
    for v in &s.security_groups {
        vpc = vpc.security_groups(res.need(v)?);
    }
    Ok(NetworkConfiguration::builder()
        .awsvpc_configuration(vpc.build()?)
        .build())
}

/// Circuit breaker with rollback: a deployment whose tasks keep failing is rolled back by
/// ECS and reported as FAILED instead of retrying forever.
fn deployment_config() -> DeploymentConfiguration {
    DeploymentConfiguration::builder()
        .deployment_circuit_breaker(
            DeploymentCircuitBreaker::builder()
                .enable(true)
                .rollback(true)
                .build(),
        )
        .maximum_percent(200)
        .minimum_healthy_percent(100)
        .build()
}

pub async fn create(ctx: &Ctx, r: &Resource, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Service(s) = &r.spec else {
        unreachable!()
    };
    let mut req = ctx
        .aws
        .ecs
        .create_service()
        .cluster(res.need(&s.cluster)?)
        .service_name(&r.name)
        .task_definition(res.need(&s.task_definition)?)
        .desired_count(s.desired_count as i32)
        .launch_type(LaunchType::Fargate)
        .network_configuration(network(s, res)?)
        .set_load_balancers(Some(load_balancers(s, res)?))
        .set_health_check_grace_period_seconds(s.health_check_grace_period.map(|g| g as i32))
        .deployment_configuration(deployment_config())
        .enable_ecs_managed_tags(true)
        .propagate_tags(PropagateTags::Service)
        // Same token on the SDK's own retries of this request: a create whose response was
        // lost is not executed twice.
        .client_token(client_token(&r.name));
    for (k, v) in ctx.tags(&r.id, &r.name) {
        req = req.tags(Tag::builder().key(k).value(v).build());
    }
    let out = req.send().await.map_err(err)?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow::anyhow!("CreateService returned no service"))?;
    settle(ctx, r, svc).await
}

pub async fn update(ctx: &Ctx, r: &Resource, o: &Observed, res: &dyn Resolve) -> Result<Outputs> {
    let Spec::Service(s) = &r.spec else {
        unreachable!()
    };
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    let mut req = ctx
        .aws
        .ecs
        .update_service()
        .cluster(res.need(&s.cluster)?)
        .service(&r.name);
    if changed("task_definition") {
        req = req.task_definition(res.need(&s.task_definition)?);
    }
    if changed("desired_count") {
        req = req.desired_count(s.desired_count as i32);
    }
    if changed("subnets") || changed("security_groups") || changed("assign_public_ip") {
        req = req.network_configuration(network(s, res)?);
    }
    if changed("load_balancers") {
        req = req.set_load_balancers(Some(load_balancers(s, res)?));
    }
    if changed("health_check_grace_period") || changed("load_balancers") {
        req = req
            .set_health_check_grace_period_seconds(s.health_check_grace_period.map(|g| g as i32));
    }
    let out = req.send().await.map_err(err)?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow::anyhow!("UpdateService returned no service"))?;
    settle(ctx, r, svc).await
}

/// Wait (unless disabled) for the deployment the mutation started, then return outputs.
async fn settle(ctx: &Ctx, r: &Resource, svc: &Service) -> Result<Outputs> {
    let outputs = Outputs::with_id(&r.name).arn(svc.service_arn().unwrap_or_default());
    let Some(timeout) = ctx.service_wait else {
        return Ok(outputs);
    };
    let Some(deployment) = primary_id(svc) else {
        return Ok(outputs);
    };
    match wait_stable(ctx, &r.id.to_string(), &r.name, &deployment, timeout).await? {
        WaitOutcome::Stable => Ok(outputs),
        WaitOutcome::Failed(reason) => bail!("deployment {deployment} failed: {reason}"),
        WaitOutcome::TimedOut(state) => bail!(
            "timed out after {} waiting for deployment {deployment} ({state}); it may still \
             complete: check `ecsdeploy status`, or raise --wait-timeout",
            humantime::format_duration(timeout)
        ),
    }
}

fn primary_id(svc: &Service) -> Option<String> {
    svc.deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.id())
        .map(str::to_string)
}

fn client_token(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut t = format!("{:x}-{:x}-{name}", nanos, std::process::id());
    t.truncate(36); // the API's limit
    t
}

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
        Some(DeploymentRolloutState::Failed) => return Judgement::Failed(reason),
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
/// Backoff: 2 s doubling to 15 s.
pub async fn wait_stable(
    ctx: &Ctx,
    key: &str,
    name: &str,
    deployment_id: &str,
    timeout: Duration,
) -> Result<WaitOutcome> {
    let start = tokio::time::Instant::now();
    let mut delay = Duration::from_secs(2);
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
                if start.elapsed() + delay > timeout {
                    return Ok(WaitOutcome::TimedOut(state));
                }
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
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
    let tasks = ctx
        .aws
        .ecs
        .describe_tasks()
        .cluster(&ctx.cluster)
        .set_tasks(Some(listed.task_arns().to_vec()))
        .send()
        .await
        .map_err(err)?;
    Ok(tasks
        .tasks()
        .iter()
        .filter_map(|t| t.stopped_reason().map(str::to_string))
        .collect())
}

/// Scale to zero, delete, and wait until ECS no longer lists it as ACTIVE/DRAINING, so
/// the cluster and network behind it can go next.
pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let name = o.name.clone();
    let scale = ctx
        .aws
        .ecs
        .update_service()
        .cluster(&ctx.cluster)
        .service(&name)
        .desired_count(0)
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    super::gone_ok(scale)?;
    let del = ctx
        .aws
        .ecs
        .delete_service()
        .cluster(&ctx.cluster)
        .service(&name)
        .force(true)
        .send()
        .await
        .map(|_| ())
        .map_err(err);
    super::gone_ok(del)?;
    let key = o.id.to_string();
    super::retry_until(
        ctx.delete_deadline,
        |e| e.to_string().contains("still draining"),
        || async {
            let found = describe_services(ctx, std::slice::from_ref(&name)).await?;
            match found.first().and_then(|s| s.status()) {
                Some("ACTIVE") | Some("DRAINING") => {
                    ctx.report.progress(&key, "draining");
                    bail!("service {name} still draining")
                }
                _ => Ok(()),
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ecs::types::Deployment;

    fn deployment(id: &str, status: &str, rollout: DeploymentRolloutState) -> Deployment {
        Deployment::builder()
            .id(id)
            .status(status)
            .rollout_state(rollout)
            .rollout_state_reason("reason text")
            .build()
    }

    fn service(deps: Vec<Deployment>, running: i32, desired: i32) -> Service {
        Service::builder()
            .set_deployments(Some(deps))
            .running_count(running)
            .desired_count(desired)
            .build()
    }

    #[test]
    fn completed_primary_with_all_running_is_stable() {
        let s = service(
            vec![deployment(
                "d2",
                "PRIMARY",
                DeploymentRolloutState::Completed,
            )],
            2,
            2,
        );
        assert_eq!(judge(&s, "d2"), Judgement::Stable);
    }

    #[test]
    fn circuit_breaker_failure_is_failure_with_reason() {
        let s = service(
            vec![
                deployment("d2", "PRIMARY", DeploymentRolloutState::Failed),
                deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
            ],
            1,
            1,
        );
        assert_eq!(judge(&s, "d2"), Judgement::Failed("reason text".into()));
    }

    #[test]
    fn an_older_completed_deployment_does_not_count() {
        let s = service(
            vec![
                deployment("d2", "PRIMARY", DeploymentRolloutState::InProgress),
                deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
            ],
            1,
            1,
        );
        assert!(matches!(judge(&s, "d2"), Judgement::InProgress(_)));
    }

    #[test]
    fn completed_but_old_tasks_still_running_is_in_progress() {
        let s = service(
            vec![
                deployment("d2", "PRIMARY", DeploymentRolloutState::Completed),
                deployment("d1", "ACTIVE", DeploymentRolloutState::Completed),
            ],
            2,
            1,
        );
        assert!(matches!(judge(&s, "d2"), Judgement::InProgress(_)));
    }

    #[test]
    fn superseded_deployment_is_failure() {
        let s = service(
            vec![deployment(
                "d3",
                "PRIMARY",
                DeploymentRolloutState::InProgress,
            )],
            0,
            1,
        );
        assert!(matches!(judge(&s, "d2"), Judgement::Failed(m) if m.contains("no longer listed")));
    }
}
