//! Validation of `[services.<key>.deployment]`: the rollout's bounds and how a failed
//! deployment is detected (circuit breaker threshold, early success, alarms).

use super::Validator;
use crate::config::diagnostic::KeyPath;
use crate::config::model::{FailureThreshold, Service};

impl Validator<'_> {
    /// `[services.<key>.deployment]`.
    pub(super) fn deployment(&mut self, sp: &KeyPath, s: &Service) {
        let d = &s.deployment;
        let dp = sp.key("deployment");
        let min_ok = d.minimum_healthy_percent <= 100;
        if !min_ok {
            self.err(
                dp.key("minimum_healthy_percent"),
                format!(
                    "minimum_healthy_percent is {}; it must be 0 to 100",
                    d.minimum_healthy_percent
                ),
            );
        }
        let max_ok = (100..=200).contains(&d.maximum_percent);
        if !max_ok {
            self.err(
                dp.key("maximum_percent"),
                format!(
                    "maximum_percent is {}; it must be 100 to 200",
                    d.maximum_percent
                ),
            );
        }
        if min_ok && max_ok && d.maximum_percent <= d.minimum_healthy_percent {
            self.err(
                dp.key("maximum_percent"),
                format!(
                    "maximum_percent {} with minimum_healthy_percent {} leaves no room to roll \
                     out: ECS may neither start a new task before an old one stops nor stop an \
                     old one first; raise maximum_percent (e.g. 200) or lower \
                     minimum_healthy_percent (e.g. 50)",
                    d.maximum_percent, d.minimum_healthy_percent
                ),
            );
        }
        if let Some(FailureThreshold::Count(n)) = d.failure_threshold {
            // ECS API ThresholdConfiguration.value is a 32-bit integer.
            if n > i32::MAX as u32 {
                self.err(
                    dp.key("failure_threshold"),
                    format!(
                        "failure_threshold is {n}; a task count is at most {}",
                        i32::MAX
                    ),
                );
            }
        }
        if let Some(FailureThreshold::Count(0)) = d.failure_threshold {
            self.err(
                dp.key("failure_threshold"),
                "failure_threshold is 0; it is the number of failed tasks that stops a \
                 deployment, at least 1",
            );
        }
        if let Some(FailureThreshold::Percent(p)) = d.failure_threshold {
            if !(1..=100).contains(&p) {
                self.err(
                    dp.key("failure_threshold"),
                    format!(
                        "failure_threshold is \"{p}%\"; a percentage of the desired count \
                         must be 1% to 100% (ECS bounds it to at least 3 and at most 200 tasks)"
                    ),
                );
            }
        }
        if let Some(p) = d.early_success_percent {
            if !(1..=100).contains(&p) {
                self.err(
                    dp.key("early_success_percent"),
                    format!("early_success_percent is {p}; it must be 1 to 100"),
                );
            } else if min_ok && p < d.minimum_healthy_percent {
                // ECS API DeploymentEarlySuccessCriteria.healthyPercent: "must be greater
                // than or equal to the minimumHealthyPercent value".
                self.err(
                    dp.key("early_success_percent"),
                    format!(
                        "early_success_percent {p} is below minimum_healthy_percent {}; ECS \
                         requires at least as many healthy new tasks as it keeps running \
                         during the deployment: raise it to {} or more",
                        d.minimum_healthy_percent, d.minimum_healthy_percent
                    ),
                );
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, name) in d.rollback_alarms.iter().enumerate() {
            let at = dp.key("rollback_alarms").index(i);
            // CloudWatch API PutMetricAlarm: AlarmName is 1 to 255 characters.
            if name.trim().is_empty() || name.chars().count() > 255 {
                self.err(
                    at,
                    "a CloudWatch alarm name is 1 to 255 characters (and not only spaces)",
                );
            } else if !seen.insert(name.as_str()) {
                self.err(at, format!("alarm {name:?} is named twice"));
            }
        }
    }
}
