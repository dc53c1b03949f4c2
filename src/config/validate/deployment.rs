//! Validation of `[services.<key>.deployment]`: the rollout's bounds and how a failed
//! deployment is detected (circuit breaker threshold, early success, alarms).

use super::Validator;
use crate::config::diagnostic::KeyPath;
use crate::config::model::{FailureThreshold, Minutes, Service, Strategy};

/// ECS API `DeploymentConfiguration.bakeTimeInMinutes`, `CanaryConfiguration` and
/// `LinearConfiguration`: every bake time is 0 to 1440 minutes.
const MAX_BAKE_MINUTES: u32 = 1440;

impl Validator<'_> {
    /// `[services.<key>.deployment]`.
    pub(super) fn deployment(&mut self, sp: &KeyPath, key: &str, s: &Service) {
        let d = &s.deployment;
        let dp = sp.key("deployment");
        self.strategy(&dp, key, s);
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

    /// The strategy and its keys: each key only with the strategy it belongs to, values in
    /// the ranges ECS takes, and what the strategy needs of the service.
    fn strategy(&mut self, dp: &KeyPath, key: &str, s: &Service) {
        let d = &s.deployment;
        let st = d.strategy;
        let shifting = [Strategy::BlueGreen, Strategy::Canary, Strategy::Linear];
        let keys: [(&str, bool, &[Strategy]); 6] = [
            ("bake_time", d.bake_time.is_some(), &shifting),
            ("test_port", d.test_port.is_some(), &shifting),
            (
                "canary_percent",
                d.canary_percent.is_some(),
                &[Strategy::Canary],
            ),
            (
                "canary_bake_time",
                d.canary_bake_time.is_some(),
                &[Strategy::Canary],
            ),
            (
                "step_percent",
                d.step_percent.is_some(),
                &[Strategy::Linear],
            ),
            (
                "step_bake_time",
                d.step_bake_time.is_some(),
                &[Strategy::Linear],
            ),
        ];
        for (k, set, with) in keys {
            if set && !with.contains(&st) {
                let names: Vec<&str> = with.iter().map(|w| w.as_config()).collect();
                self.err(
                    dp.key(k),
                    format!(
                        "{k} applies to strategy = {}; this service's strategy is {}",
                        names.join(" or "),
                        st.as_config()
                    ),
                );
            }
        }
        for (k, m) in [
            ("bake_time", d.bake_time),
            ("canary_bake_time", d.canary_bake_time),
            ("step_bake_time", d.step_bake_time),
        ] {
            if let Some(Minutes(n)) = m {
                if n > MAX_BAKE_MINUTES {
                    self.err(
                        dp.key(k),
                        format!("{k} is {n} minutes; ECS takes 0 to {MAX_BAKE_MINUTES} (a day)"),
                    );
                }
            }
        }
        // ECS API CanaryConfiguration.canaryPercent: 0.1 to 100 in steps of 0.1;
        // LinearConfiguration.stepPercent: 3.0 to 100 in steps of 0.1.
        for (k, v, min) in [
            ("canary_percent", d.canary_percent, 0.1),
            ("step_percent", d.step_percent, 3.0),
        ] {
            let Some(p) = v else { continue };
            let tenths = (p * 10.0).round();
            if !(min..=100.0).contains(&p) || (p * 10.0 - tenths).abs() > 1e-6 {
                self.err(
                    dp.key(k),
                    format!("{k} is {p}; ECS takes {min} to 100 in steps of 0.1"),
                );
            }
        }
        if !st.shifts_traffic() {
            return;
        }
        let at = dp.key("strategy");
        if let Some(p) = d.early_success_percent {
            self.err(
                dp.key("early_success_percent"),
                format!(
                    "early_success_percent ({p}) applies to rolling deployments; a {} \
                     deployment is done when all traffic reaches the new revision and the bake \
                     time is over",
                    st.as_config()
                ),
            );
        }
        let routes = self.routes_to(key);
        match (&s.target_group, s.connect.is_some()) {
            (None, false) if st != Strategy::BlueGreen => self.err(
                at,
                format!(
                    "strategy = \"{}\" shifts traffic step by step, which needs a load \
                     balancer (target_group) or Service Connect (connect); this service has \
                     neither (ECS developer guide: canary and linear deployments)",
                    st.as_config()
                ),
            ),
            (Some(_), _) if routes.len() != 1 => self.err(
                at,
                format!(
                    "strategy = \"{}\" needs exactly one listener rule or listener default \
                     forwarding to the service (ECS shifts the weights of one production \
                     rule); {} forward to it{}",
                    st.as_config(),
                    routes.len(),
                    if routes.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", routes.join(", "))
                    }
                ),
            ),
            _ => {}
        }
        if let Some(lb) = &self.c.load_balancer {
            for (i, l) in lb.listeners.iter().enumerate() {
                let routes =
                    l.service.as_deref() == Some(key) || l.rules.iter().any(|r| r.service == key);
                if routes && (l.cognito.is_some() || l.oidc.is_some()) {
                    // ECS developer guide, "Application Load Balancer resources for
                    // blue/green, linear, and canary deployments": a deployment fails when
                    // the listener rules combine forward with other actions, such as
                    // authentication.
                    self.err(
                        dp.key("strategy"),
                        format!(
                            "strategy = \"{}\" cannot shift traffic on load_balancer.listeners[{i}]: \
                             it signs users in (cognito/oidc) before forwarding, and ECS fails a \
                             deployment whose rule mixes forward with other actions; keep this \
                             service rolling or route it through a listener without sign-in",
                            st.as_config()
                        ),
                    );
                }
                if l.service.as_deref() == Some(key) {
                    for (j, r) in l.rules.iter().enumerate() {
                        if r.priority == Some(50000) {
                            self.err(
                                super::root("load_balancer")
                                    .key("listeners")
                                    .index(i)
                                    .key("rules")
                                    .index(j)
                                    .key("priority"),
                                format!(
                                    "priority 50000 is taken on this listener: service {key} \
                                     ({}) gets a catch-all rule there, at the last priority, \
                                     for ECS to shift its traffic on",
                                    st.as_config()
                                ),
                            );
                        }
                    }
                }
            }
        }
        if let Some(port) = d.test_port {
            let other = self.c.services.iter().find(|(k, s)| {
                k.as_str() != key
                    && s.deployment.strategy.shifts_traffic()
                    && s.deployment.test_port == Some(port)
            });
            if let Some((other, _)) = other {
                self.err(
                    dp.key("test_port"),
                    format!(
                        "test_port {port} is service {other}'s test port too; each needs its own"
                    ),
                );
            }
            let lb = self.c.load_balancer.as_ref();
            if s.target_group.is_none() || lb.is_none() {
                self.err(
                    dp.key("test_port"),
                    "test_port opens a test listener on the load balancer; this service has no \
                     target_group",
                );
            } else if lb.is_some_and(|lb| lb.listeners.iter().any(|l| l.port == port)) {
                self.err(
                    dp.key("test_port"),
                    format!(
                        "test_port {port} is a listener port already (load_balancer.listeners)"
                    ),
                );
            } else if port == 0 {
                self.err(dp.key("test_port"), "test_port must be 1 to 65535");
            }
        }
    }

    /// Where the load balancer forwards to service `key`: `listeners[i]` (its default
    /// action) and `listeners[i].rules[j]`.
    fn routes_to(&self, key: &str) -> Vec<String> {
        let Some(lb) = &self.c.load_balancer else {
            return vec![];
        };
        let mut out = Vec::new();
        for (i, l) in lb.listeners.iter().enumerate() {
            if l.service.as_deref() == Some(key) {
                out.push(format!("load_balancer.listeners[{i}]"));
            }
            for (j, r) in l.rules.iter().enumerate() {
                if r.service == key {
                    out.push(format!("load_balancer.listeners[{i}].rules[{j}]"));
                }
            }
        }
        out
    }
}
