//! Scheduled-job specs: the app's EventBridge Scheduler schedule group, and one schedule
//! per job that runs the job's task definition on Fargate in the app's cluster.

use serde_json::{json, Value};

use super::kind_spec::{sorted_vals, KindSpec};
use crate::desired::resource::{Kind, Resolve, Val};

/// The schedule group holding the app's schedules (the resource name is the group name).
/// Scheduler tags groups, not schedules: the group's tags say whose it is, and every
/// schedule in it is the app's.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleGroupSpec;

/// A schedule that starts one Fargate task of a task definition (the resource name is the
/// schedule's name in the group).
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleSpec {
    /// The schedule group (its name).
    pub group: Val,
    /// `cron(...)` or `rate(...)`.
    pub expression: String,
    /// IANA time zone of the expression.
    pub timezone: String,
    /// The cluster's ARN: the schedule's target.
    pub cluster: Val,
    /// The task definition revision's ARN.
    pub task_definition: Val,
    /// The role Scheduler assumes to call RunTask.
    pub role: Val,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
}

impl KindSpec for ScheduleGroupSpec {
    const KIND: Kind = Kind::ScheduleGroup;
    const DELETED_AFTER: &'static [Kind] = &[Kind::Schedule];

    fn fields(&self, _r: &dyn Resolve) -> Value {
        json!({})
    }
}

impl KindSpec for ScheduleSpec {
    const KIND: Kind = Kind::Schedule;
    const DELETED_AFTER: &'static [Kind] = &[];
    const IMMUTABLE: &'static [&'static str] = &["group"];

    fn vals(&self) -> Vec<&Val> {
        [
            &self.group,
            &self.cluster,
            &self.task_definition,
            &self.role,
        ]
        .into_iter()
        .chain(&self.subnets)
        .chain(&self.security_groups)
        .collect()
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "group": r.val(&self.group),
            "expression": self.expression,
            "timezone": self.timezone,
            "state": "ENABLED",
            "flexible_time_window": "OFF",
            "target": {
                "arn": r.val(&self.cluster),
                "role_arn": r.val(&self.role),
                "task_definition_arn": r.val(&self.task_definition),
                "launch_type": "FARGATE",
                "task_count": 1,
                "subnets": sorted_vals(&self.subnets, r),
                "security_groups": sorted_vals(&self.security_groups, r),
                "assign_public_ip": if self.assign_public_ip { "ENABLED" } else { "DISABLED" },
            },
        })
    }
}
