//! Target-tracking scaling policy on a service's scalable target: metric (and ALB resource
//! label), target value, cooldowns, scale-in switch.
//!
//! Policies carry no tags and their target's resource id is not known before the target's
//! step has run, so one paginated DescribeScalingPolicies (ECS namespace) reads them all,
//! and only those on the desired count of services in the app's cluster count. A
//! policy is the desired one when its name is a desired name (`<app>-<key>-<metric>`);
//! another policy there is an orphan of the app when its name has that shape
//! (`<app>-…-<one of the three metrics>`), with logical id `scaling_policy.@<name>` (the
//! service key cannot be told apart from a hyphenated app name). Two apps sharing one
//! cluster, one named like `<other app>-…`, would therefore see each other's policies as
//! orphans; per-app clusters (the default) do not.

use anyhow::Result;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalingPolicy,
    TargetTrackingScalingPolicyConfiguration,
};
use serde_json::{json, Value};

use super::support::autoscaling::{
    claim, cluster_prefix, target_not_visible, target_of, DIMENSION, NAMESPACE,
};
use super::support::field_map;
use super::Ctx;
use crate::aws::{answer, gone_ok_if, is_autoscaling_gone, retry_until, sent, CONSISTENCY};
use crate::desired::ScalingPolicySpec;
use crate::desired::{resource_label, Fields, Kind, Outputs, Resolve, Resource, ResourceId};
use crate::plan::Observed;

const KIND: Kind = Kind::ScalingPolicy;

/// The predefined metrics ecsdeploy tracks (the last part of its policy names).
const METRICS: [&str; 3] = [
    "ECSServiceAverageCPUUtilization",
    "ECSServiceAverageMemoryUtilization",
    "ALBRequestCountPerTarget",
];

pub async fn observe(ctx: &Ctx, desired: &[&Resource]) -> Result<Vec<Observed>> {
    let prefix = cluster_prefix(&ctx.cluster);
    // No ScalableDimension filter: AWS accepts it only together with a resource id.
    let call = ctx
        .aws
        .autoscaling
        .describe_scaling_policies()
        .service_namespace(NAMESPACE);
    let policies: Vec<ScalingPolicy> =
        answer(call.into_paginator().items().send().try_collect()).await?;
    let on_the_app = policies
        .iter()
        .filter(|p| p.resource_id().starts_with(&prefix) && p.scalable_dimension() == &DIMENSION);
    let ours = |name: &str| named_like_ours(&ctx.app, name);
    let claimed = claim(
        KIND,
        on_the_app,
        desired,
        |p| (p.policy_name(), p.resource_id()),
        ours,
    );
    Ok(claimed.into_iter().map(|(id, p)| observed(id, p)).collect())
}

/// `<app>-<key>-<metric>` with a non-empty key.
fn named_like_ours(app: &str, name: &str) -> bool {
    let Some(rest) = name.strip_prefix(app).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    METRICS.iter().any(|m| {
        rest.strip_suffix(m)
            .and_then(|k| k.strip_suffix('-'))
            .is_some_and(|k| !k.is_empty())
    })
}

fn observed(id: ResourceId, p: &ScalingPolicy) -> Observed {
    let alarms: Vec<&str> = p.alarms().iter().map(|a| a.alarm_name()).collect();
    Observed {
        id,
        name: p.policy_name().to_string(),
        outputs: Outputs::with_id(p.policy_name()).arn(p.policy_arn()),
        fields: fields(p),
        state: "active".to_string(),
        details: if alarms.is_empty() {
            Value::Null
        } else {
            json!({ "alarms": alarms })
        },
    }
}

/// The same shape as `Spec::fields` renders for a scaling policy. The target value is a
/// JSON number made from an `f64` on both sides, so `70` and `70.0` compare equal.
fn fields(p: &ScalingPolicy) -> Fields {
    let c = p.target_tracking_scaling_policy_configuration();
    let m = c.and_then(|c| c.predefined_metric_specification());
    field_map([
        ("resource_id", json!(p.resource_id())),
        ("policy_type", json!(p.policy_type().as_str())),
        (
            "metric",
            json!(m.map(|m| m.predefined_metric_type().as_str())),
        ),
        ("resource_label", json!(m.and_then(|m| m.resource_label()))),
        ("target_value", json!(c.map(|c| c.target_value()))),
        (
            "scale_in_cooldown",
            json!(c.and_then(|c| c.scale_in_cooldown())),
        ),
        (
            "scale_out_cooldown",
            json!(c.and_then(|c| c.scale_out_cooldown())),
        ),
        // Absent means scale-in is enabled.
        (
            "disable_scale_in",
            json!(c.map(|c| c.disable_scale_in().unwrap_or(false))),
        ),
    ])
}

/// PutScalingPolicy (an upsert) with the desired configuration; returns the outputs.
async fn put(ctx: &Ctx, r: &Resource, s: &ScalingPolicySpec, res: &dyn Resolve) -> Result<Outputs> {
    let resource_id = res.need(&s.target)?;
    let label = match (&s.load_balancer, &s.target_group) {
        (Some(lb), Some(tg)) => Some(resource_label(&res.need(lb)?, &res.need(tg)?)),
        _ => None,
    };
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::from(s.metric.as_str()))
        .set_resource_label(label)
        .build()?;
    let config = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(s.target_value)
        .predefined_metric_specification(metric)
        .scale_in_cooldown(i32::try_from(s.scale_in_cooldown)?)
        .scale_out_cooldown(i32::try_from(s.scale_out_cooldown)?)
        .disable_scale_in(s.disable_scale_in)
        .build()?;
    let req = ctx
        .aws
        .autoscaling
        .put_scaling_policy()
        .policy_name(&r.name)
        .service_namespace(NAMESPACE)
        .resource_id(&resource_id)
        .scalable_dimension(DIMENSION)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(config);
    let out = retry_until(CONSISTENCY, target_not_visible, || {
        answer(req.clone().send())
    })
    .await?;
    Ok(Outputs::with_id(&r.name).arn(out.policy_arn()))
}

super::support::updates::create_and_update_by!(
    /// Every field changes in place (PutScalingPolicy overwrites the policy of that name);
    /// a changed resource id replaces the policy.
    put(ScalingPolicySpec)
);

pub async fn delete(ctx: &Ctx, o: &Observed) -> Result<()> {
    let resource_id = target_of(o)?;
    let call = ctx
        .aws
        .autoscaling
        .delete_scaling_policy()
        .policy_name(&o.name);
    let call = call.service_namespace(NAMESPACE).resource_id(resource_id);
    let out = sent(call.scalable_dimension(DIMENSION).send()).await;
    gone_ok_if(is_autoscaling_gone, out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::desired::Spec;
    use crate::desired::{Ref, ScalingPolicySpec, Val};

    #[test]
    fn policy_names_of_the_app() {
        assert!(named_like_ours(
            "shop",
            "shop-web-ECSServiceAverageCPUUtilization"
        ));
        assert!(named_like_ours(
            "shop",
            "shop-api-v2-ALBRequestCountPerTarget"
        ));
        assert!(named_like_ours(
            "my-app",
            "my-app-web-ECSServiceAverageMemoryUtilization"
        ));
        assert!(!named_like_ours(
            "shop",
            "shop-ECSServiceAverageCPUUtilization"
        ));
        assert!(!named_like_ours(
            "shop",
            "shopweb-ECSServiceAverageCPUUtilization"
        ));
        assert!(!named_like_ours(
            "shop",
            "blog-web-ECSServiceAverageCPUUtilization"
        ));
        assert!(!named_like_ours("shop", "shop-web-cpu"));
    }

    fn policy(value: f64, label: Option<&str>, disable: Option<bool>) -> ScalingPolicy {
        let mut m = PredefinedMetricSpecification::builder()
            .predefined_metric_type(MetricType::from("ALBRequestCountPerTarget"));
        if let Some(l) = label {
            m = m.resource_label(l);
        }
        let c = TargetTrackingScalingPolicyConfiguration::builder()
            .target_value(value)
            .predefined_metric_specification(m.build().unwrap())
            .scale_in_cooldown(60)
            .scale_out_cooldown(30)
            .set_disable_scale_in(disable)
            .build()
            .unwrap();
        ScalingPolicy::builder()
            .policy_arn("arn:aws:autoscaling:x")
            .policy_name("shop-web-ALBRequestCountPerTarget")
            .service_namespace(NAMESPACE)
            .resource_id("service/shop-cluster/shop-web")
            .scalable_dimension(DIMENSION)
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(c)
            .creation_time(aws_smithy_types::DateTime::from_secs(0))
            .build()
            .unwrap()
    }

    #[test]
    fn converged_policy_diffs_to_nothing() {
        let target = ResourceId::new(Kind::ScalableTarget, "web");
        let tg = ResourceId::new(Kind::TargetGroup, "web");
        let lb = ResourceId::new(Kind::LoadBalancer, "main");
        let spec = Spec::ScalingPolicy(ScalingPolicySpec {
            target: Val::Ref(Ref::id(&target)),
            metric: "ALBRequestCountPerTarget".to_string(),
            target_group: Some(Val::Ref(Ref::arn(&tg))),
            load_balancer: Some(Val::Ref(Ref::arn(&lb))),
            target_value: 1000.0,
            scale_in_cooldown: 60,
            scale_out_cooldown: 30,
            disable_scale_in: false,
        });
        let mut outputs: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
        outputs.insert(target, Outputs::with_id("service/shop-cluster/shop-web"));
        outputs.insert(
            tg,
            Outputs::with_id("x").arn("arn:aws:elasticloadbalancing:r:1:targetgroup/web/2"),
        );
        outputs.insert(
            lb,
            Outputs::with_id("y").arn("arn:aws:elasticloadbalancing:r:1:loadbalancer/app/main/1"),
        );
        let want = spec.fields(&outputs);
        // AWS answers `1000` or `1000.0` alike: both parse to the same f64.
        let live = fields(&policy(1000.0, Some("app/main/1/targetgroup/web/2"), None));
        assert_eq!(live, want);
        let live = fields(&policy(
            1000.5,
            Some("app/main/1/targetgroup/web/2"),
            Some(false),
        ));
        assert_ne!(live, want);
    }
}
