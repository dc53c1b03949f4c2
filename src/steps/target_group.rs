//! Target groups (type `ip`, for Fargate tasks). Found by listing every target group in
//! the region and reading their tags: desired ones by name, orphans by the ownership tag.
//! VPC, protocol, port and target type are immutable; health check settings and the
//! deregistration delay are updated in place. `status` shows target health.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use aws_sdk_elasticloadbalancingv2::types::{
    Matcher, ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetHealthDescription,
    TargetHealthStateEnum, TargetTypeEnum,
};
use futures::future::try_join_all;
use serde_json::{json, Value};

use super::support::elb::*;
use super::support::ownership::not_owned;
use super::support::tags::owned_tags;
use super::support::{made_or_existing, object_fields, Made};
use super::Ctx;
use crate::aws::{
    answer, code_of, err, gone_ok_if, is_elb_gone, retry_until, sent, unless_gone, CONSISTENCY,
};
use crate::desired::TargetGroupSpec;
use crate::desired::{Attr, Fields, Kind, Outputs, Resolve, Resource, ResourceId};
use crate::plan::Observed;

/// The attribute holding the deregistration delay, in seconds.
const DEREGISTRATION_DELAY: &str = "deregistration_delay.timeout_seconds";

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    let desired_ids: BTreeSet<&ResourceId> = desired.iter().map(|r| &r.id).collect();
    let call = ctx.aws.elb.describe_target_groups();
    let tgs: Vec<TargetGroup> = answer(call.into_paginator().items().send().try_collect()).await?;
    let arns: Vec<String> = tgs
        .iter()
        .filter_map(|t| t.target_group_arn().map(str::to_string))
        .collect();
    let tags = tags_of(ctx, &arns).await?;

    let mut found = Vec::new();
    for tg in tgs {
        let (Some(name), Some(arn)) = (tg.target_group_name(), tg.target_group_arn()) else {
            continue;
        };
        let t = tags.get(arn);
        let id = match wanted.get(name) {
            Some(id) if is_ours(ctx, t) => (*id).clone(),
            Some(_) => {
                let what = format!("target group {name}");
                let remedy = "set the service's target_group.name to another name or delete it";
                return Err(not_owned(ctx, &what, remedy));
            }
            None => match owned_id(ctx, t, Kind::TargetGroup) {
                Some(id) => orphan_id(id, name, &desired_ids),
                None => continue,
            },
        };
        found.push((id, tg));
    }
    let observed = found.into_iter().map(|(id, tg)| async move {
        let arn = tg.target_group_arn().unwrap_or_default();
        let health = async {
            match ctx.status_details {
                true => health(ctx, arn).await,
                false => Ok(vec![]),
            }
        };
        let facts = futures::future::try_join(attributes(ctx, arn), health).await;
        // None: deleted between the listing and now.
        let facts = unless_gone(is_elb_gone, facts)?;
        Ok::<_, anyhow::Error>(facts.map(|(attrs, health)| observed(id, &tg, &attrs, &health)))
    });
    Ok(try_join_all(observed)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

async fn attributes(ctx: &Ctx, arn: &str) -> Result<BTreeMap<String, String>> {
    let call = ctx
        .aws
        .elb
        .describe_target_group_attributes()
        .target_group_arn(arn);
    let out = answer(call.send()).await?;
    Ok(attribute_map(out.attributes(), |a| (a.key(), a.value())))
}

async fn health(ctx: &Ctx, arn: &str) -> Result<Vec<TargetHealthDescription>> {
    let call = ctx.aws.elb.describe_target_health().target_group_arn(arn);
    let out = answer(call.send()).await?;
    Ok(out.target_health_descriptions().to_vec())
}

/// Normalised fields in the shape of `Spec::fields` for target groups. The delay is left
/// out (not compared) only if AWS does not report it.
fn fields_of(tg: &TargetGroup, attrs: &BTreeMap<String, String>) -> Fields {
    let v = json!({
        "vpc_id": tg.vpc_id(),
        "protocol": tg.protocol().map(|p| p.as_str()),
        "port": tg.port(),
        "target_type": tg.target_type().map(|t| t.as_str()),
        "health_check_path": tg.health_check_path(),
        "health_check_port": tg.health_check_port(),
        "health_check_protocol": tg.health_check_protocol().map(|p| p.as_str()),
        "health_check_interval": tg.health_check_interval_seconds(),
        "health_check_timeout": tg.health_check_timeout_seconds(),
        "healthy_threshold": tg.healthy_threshold_count(),
        "unhealthy_threshold": tg.unhealthy_threshold_count(),
        "matcher": tg.matcher().and_then(|m| m.http_code()),
    });
    let mut fields = object_fields(v);
    if let Some(d) = attrs
        .get(DEREGISTRATION_DELAY)
        .and_then(|d| d.parse::<u64>().ok())
    {
        fields.insert("deregistration_delay".into(), json!(d));
    }
    fields
}

/// Target health for `status`: each target, and healthy / total counts.
fn health_details(health: &[TargetHealthDescription]) -> (usize, usize, Value) {
    let targets: Vec<Value> = health
        .iter()
        .map(|h| {
            let th = h.target_health();
            json!({
                "id": h.target().and_then(|t| t.id()),
                "port": h.target().and_then(|t| t.port()),
                "state": th.and_then(|t| t.state()).map(|s| s.as_str()),
                "reason": th.and_then(|t| t.reason()).map(|r| r.as_str()),
            })
        })
        .collect();
    let healthy = health
        .iter()
        .filter(|h| {
            h.target_health().and_then(|t| t.state()) == Some(&TargetHealthStateEnum::Healthy)
        })
        .count();
    let total = health.len();
    (
        healthy,
        total,
        json!({"targets": targets, "healthy": healthy, "total": total}),
    )
}

fn observed(
    id: ResourceId,
    tg: &TargetGroup,
    attrs: &BTreeMap<String, String>,
    health: &[TargetHealthDescription],
) -> Observed {
    let name = tg.target_group_name().unwrap_or_default();
    let (healthy, total, details) = health_details(health);
    Observed {
        id,
        name: name.to_string(),
        outputs: Outputs::with_id(name).arn(tg.target_group_arn().unwrap_or_default()),
        fields: fields_of(tg, attrs),
        state: format!("{healthy}/{total} healthy"),
        details,
    }
}

pub async fn create(
    ctx: &Ctx,
    r: &Resource,
    s: &TargetGroupSpec,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let hc = &s.health_check;
    let out = ctx
        .aws
        .elb
        .create_target_group()
        .name(&r.name)
        .protocol(ProtocolEnum::from(s.protocol.as_str()))
        .port(s.port)
        .vpc_id(res.need(&s.vpc)?)
        .target_type(TargetTypeEnum::Ip)
        .health_check_enabled(true)
        .health_check_path(&hc.path)
        .health_check_port(&hc.port)
        .health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()))
        .health_check_interval_seconds(hc.interval)
        .health_check_timeout_seconds(hc.timeout)
        .healthy_threshold_count(hc.healthy_threshold)
        .unhealthy_threshold_count(hc.unhealthy_threshold)
        .matcher(Matcher::builder().http_code(&hc.matcher).build())
        .set_tags(Some(owned_tags(ctx, &r.id, &r.name)?))
        .send()
        .await
        .map_err(err);
    let out = match made_or_existing(ctx, r, out, "DuplicateTargetGroupName", observe).await? {
        Made::New(out) => out,
        Made::Existing(o) => return update(ctx, r, s, &o, res).await,
    };
    let Some(arn) = out
        .target_groups()
        .first()
        .and_then(|t| t.target_group_arn())
        .map(str::to_string)
    else {
        bail!("CreateTargetGroup returned no target group");
    };
    retry_until(CONSISTENCY, is_elb_gone, || {
        set_delay(ctx, &arn, s.deregistration_delay)
    })
    .await?;
    Ok(Outputs::with_id(&r.name).arn(arn))
}

async fn set_delay(ctx: &Ctx, arn: &str, seconds: u32) -> Result<()> {
    let delay = TargetGroupAttribute::builder().key(DEREGISTRATION_DELAY);
    let delay = delay.value(seconds.to_string()).build();
    let call = ctx
        .aws
        .elb
        .modify_target_group_attributes()
        .target_group_arn(arn);
    sent(call.attributes(delay).send()).await
}

pub async fn update(
    ctx: &Ctx,
    r: &Resource,
    s: &TargetGroupSpec,
    o: &Observed,
    res: &dyn Resolve,
) -> Result<Outputs> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default();
    let want = r.spec.fields(res);
    let changed = |k: &str| o.fields.get(k) != want.get(k);
    let hc = &s.health_check;
    let mut req = ctx.aws.elb.modify_target_group().target_group_arn(arn);
    let mut any = false;
    let mut when = |field: &str| {
        let c = changed(field);
        any |= c;
        c
    };
    if when("health_check_path") {
        req = req.health_check_path(&hc.path);
    }
    if when("health_check_port") {
        req = req.health_check_port(&hc.port);
    }
    if when("health_check_protocol") {
        req = req.health_check_protocol(ProtocolEnum::from(hc.protocol.as_str()));
    }
    if when("health_check_interval") {
        req = req.health_check_interval_seconds(hc.interval);
    }
    if when("health_check_timeout") {
        req = req.health_check_timeout_seconds(hc.timeout);
    }
    if when("healthy_threshold") {
        req = req.healthy_threshold_count(hc.healthy_threshold);
    }
    if when("unhealthy_threshold") {
        req = req.unhealthy_threshold_count(hc.unhealthy_threshold);
    }
    if when("matcher") {
        req = req.matcher(Matcher::builder().http_code(&hc.matcher).build());
    }
    if any {
        req.send().await.map_err(err)?;
    }
    if changed("deregistration_delay") {
        set_delay(ctx, arn, s.deregistration_delay).await?;
    }
    Ok(o.outputs.clone())
}

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let arn = o.outputs.get(Attr::Arn).unwrap_or_default().to_string();
    let call = ctx.aws.elb.delete_target_group().target_group_arn(&arn);
    // A listener, rule or service being removed may still use it for a while.
    retry_until(
        ctx.delete_deadline,
        |e| code_of(e) == Some("ResourceInUse"),
        || async { gone_ok_if(is_elb_gone, sent(call.clone().send()).await) },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Spec;
    use crate::desired::{HealthCheckSpec, NoRefs, TargetGroupSpec, Val};
    use aws_sdk_elasticloadbalancingv2::types::{
        TargetDescription, TargetHealth, TargetHealthReasonEnum,
    };

    fn spec() -> Spec {
        Spec::TargetGroup(TargetGroupSpec {
            vpc: Val::lit("vpc-1"),
            protocol: "HTTP".into(),
            port: 8080,
            health_check: HealthCheckSpec {
                path: "/health".into(),
                port: "traffic-port".into(),
                protocol: "HTTP".into(),
                interval: 15,
                timeout: 5,
                healthy_threshold: 2,
                unhealthy_threshold: 3,
                matcher: "200-399".into(),
            },
            deregistration_delay: 30,
        })
    }

    fn target_group() -> TargetGroup {
        TargetGroup::builder()
            .target_group_name("demo-web")
            .vpc_id("vpc-1")
            .protocol(ProtocolEnum::Http)
            .port(8080)
            .target_type(TargetTypeEnum::Ip)
            .health_check_path("/health")
            .health_check_port("traffic-port")
            .health_check_protocol(ProtocolEnum::Http)
            .health_check_interval_seconds(15)
            .health_check_timeout_seconds(5)
            .healthy_threshold_count(2)
            .unhealthy_threshold_count(3)
            .matcher(Matcher::builder().http_code("200-399").build())
            .build()
    }

    #[test]
    fn observed_fields_match_the_desired_shape() {
        let mut attrs = BTreeMap::new();
        attrs.insert(DEREGISTRATION_DELAY.to_string(), "30".to_string());
        attrs.insert("stickiness.enabled".to_string(), "false".to_string());
        assert_eq!(fields_of(&target_group(), &attrs), spec().fields(&NoRefs));
    }

    #[test]
    fn an_unreported_delay_is_not_compared() {
        let f = fields_of(&target_group(), &BTreeMap::new());
        assert!(!f.contains_key("deregistration_delay"));
        assert!(crate::plan::diff_fields(&f, &spec().fields(&NoRefs)).is_empty());
    }

    #[test]
    fn health_counts_healthy_targets() {
        let target = |ip: &str, state: TargetHealthStateEnum| {
            TargetHealthDescription::builder()
                .target(TargetDescription::builder().id(ip).port(8080).build())
                .target_health(
                    TargetHealth::builder()
                        .state(state)
                        .reason(TargetHealthReasonEnum::InitialHealthChecking)
                        .build(),
                )
                .build()
        };
        let (healthy, total, details) = health_details(&[
            target("10.0.0.1", TargetHealthStateEnum::Healthy),
            target("10.0.0.2", TargetHealthStateEnum::Initial),
        ]);
        assert_eq!((healthy, total), (1, 2));
        assert_eq!(details["targets"][1]["state"], "initial");
        assert_eq!(details["targets"][0]["id"], "10.0.0.1");
    }
}
