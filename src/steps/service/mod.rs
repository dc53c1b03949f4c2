//! ECS services on Fargate. After a create or update, `up` waits for the deployment that
//! mutation started — identified by the PRIMARY deployment id in the mutation's own
//! response, so neither an older deployment nor clock skew can fake success — to complete,
//! fail (circuit breaker), or time out. `observe` also reports a latest deployment that has
//! not settled (in progress, or failed), which the plan makes a `wait` or a `failed`:
//! `follow` waits for the first and reports the second, writing nothing.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{bail, Result};
use aws_sdk_ecs::types::{
    AdvancedConfiguration, AssignPublicIp, LaunchType, NetworkConfiguration, PropagateTags,
    Service, ServiceConnectClientAlias, ServiceConnectConfiguration, ServiceConnectService,
    ServiceField,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::cloudmap::{as_configured, forms_differ, literal, names_by_arn};
use super::support::ecs_task;
use super::support::ownership::{is_ours, not_owned};
use super::support::revisions;
use super::support::tags::{owned_tags, tag};
use super::support::{field_strings, object_fields};
use super::Ctx;
use crate::aws::{
    err, gone_ok, is_gone, not_yet_propagated, retry_until, retry_while_settling, sent, PROPAGATION,
};
use crate::desired::{
    lb_pair_fields, Fields, Outputs, Resolve, Resource, ResourceId, ServiceConnectSpec,
    ServiceSpec, Spec, TAG_APP, TAG_RESOURCE,
};
use crate::plan::{Observed, UNSETTLED};

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
        Err(e) if is_gone(&e) => return Ok(vec![]),
        Err(e) => return Err(e),
    }
    let found = describe_services(ctx, &names).await?;
    refuse_foreign(ctx, desired, &found)?;
    let mut all: Vec<Observed> = found.iter().filter_map(|s| observed(ctx, s)).collect();
    let described = lifecycles(ctx, &found, &mut all).await?;
    namespaces_as_configured(ctx, desired, &mut all).await?;
    if ctx.status_details {
        // Each observed service is one of `found` (`observed` keeps its name).
        let (at, services): (Vec<usize>, Vec<&Service>) = all
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let s = found.iter().find(|s| s.service_name() == Some(&o.name))?;
                Some((i, s))
            })
            .unzip();
        let latest = history::latest(ctx, &services, described).await;
        for (i, d) in at.into_iter().zip(latest) {
            all[i].details["service_deployment"] = d.unwrap_or(Value::Null);
        }
    }
    Ok(all)
}

/// A service that shifts traffic has settled when its latest service deployment has
/// (DescribeServiceDeployments), not when its task sets look alike: read it for each.
/// Returns the service deployments it read.
async fn lifecycles(
    ctx: &Ctx,
    found: &[Service],
    all: &mut [Observed],
) -> Result<Vec<aws_sdk_ecs::types::ServiceDeployment>> {
    let shifting: Vec<&Service> = found
        .iter()
        .filter(|s| lifecycle::shifts_traffic(s))
        .collect();
    let (read, described) = lifecycle::unsettled(ctx, &shifting).await?;
    for (s, u) in shifting.iter().zip(read) {
        let Some(o) = all
            .iter_mut()
            .find(|o| Some(o.name.as_str()) == s.service_name())
        else {
            continue;
        };
        match u {
            Some(u) => o.details[UNSETTLED] = json!(u),
            None => {
                if let Some(d) = o.details.as_object_mut() {
                    d.remove(UNSETTLED);
                }
            }
        }
    }
    Ok(described)
}

/// An ACTIVE service in the cluster with a desired service's name that this app does not
/// own (no ownership tag, or another app's): refused while observing, so `plan` says so and
/// `up` writes nothing, as for every other kind (CreateService on AWS would fail on the
/// name only after everything before it was created).
fn refuse_foreign(ctx: &Ctx, desired: &[&Resource], found: &[Service]) -> Result<()> {
    for s in found.iter().filter(|s| s.status() == Some("ACTIVE")) {
        let Some(name) = s.service_name() else {
            continue;
        };
        if desired.iter().any(|r| r.name == name) && !is_ours(ctx, tag(s.tags(), TAG_APP)) {
            return Err(not_owned(
                ctx,
                &format!("ECS service {name} in cluster {}", ctx.cluster),
                "give the service another name in the config (services.<key>.name) or delete \
                 the other one",
            ));
        }
    }
    Ok(())
}

/// Where a service's config names an existing namespace (by name or ARN) and AWS reports
/// the same namespace in the other form, report it in the configured form.
async fn namespaces_as_configured(
    ctx: &Ctx,
    desired: &[&Resource],
    found: &mut [Observed],
) -> Result<()> {
    let configured: BTreeMap<&ResourceId, &str> = desired
        .iter()
        .filter_map(|r| match &r.spec {
            Spec::Service(s) => Some((
                &r.id,
                literal(s.service_connect.as_ref().map(|c| &c.namespace))?,
            )),
            _ => None,
        })
        .collect();
    let reported = |o: &Observed| -> Option<String> {
        o.fields
            .get("service_connect")?
            .get("namespace")?
            .as_str()
            .map(str::to_string)
    };
    let needs_names = found
        .iter()
        .any(|o| match (configured.get(&o.id), reported(o)) {
            (Some(want), Some(got)) => forms_differ(&got, want),
            _ => false,
        });
    if !needs_names {
        return Ok(());
    }
    let names = names_by_arn(ctx).await?;
    for o in found.iter_mut() {
        if let (Some(want), Some(got)) = (configured.get(&o.id), reported(o)) {
            if let Some(sc) = o.fields.get_mut("service_connect") {
                sc["namespace"] = json!(as_configured(&got, want, &names));
            }
        }
    }
    Ok(())
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

/// An ACTIVE service this app owns, as observed state.
fn observed(ctx: &Ctx, s: &Service) -> Option<Observed> {
    if s.status() != Some("ACTIVE") || tag(s.tags(), TAG_APP) != Some(ctx.app.as_str()) {
        return None;
    }
    let id = tag(s.tags(), TAG_RESOURCE).and_then(ResourceId::parse)?;
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
    let mut details = json!({
        "desired": s.desired_count(),
        "running": s.running_count(),
        "pending": s.pending_count(),
        "rollout_state": rollout,
        "task_definition": s.task_definition(),
        "deployments": s.deployments().len(),
        "events": events,
        // The groups ECS names first: production's after a blue/green deployment.
        "serving_target_groups": s
            .load_balancers()
            .iter()
            .filter_map(|l| l.target_group_arn())
            .collect::<Vec<_>>(),
        "strategy": deployment::strategy_of(s.deployment_configuration()).as_aws(),
    });
    if let Some(u) = unsettled(s) {
        details[UNSETTLED] = json!(u);
    }
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
        details,
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
        "task_definition": s.task_definition(),
        "desired_count": s.desired_count(),
        "subnets": subnets,
        "security_groups": sgs,
        "assign_public_ip": vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled),
        "load_balancers": lb_fields(s),
    });
    let mut fields = object_fields(v);
    if let Some(c) = capacity::observed(s) {
        fields.insert("capacity".into(), c);
    }
    // Reported only when AWS says it (moto never echoes it): an absent field is not compared.
    if let Some(g) = s.health_check_grace_period_seconds() {
        fields.insert("health_check_grace_period".into(), json!(g));
    }
    // AWS always reports the deployment configuration, and with it `enableExecuteCommand`
    // (which the SDK turns into a plain bool, absent reading as false). An answer without
    // it comes from an emulator that drops these settings on create (moto): then neither
    // is reported, and an absent Service Connect configuration means "not echoed" rather
    // than "off".
    let complete = s.deployment_configuration().is_some();
    if let Some(d) = s.deployment_configuration() {
        fields.insert("deployment".into(), deployment::observed(d));
        fields.insert(
            "enable_execute_command".into(),
            json!(s.enable_execute_command()),
        );
    }
    let primary_sc = s
        .deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.service_connect_configuration());
    match primary_sc {
        Some(c) => {
            fields.insert("service_connect".into(), service_connect_fields(c));
        }
        None if complete => {
            fields.insert("service_connect".into(), Value::Null);
        }
        None => {}
    }
    fields
}

/// A Service Connect configuration in the shape of `service_connect_fields`; a disabled
/// one is none.
fn service_connect_fields(c: &ServiceConnectConfiguration) -> Value {
    if !c.enabled() {
        return Value::Null;
    }
    json!({
        "namespace": c.namespace(),
        "services": c.services().iter().map(|s| json!({
            "port_name": s.port_name(),
            "discovery_name": s.discovery_name(),
            "client_aliases": s.client_aliases().iter().map(|a| json!({
                "port": a.port(),
                "dns_name": a.dns_name(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "log_configuration": c.log_configuration().map(ecs_task::log_fields),
    })
}

fn lb_fields(s: &Service) -> serde_json::Value {
    let mut v: Vec<serde_json::Value> = s
        .load_balancers()
        .iter()
        .map(|l| match l.advanced_configuration() {
            Some(a) => lb_pair_fields(
                [
                    l.target_group_arn().unwrap_or_default().to_string(),
                    a.alternate_target_group_arn()
                        .unwrap_or_default()
                        .to_string(),
                ],
                l.container_name().unwrap_or_default(),
                l.container_port().unwrap_or_default(),
                a.production_listener_rule().unwrap_or_default().to_string(),
                a.test_listener_rule().map(str::to_string),
                a.role_arn().unwrap_or_default().to_string(),
            ),
            None => json!({
                "target_group_arn": l.target_group_arn(),
                "container_name": l.container_name(),
                "container_port": l.container_port(),
            }),
        })
        .collect();
    v.sort_by_key(|x| x.to_string());
    serde_json::Value::Array(v)
}

/// The service's load balancers as ECS takes them. With an alternate group, the group ECS
/// last made production (`serving`, from the described service) stays first: sending the
/// configured order again after ECS swapped them would send the next deployment's tasks to
/// the group that serves (hashicorp/terraform-provider-aws#45678).
fn load_balancers(
    s: &ServiceSpec,
    res: &dyn Resolve,
    serving: &[String],
) -> Result<Vec<aws_sdk_ecs::types::LoadBalancer>> {
    s.load_balancers
        .iter()
        .map(|l| {
            let mut primary = res.need(&l.target_group)?;
            let mut b = aws_sdk_ecs::types::LoadBalancer::builder()
                .container_name(&l.container_name)
                .container_port(i32::from(l.container_port));
            if let Some(a) = &l.advanced {
                let mut alternate = res.need(&a.alternate_target_group)?;
                if serving.contains(&alternate) {
                    std::mem::swap(&mut primary, &mut alternate);
                }
                b = b.advanced_configuration(
                    AdvancedConfiguration::builder()
                        .alternate_target_group_arn(alternate)
                        .production_listener_rule(res.need(&a.production_rule)?)
                        .set_test_listener_rule(
                            a.test_rule.as_ref().map(|t| res.need(t)).transpose()?,
                        )
                        .role_arn(res.need(&a.role)?)
                        .build(),
                );
            }
            Ok(b.target_group_arn(primary).build())
        })
        .collect()
}

fn network(s: &ServiceSpec, res: &dyn Resolve) -> Result<NetworkConfiguration> {
    ecs_task::network(s.assign_public_ip, &s.subnets, &s.security_groups, res)
}

/// Service Connect on, in the namespace, publishing the configured ports, with the proxy's
/// logs in the app's log group.
fn service_connect(
    c: &ServiceConnectSpec,
    res: &dyn Resolve,
) -> Result<ServiceConnectConfiguration> {
    let mut b = ServiceConnectConfiguration::builder()
        .enabled(true)
        .namespace(res.need(&c.namespace)?);
    for p in &c.services {
        b = b.services(
            ServiceConnectService::builder()
                .port_name(&p.port_name)
                .discovery_name(&p.discovery_name)
                .client_aliases(
                    ServiceConnectClientAlias::builder()
                        .port(i32::from(p.client_port))
                        .dns_name(&p.dns_name)
                        .build()?,
                )
                .build()?,
        );
    }
    let logs = ecs_task::awslogs(&c.log_group, &c.log_region, &c.log_stream_prefix)?;
    Ok(b.log_configuration(logs).build())
}

/// What UpdateService sends to turn Service Connect off.
fn service_connect_off() -> ServiceConnectConfiguration {
    ServiceConnectConfiguration::builder()
        .enabled(false)
        .build()
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &ServiceSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let mut req = ctx
        .aws
        .ecs
        .create_service()
        .cluster(res.need(&s.cluster)?)
        .service_name(&r.name)
        .task_definition(res.need(&s.task_definition)?)
        .desired_count(s.desired_count as i32)
        .network_configuration(network(s, res)?)
        .set_load_balancers(Some(load_balancers(s, res, &[])?))
        .set_health_check_grace_period_seconds(s.health_check_grace_period.map(|g| g as i32))
        .deployment_configuration(deployment::request(&s.deployment, None))
        .enable_execute_command(s.enable_execute_command)
        .set_service_connect_configuration(
            s.service_connect
                .as_ref()
                .map(|c| service_connect(c, res))
                .transpose()?,
        )
        .enable_ecs_managed_tags(true)
        .propagate_tags(PropagateTags::Service)
        // Same token on the SDK's own retries of this request: a create whose response was
        // lost is not executed twice.
        .client_token(client_token(&r.name));
    req = if s.capacity.is_empty() {
        req.launch_type(LaunchType::Fargate)
    } else {
        req.set_capacity_provider_strategy(Some(capacity::request(&s.capacity)))
    };
    req = req.set_tags(Some(owned_tags(ctx, &r.id, &r.name)?));
    // What was made a moment ago is not yet visible to ECS (aws::not_yet_propagated): the
    // service-linked role, the cluster, a role ("ECS was unable to assume the role
    // 'arn:aws:iam::123456789012:role/x' that was provided for this task. ..."), the target
    // group's listener rule. Retried for aws::PROPAGATION, then it counts as real.
    // A service of the same name deleted a moment ago (a `down` followed by `up`) is still
    // DRAINING: "Unable to Start a service that is still Draining." Retried too, by name,
    // until it is gone.
    let started = std::time::Instant::now();
    let retryable = |e: &anyhow::Error| {
        still_draining(e) || (not_yet_propagated(e) && started.elapsed() < PROPAGATION)
    };
    let out = retry_while_settling(DRAINING_WAIT, retryable, || {
        let req = req.clone();
        async move { req.send().await.map_err(err) }
    })
    .await?;
    let svc = out
        .service()
        .ok_or_else(|| anyhow::anyhow!("CreateService returned no service"))?;
    settle(ctx, r, svc).await
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &ServiceSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let want = r.spec.fields(res);
    // As in the plan: a field AWS does not report is not compared, so not sent either (an
    // emulator that drops a setting on create would start echoing it once updated).
    let changed = |k: &str| o.fields.get(k).is_some_and(|v| want.get(k) != Some(v));
    let mut req = ctx
        .aws
        .ecs
        .update_service()
        .cluster(res.need(&s.cluster)?)
        .service(&r.name);
    if changed("task_definition") {
        req = req.task_definition(res.need(&s.task_definition)?);
    }
    // Once autoscaling owns the desired count, only CreateService sets it (the initial one).
    if changed("desired_count") && !s.desired_count_managed {
        req = req.desired_count(s.desired_count as i32);
    }
    if changed("subnets") || changed("security_groups") || changed("assign_public_ip") {
        req = req.network_configuration(network(s, res)?);
    }
    if changed("load_balancers") {
        let serving: Vec<String> = field_strings(&o.details["serving_target_groups"]);
        req = req.set_load_balancers(Some(load_balancers(s, res, &serving)?));
    }
    if changed("health_check_grace_period") || changed("load_balancers") {
        req = req
            .set_health_check_grace_period_seconds(s.health_check_grace_period.map(|g| g as i32));
    }
    if changed("deployment") {
        let live = o.fields.get("deployment");
        req = req.deployment_configuration(deployment::request(&s.deployment, live));
    }
    if changed("service_connect") {
        req = req.service_connect_configuration(match &s.service_connect {
            Some(c) => service_connect(c, res)?,
            None => service_connect_off(),
        });
    }
    // A new strategy places only tasks started after it and starts no deployment by itself
    // (ECS API UpdateService, capacityProviderStrategy): replace the running tasks.
    if changed("capacity") {
        req = req
            .set_capacity_provider_strategy(Some(capacity::request(&s.capacity)))
            .force_new_deployment(true);
    }
    if changed("enable_execute_command") {
        req = req.enable_execute_command(s.enable_execute_command);
        // ECS Exec reaches only tasks started after the change, and this parameter alone
        // starts no deployment: replace the running tasks unless another change does.
        let redeploys = [
            "task_definition",
            "subnets",
            "security_groups",
            "assign_public_ip",
            "load_balancers",
            "service_connect",
        ];
        if !redeploys.iter().any(|k| changed(k)) {
            req = req.force_new_deployment(true);
        }
    }
    // A role or rule made a moment ago (the infrastructure role of a service that starts
    // shifting traffic: "ECS was unable to assume the role ... provided for
    // advancedConfiguration") is refused until it has propagated, as on create; a refused
    // update changed nothing, so it is sent again.
    let started = std::time::Instant::now();
    let retryable = |e: &anyhow::Error| not_yet_propagated(e) && started.elapsed() < PROPAGATION;
    let out = retry_while_settling(PROPAGATION, retryable, || {
        let req = req.clone();
        async move { req.send().await.map_err(err) }
    })
    .await?;
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
    let key = r.id.to_string();
    let Some((deployment, outcome)) = follow_mutation(ctx, &key, svc, timeout).await? else {
        return Ok(outputs);
    };
    let settled = match &outcome {
        WaitOutcome::Stable(now) => Some(now.clone()),
        _ => None,
    };
    conclude(outcome, &deployment)?;
    if let Some(now) = settled {
        prune_revisions(ctx, r, &now).await?;
    }
    Ok(outputs)
}

/// Wait for the deployment a CreateService / UpdateService answer started: a blue/green,
/// canary or linear one through its lifecycle (its service deployment ARN), a rolling one
/// by the PRIMARY deployment's id. `None` when the answer names no deployment.
pub(super) async fn follow_mutation(
    ctx: &Ctx,
    key: &str,
    svc: &Service,
    timeout: Duration,
) -> Result<Option<(String, WaitOutcome)>> {
    let primary = primary_id(svc);
    if lifecycle::shifts_traffic(svc) {
        if let Some(arn) = lifecycle::started_by(ctx, svc).await? {
            let since = Since::mutation(svc, primary.as_deref().unwrap_or_default());
            // The wait timeout is for what AWS does; the steps and bake times the config
            // asks for come on top (a 20-minute bake would otherwise always time out).
            let held = deployment::strategy_of(svc.deployment_configuration()).held_minutes();
            let timeout = timeout + Duration::from_secs(u64::from(held) * 60);
            let outcome = lifecycle::wait(ctx, key, svc, &arn, since, timeout).await?;
            return Ok(Some((arn, outcome)));
        }
    }
    let Some(deployment) = primary else {
        return Ok(None);
    };
    let since = Since::mutation(svc, &deployment);
    let name = svc.service_name().unwrap_or_default();
    let outcome = wait_stable(ctx, key, name, &deployment, since, timeout).await?;
    Ok(Some((deployment, outcome)))
}

/// Once a deployment has settled: the family's revisions beyond `keep_revisions`, but
/// none that a deployment of the service still names, are deregistered. `now` is the
/// service as the wait's last look saw it (the mutation's answer still lists the
/// deployment it replaced).
async fn prune_revisions(ctx: &Ctx, r: &Resource, now: &Service) -> Result<()> {
    let Spec::Service(s) = &r.spec else {
        return Ok(());
    };
    let Some(family) = now.task_definition().and_then(revisions::family_of) else {
        return Ok(());
    };
    let in_use: Vec<String> = now
        .deployments()
        .iter()
        .filter_map(|d| d.task_definition())
        .chain(now.task_definition())
        .map(str::to_string)
        .collect();
    let gone = revisions::prune(ctx, family, s.keep_revisions, &in_use).await?;
    if gone > 0 {
        ctx.report.progress(
            &r.id.to_string(),
            &format!("deregistered {gone} old revisions of {family} (keep_revisions)"),
        );
    }
    Ok(())
}

fn primary_id(svc: &Service) -> Option<String> {
    svc.deployments()
        .iter()
        .find(|d| d.status() == Some("PRIMARY"))
        .and_then(|d| d.id())
        .map(str::to_string)
}

/// How long CreateService waits for a draining service of the same name to be gone (its
/// tasks stop after the load balancer's deregistration delay).
const DRAINING_WAIT: Duration = Duration::from_secs(600);

/// True for ECS's refusal to create a service whose namesake is still DRAINING.
fn still_draining(e: &anyhow::Error) -> bool {
    matches!(
        crate::aws::code_of(e),
        Some("InvalidParameterException" | "ClientException")
    ) && e.to_string().to_lowercase().contains("still draining")
}

fn client_token(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut t = format!("{:x}-{:x}-{name}", nanos, std::process::id());
    t.truncate(36); // the API's limit
    t
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
        .service(&name);
    gone_ok(sent(scale.desired_count(0).send()).await)?;
    let del = ctx
        .aws
        .ecs
        .delete_service()
        .cluster(&ctx.cluster)
        .service(&name);
    gone_ok(sent(del.force(true).send()).await)?;
    let key = o.id.to_string();
    retry_until(
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

mod capacity;
mod deployment;
pub mod history;
mod lifecycle;
mod manual;
mod outcome;
mod rollback;
mod rollout;
#[cfg(test)]
mod tests;

pub use manual::{owned, restart, scale, scale_bounds, traffic_back};
pub use outcome::{Judgement, Since, WaitOutcome};
pub use rollback::{rollback, short};
use rollout::conclude;
pub use rollout::{follow, judge, unsettled, wait_stable};
