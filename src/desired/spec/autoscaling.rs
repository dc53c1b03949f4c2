//! Application Auto Scaling specs: a service's scalable target, its target-tracking
//! policies and its scheduled actions.

use std::collections::BTreeSet;

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
    /// The (min, max) each of the service's scheduled actions sets; `None` leaves a bound.
    pub schedules: Vec<(Option<u32>, Option<u32>)>,
}

impl ScalableTargetSpec {
    /// Whether `(min, max)` is a range the service's scheduled actions can have set: the
    /// base range changed by any of them, any number of times, in any order (a change that
    /// would put min above max is refused by AWS, so it leads nowhere). `up` leaves such a
    /// range as it is instead of undoing the schedule (terraform-aws-modules/
    /// terraform-aws-ecs#422 is that fight).
    pub fn set_by_schedules(&self, min: u32, max: u32) -> bool {
        set_by_schedules((self.min, self.max), &self.schedules, (min, max))
    }
}

/// Whether `live` is a range `schedules` (each a min and/or max) can have set, starting
/// from the configured range `base` (see [`ScalableTargetSpec::set_by_schedules`]).
pub fn set_by_schedules(
    base: (u32, u32),
    schedules: &[(Option<u32>, Option<u32>)],
    live: (u32, u32),
) -> bool {
    let mut seen = BTreeSet::from([base]);
    let mut todo = vec![base];
    while let Some((lo, hi)) = todo.pop() {
        for (set_min, set_max) in schedules {
            let next = (set_min.unwrap_or(lo), set_max.unwrap_or(hi));
            if next.0 <= next.1 && seen.insert(next) {
                todo.push(next);
            }
        }
    }
    live != base && seen.contains(&live)
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
    fn ranges_the_schedules_can_set() {
        let target = |schedules: Vec<(Option<u32>, Option<u32>)>| ScalableTargetSpec {
            service: Val::Lit("web".to_string()),
            cluster: "c".to_string(),
            min: 1,
            max: 4,
            schedules,
        };
        let day_night = target(vec![(Some(2), Some(4)), (Some(1), Some(1))]);
        assert!(day_night.set_by_schedules(2, 4));
        assert!(day_night.set_by_schedules(1, 1));
        // The base range is not one a schedule set; another range is nobody's.
        assert!(!day_night.set_by_schedules(1, 4));
        assert!(!day_night.set_by_schedules(2, 1));
        assert!(!day_night.set_by_schedules(0, 4));
        assert!(!target(vec![]).set_by_schedules(2, 4));
        // Single bounds combine with what is there: max 0 needs min 0 first.
        let partial = target(vec![(None, Some(0)), (Some(0), None), (Some(3), None)]);
        assert!(partial.set_by_schedules(0, 4));
        assert!(partial.set_by_schedules(0, 0));
        assert!(partial.set_by_schedules(3, 4));
        assert!(!partial.set_by_schedules(3, 0));
        assert!(!partial.set_by_schedules(1, 0));
    }

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
