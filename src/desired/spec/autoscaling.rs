//! Application Auto Scaling specs: a service's scalable target, its target-tracking
//! policies and its scheduled actions.

use serde_json::{json, Value};

use super::kind_spec::KindSpec;
use crate::desired::resource::{Kind, Resolve, Val};

/// Application Auto Scaling target for one ECS service's desired count.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalableTargetSpec {
    /// The service (its name); the target is `service/<cluster>/<service>`.
    pub service: Val,
    pub cluster: String,
    pub min: u32,
    pub max: u32,
}

/// A target-tracking policy on a scalable target.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPolicySpec {
    /// The scalable target (its `service/<cluster>/<service>` resource id).
    pub target: Val,
    /// `ECSServiceAverageCPUUtilization`, `ECSServiceAverageMemoryUtilization` or
    /// `ALBRequestCountPerTarget`.
    pub metric: String,
    /// For ALB requests: the target group's ARN (the label is derived from it and the LB's).
    pub target_group: Option<Val>,
    pub load_balancer: Option<Val>,
    pub target_value: f64,
    pub scale_in_cooldown: u32,
    pub scale_out_cooldown: u32,
    pub disable_scale_in: bool,
}

/// A scheduled action on a scalable target: at `schedule`, the target's range becomes
/// `min` and/or `max` (a bound left unset stays as it is then).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduledActionSpec {
    /// The scalable target (its `service/<cluster>/<service>` resource id).
    pub target: Val,
    /// `cron(...)`, `rate(...)` or `at(...)`.
    pub schedule: String,
    /// IANA time zone of `cron` and `at` expressions.
    pub timezone: String,
    pub min: Option<u32>,
    pub max: Option<u32>,
}

/// `app/<lb-name>/<lb-id>/targetgroup/<tg-name>/<tg-id>` from the two ARNs: the label
/// target tracking on ALB requests needs.
pub fn resource_label(lb_arn: &str, tg_arn: &str) -> String {
    let lb = lb_arn
        .split_once(":loadbalancer/")
        .map_or(lb_arn, |(_, x)| x);
    let tg = tg_arn
        .split_once(":targetgroup/")
        .map_or(tg_arn, |(_, x)| x);
    format!("{lb}/targetgroup/{tg}")
}

impl KindSpec for ScalableTargetSpec {
    const KIND: Kind = Kind::ScalableTarget;
    const DELETED_AFTER: &'static [Kind] = &[Kind::ScalingPolicy, Kind::ScheduledAction];
    const IMMUTABLE: &'static [&'static str] = &["resource_id"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.service]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "resource_id": format!("service/{}/{}", self.cluster, r.val(&self.service)),
            "min_capacity": self.min,
            "max_capacity": self.max,
        })
    }
}

impl KindSpec for ScalingPolicySpec {
    const KIND: Kind = Kind::ScalingPolicy;
    const DELETED_AFTER: &'static [Kind] = &[];
    const IMMUTABLE: &'static [&'static str] = &["resource_id"];

    fn vals(&self) -> Vec<&Val> {
        std::iter::once(&self.target)
            .chain(self.target_group.iter())
            .chain(self.load_balancer.iter())
            .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "resource_id": r.val(&self.target),
            "policy_type": "TargetTrackingScaling",
            "metric": self.metric,
            "resource_label": match (&self.load_balancer, &self.target_group) {
                (Some(lb), Some(tg)) => json!(resource_label(&r.val(lb), &r.val(tg))),
                _ => Value::Null,
            },
            "target_value": self.target_value,
            "scale_in_cooldown": self.scale_in_cooldown,
            "scale_out_cooldown": self.scale_out_cooldown,
            "disable_scale_in": self.disable_scale_in,
        })
    }
}

impl KindSpec for ScheduledActionSpec {
    const KIND: Kind = Kind::ScheduledAction;
    const DELETED_AFTER: &'static [Kind] = &[];
    const IMMUTABLE: &'static [&'static str] = &["resource_id"];

    fn vals(&self) -> Vec<&Val> {
        vec![&self.target]
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "resource_id": r.val(&self.target),
            "schedule": self.schedule,
            "timezone": self.timezone,
            "min_capacity": self.min,
            "max_capacity": self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_resource_label() {
        assert_eq!(
            resource_label(
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:loadbalancer/app/web/50dc6c495c0c9188",
                "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/web-tg/943f017f100becff"
            ),
            "app/web/50dc6c495c0c9188/targetgroup/web-tg/943f017f100becff"
        );
    }
}
