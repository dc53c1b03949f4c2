//! Validation of `[services.<key>.autoscaling]`: the task range, the one metric target
//! tracking follows (or none, when schedules alone scale), cooldowns, and the scheduled
//! changes of the range.

use super::names::{key_problem, set_keys};
use super::{Validator, MAX_COOLDOWN, MAX_DESIRED_COUNT, MAX_SCHEDULE_KEY_LEN};
use crate::config::diagnostic::KeyPath;
use crate::config::model::{Autoscaling, ScalingSchedule, Service};
use crate::config::schedule::{scaling_expression_problem, timezone_problem};

impl Validator<'_> {
    /// `[services.<key>.autoscaling]`.
    pub(super) fn autoscaling(&mut self, sp: &KeyPath, s: &Service, a: &Autoscaling) {
        let ap = sp.key("autoscaling");
        if a.max == 0 || a.max > MAX_DESIRED_COUNT {
            self.err(
                ap.key("max"),
                format!("max is {}; it must be 1 to {MAX_DESIRED_COUNT}", a.max),
            );
        }
        if a.min > a.max {
            self.err(
                ap.key("min"),
                format!(
                    "min ({}) is greater than max ({}); the autoscaler keeps the count between \
                     them",
                    a.min, a.max
                ),
            );
        }
        let metrics = set_keys(&[
            ("cpu", a.cpu.is_some()),
            ("memory", a.memory.is_some()),
            ("requests_per_target", a.requests_per_target.is_some()),
        ]);
        match metrics.as_slice() {
            [] if !a.schedules.is_empty() => {}
            [] => self.err(
                ap.clone(),
                "autoscaling has no target: set exactly one of `cpu`, `memory` or \
                 `requests_per_target`, or scale on `schedules` only",
            ),
            [_] => {}
            [first, rest @ ..] => {
                for second in rest {
                    self.err(
                        ap.key(*second),
                        format!(
                            "`{first}` and `{second}` are both set; autoscaling tracks exactly \
                             one of `cpu`, `memory` or `requests_per_target`"
                        ),
                    );
                }
            }
        }
        for (k, v) in [("cpu", a.cpu), ("memory", a.memory)] {
            if let Some(v) = v {
                if !(v > 0.0 && v <= 100.0) {
                    self.err(
                        ap.key(k),
                        format!(
                            "{k} target is {v}; an average utilisation target must be above 0 \
                             and at most 100 (%)"
                        ),
                    );
                }
            }
        }
        if let Some(v) = a.requests_per_target {
            if !(v > 0.0 && v.is_finite()) {
                self.err(
                    ap.key("requests_per_target"),
                    format!("requests_per_target is {v}; it must be above 0"),
                );
            }
            if s.target_group.is_none() {
                self.err(
                    ap.key("requests_per_target"),
                    "requests_per_target tracks the load balancer's requests per target, which \
                     needs a target_group on this service; add one or track `cpu` or `memory`",
                );
            }
        }
        for (k, v) in [
            ("scale_in_cooldown", a.scale_in_cooldown),
            ("scale_out_cooldown", a.scale_out_cooldown),
        ] {
            if v > MAX_COOLDOWN {
                self.err(
                    ap.key(k),
                    format!("{k} is {v} seconds; it must be 0 to {MAX_COOLDOWN}"),
                );
            }
        }
        for (name, sch) in &a.schedules {
            self.scaling_schedule(&ap.key("schedules").key(name), name, a, sch);
        }
    }

    /// `[services.<key>.autoscaling.schedules.<name>]`: its name, when it runs, and the
    /// range it sets, which must hold together with the bound it leaves as it is.
    fn scaling_schedule(&mut self, p: &KeyPath, name: &str, a: &Autoscaling, s: &ScalingSchedule) {
        if let Some(reason) = key_problem(name, MAX_SCHEDULE_KEY_LEN) {
            self.err(
                p.clone(),
                format!(
                    "schedule name `{name}` is invalid ({reason}); it must be 1 to \
                     {MAX_SCHEDULE_KEY_LEN} lowercase letters, digits and hyphens, starting with \
                     a letter (it is part of the scheduled action's name)"
                ),
            );
        }
        if let Some(m) = scaling_expression_problem(&s.schedule) {
            self.err(p.key("schedule"), m);
        }
        if let Some(m) = timezone_problem(&s.timezone) {
            self.err(p.key("timezone"), m);
        }
        for (k, v) in [("min", s.min), ("max", s.max)] {
            if let Some(v) = v.filter(|v| *v > MAX_DESIRED_COUNT) {
                self.err(
                    p.key(k),
                    format!("{k} is {v}; it must be 0 to {MAX_DESIRED_COUNT}"),
                );
            }
        }
        // Application Auto Scaling user guide, "How scheduled scaling works": an action may
        // set one bound only, but then the other one stays, and a range whose minimum is
        // above its maximum is refused when the action runs.
        match (s.min, s.max) {
            (None, None) => self.err(
                p.clone(),
                "a schedule sets `min`, `max` or both; it has neither",
            ),
            (Some(min), Some(max)) if min > max => self.err(
                p.key("min"),
                format!("min ({min}) is greater than max ({max})"),
            ),
            (Some(min), None) if min > a.max => self.err(
                p.key("min"),
                format!(
                    "min ({min}) is above autoscaling.max ({}), which this schedule leaves as it \
                     is; set `max` here too",
                    a.max
                ),
            ),
            (None, Some(max)) if max < a.min => self.err(
                p.key("max"),
                format!(
                    "max ({max}) is below autoscaling.min ({}), which this schedule leaves as it \
                     is; set `min` here too",
                    a.min
                ),
            ),
            _ => {}
        }
    }
}
