//! A service's deployment settings (ECS API `DeploymentConfiguration`): the rollout's
//! bounds and how a failed deployment is detected. The same normalised fields are built
//! from the config here and from a described service in `steps::service::deployment`.

use serde_json::{json, Value};

use crate::config::{Deployment, FailureThreshold, Minutes, Strategy};

/// Bake time when the config sets none: the old revision keeps running 2 minutes after
/// all traffic reached the new one, long enough for an alarm or a look at the logs to
/// call a rollback that is instant (traffic moves back, nothing starts), short enough
/// that a deploy is done in minutes. ECS's own default is 0.
pub const DEFAULT_BAKE_MINUTES: u32 = 2;
/// Canary defaults: 10 % of production traffic for 2 minutes, then the rest.
pub const DEFAULT_CANARY_TENTHS: u32 = 100;
pub const DEFAULT_CANARY_BAKE_MINUTES: u32 = 2;
/// Linear defaults: 25 % more traffic every minute (4 steps), not AWS's 10 % steps.
pub const DEFAULT_STEP_TENTHS: u32 = 250;
pub const DEFAULT_STEP_BAKE_MINUTES: u32 = 1;

/// How ECS replaces the tasks (ECS API `DeploymentConfiguration.strategy` and its
/// configurations). Percentages are in tenths (ECS takes steps of 0.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrategySpec {
    Rolling,
    BlueGreen {
        bake: u32,
    },
    Canary {
        bake: u32,
        tenths: u32,
        step_bake: u32,
    },
    Linear {
        bake: u32,
        tenths: u32,
        step_bake: u32,
    },
}

impl StrategySpec {
    pub fn from_config(d: &Deployment) -> StrategySpec {
        let m = |v: Option<Minutes>, default: u32| v.map_or(default, |m| m.0);
        let tenths =
            |v: Option<f64>, default: u32| v.map_or(default, |p| (p * 10.0).round() as u32);
        let bake = m(d.bake_time, DEFAULT_BAKE_MINUTES);
        match d.strategy {
            Strategy::Rolling => StrategySpec::Rolling,
            Strategy::BlueGreen => StrategySpec::BlueGreen { bake },
            Strategy::Canary => StrategySpec::Canary {
                bake,
                tenths: tenths(d.canary_percent, DEFAULT_CANARY_TENTHS),
                step_bake: m(d.canary_bake_time, DEFAULT_CANARY_BAKE_MINUTES),
            },
            Strategy::Linear => StrategySpec::Linear {
                bake,
                tenths: tenths(d.step_percent, DEFAULT_STEP_TENTHS),
                step_bake: m(d.step_bake_time, DEFAULT_STEP_BAKE_MINUTES),
            },
        }
    }

    /// ECS's name of the strategy.
    pub fn as_aws(self) -> &'static str {
        match self {
            StrategySpec::Rolling => "ROLLING",
            StrategySpec::BlueGreen { .. } => "BLUE_GREEN",
            StrategySpec::Canary { .. } => "CANARY",
            StrategySpec::Linear { .. } => "LINEAR",
        }
    }

    /// True for the strategies that shift traffic between two target groups.
    pub fn shifts_traffic(self) -> bool {
        self != StrategySpec::Rolling
    }

    pub fn bake(self) -> Option<u32> {
        match self {
            StrategySpec::Rolling => None,
            StrategySpec::BlueGreen { bake }
            | StrategySpec::Canary { bake, .. }
            | StrategySpec::Linear { bake, .. } => Some(bake),
        }
    }

    /// How long a deployment holds traffic steps and bakes, in minutes: each canary or
    /// linear step but the last is held for its step bake time, then the bake time (ECS
    /// developer guide: canary and linear deployments; "stepBakeTimeInMinutes ... not
    /// applied after reaching 100 %").
    pub fn held_minutes(self) -> u32 {
        match self {
            StrategySpec::Rolling => 0,
            StrategySpec::BlueGreen { bake } => bake,
            StrategySpec::Canary {
                bake, step_bake, ..
            } => step_bake + bake,
            StrategySpec::Linear {
                bake,
                tenths,
                step_bake,
            } => {
                let steps = 1000u32.div_ceil(tenths.max(1));
                steps.saturating_sub(1) * step_bake + bake
            }
        }
    }

    /// How the deployment field shows it: `"CANARY 10% for 2 min, bake 2 min"`.
    pub fn describe(self) -> String {
        let pct = |t: u32| {
            if t % 10 == 0 {
                format!("{}%", t / 10)
            } else {
                format!("{}.{}%", t / 10, t % 10)
            }
        };
        match self {
            StrategySpec::Rolling => "ROLLING".to_string(),
            StrategySpec::BlueGreen { bake } => format!("BLUE_GREEN, bake {bake} min"),
            StrategySpec::Canary {
                bake,
                tenths,
                step_bake,
            } => format!(
                "CANARY {} for {step_bake} min, then all; bake {bake} min",
                pct(tenths)
            ),
            StrategySpec::Linear {
                bake,
                tenths,
                step_bake,
            } => format!(
                "LINEAR {} every {step_bake} min; bake {bake} min",
                pct(tenths)
            ),
        }
    }
}

/// AWS's circuit-breaker threshold when none is set (ECS API `ThresholdConfiguration`:
/// `BOUNDED_PERCENT`, 50).
pub const DEFAULT_THRESHOLD: Threshold = Threshold {
    kind: ThresholdKind::BoundedPercent,
    value: 50,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentSpec {
    pub minimum_healthy_percent: u32,
    pub maximum_percent: u32,
    /// Roll back on a circuit-breaker failure, and on an alarm.
    pub rollback: bool,
    /// `None`: AWS's default ([`DEFAULT_THRESHOLD`]), not sent.
    pub threshold: Option<Threshold>,
    /// `None`: AWS's default (true), not sent.
    pub reset_on_healthy_task: Option<bool>,
    /// `earlySuccessCriteria.healthyPercent`; `None`: off.
    pub early_success_percent: Option<u32>,
    /// CloudWatch alarm names, as configured; empty: no alarms.
    pub alarms: Vec<String>,
    pub strategy: StrategySpec,
}

/// The circuit breaker's `thresholdConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    pub kind: ThresholdKind,
    pub value: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThresholdKind {
    Count,
    BoundedPercent,
    UnboundedPercent,
}

impl ThresholdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ThresholdKind::Count => "COUNT",
            ThresholdKind::BoundedPercent => "BOUNDED_PERCENT",
            ThresholdKind::UnboundedPercent => "UNBOUNDED_PERCENT",
        }
    }

    pub fn parse(s: &str) -> Option<ThresholdKind> {
        [
            ThresholdKind::Count,
            ThresholdKind::BoundedPercent,
            ThresholdKind::UnboundedPercent,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

impl Threshold {
    /// How `plan` shows it: `3 tasks`, `50%`, `50% (unbounded)`.
    pub fn describe(self) -> String {
        match self.kind {
            ThresholdKind::Count => format!("{} tasks", self.value),
            ThresholdKind::BoundedPercent => format!("{}%", self.value),
            ThresholdKind::UnboundedPercent => format!("{}% (unbounded)", self.value),
        }
    }
}

impl DeploymentSpec {
    pub fn from_config(d: &Deployment) -> DeploymentSpec {
        DeploymentSpec {
            minimum_healthy_percent: d.minimum_healthy_percent,
            maximum_percent: d.maximum_percent,
            rollback: d.rollback,
            threshold: d.failure_threshold.map(|t| match t {
                FailureThreshold::Count(n) => Threshold {
                    kind: ThresholdKind::Count,
                    value: n as i32,
                },
                FailureThreshold::Percent(p) => Threshold {
                    kind: ThresholdKind::BoundedPercent,
                    value: p as i32,
                },
            }),
            reset_on_healthy_task: d.reset_on_healthy_task,
            early_success_percent: d.early_success_percent,
            alarms: d.rollback_alarms.clone(),
            strategy: StrategySpec::from_config(d),
        }
    }

    /// The `deployment` field of a service, in the shape both sides of a diff use.
    pub fn fields(&self) -> Value {
        deployment_fields(&Reported {
            minimum_healthy_percent: Some(self.minimum_healthy_percent as i32),
            maximum_percent: Some(self.maximum_percent as i32),
            circuit_breaker: Some((true, self.rollback)),
            threshold: self.threshold,
            reset_on_healthy_task: self.reset_on_healthy_task,
            early_success_percent: self.early_success_percent.map(|p| p as i32),
            early_success_deferred: false,
            alarms: (!self.alarms.is_empty()).then(|| (self.alarms.clone(), self.rollback)),
            strategy: Some(self.strategy),
        })
    }
}

/// A deployment configuration as AWS reports it, absent parts as `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reported {
    pub minimum_healthy_percent: Option<i32>,
    pub maximum_percent: Option<i32>,
    /// `(enable, rollback)`; `None`: no circuit breaker (disabled).
    pub circuit_breaker: Option<(bool, bool)>,
    pub threshold: Option<Threshold>,
    pub reset_on_healthy_task: Option<bool>,
    /// The healthy percent of enabled early success criteria.
    pub early_success_percent: Option<i32>,
    /// ... whose old tasks go only after the deployment is called done (`DEFERRED`;
    /// ecsdeploy sends `BLOCKING`).
    pub early_success_deferred: bool,
    /// `(names, rollback)` of enabled alarms.
    pub alarms: Option<(Vec<String>, bool)>,
    /// `None`: not reported, which is ROLLING.
    pub strategy: Option<StrategySpec>,
}

/// The normalised `deployment` field: AWS's defaults where a part is not reported (the
/// threshold, resetting on a healthy task), alarm names sorted (their order means nothing).
pub fn deployment_fields(d: &Reported) -> Value {
    let (enable, rollback) = d.circuit_breaker.unwrap_or((false, false));
    let alarms = d.alarms.as_ref().map(|(names, rollback)| {
        let mut names = names.clone();
        names.sort();
        json!({"names": names, "rollback": rollback})
    });
    json!({
        "minimum_healthy_percent": d.minimum_healthy_percent,
        "maximum_percent": d.maximum_percent,
        "circuit_breaker": {
            "enable": enable,
            "rollback": rollback,
            "failure_threshold": d.threshold.unwrap_or(DEFAULT_THRESHOLD).describe(),
            "reset_on_healthy_task": d.reset_on_healthy_task.unwrap_or(true),
        },
        // Deferred cleanup (set outside ecsdeploy) lets old tasks serve after "done": a
        // different value, so the next `up` sets BLOCKING again.
        "early_success_percent": match (d.early_success_percent, d.early_success_deferred) {
            (Some(p), true) => json!(format!("{p}% (old tasks removed afterwards)")),
            (p, _) => json!(p),
        },
        "alarms": alarms,
        "strategy": d.strategy.unwrap_or(StrategySpec::Rolling).describe(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_compare_equal_to_an_answer_that_leaves_them_out() {
        let spec = DeploymentSpec::from_config(&Deployment::default());
        let reported = Reported {
            minimum_healthy_percent: Some(100),
            maximum_percent: Some(200),
            circuit_breaker: Some((true, true)),
            ..Default::default()
        };
        assert_eq!(spec.fields(), deployment_fields(&reported));
        // ... and to one that states AWS's defaults.
        let stated = Reported {
            threshold: Some(DEFAULT_THRESHOLD),
            reset_on_healthy_task: Some(true),
            ..reported
        };
        assert_eq!(spec.fields(), deployment_fields(&stated));
    }

    #[test]
    fn thresholds_and_alarms_are_compared() {
        let d = Deployment {
            failure_threshold: Some(FailureThreshold::Count(3)),
            reset_on_healthy_task: Some(false),
            early_success_percent: Some(100),
            rollback_alarms: vec!["b".into(), "a".into()],
            ..Deployment::default()
        };
        let f = DeploymentSpec::from_config(&d).fields();
        assert_eq!(f["circuit_breaker"]["failure_threshold"], "3 tasks");
        assert_eq!(f["circuit_breaker"]["reset_on_healthy_task"], false);
        assert_eq!(f["early_success_percent"], 100);
        assert_eq!(f["alarms"], json!({"names": ["a", "b"], "rollback": true}));
        let pct = Deployment {
            failure_threshold: Some(FailureThreshold::Percent(25)),
            ..Deployment::default()
        };
        let f = DeploymentSpec::from_config(&pct).fields();
        assert_eq!(f["circuit_breaker"]["failure_threshold"], "25%");
        assert_eq!(f["alarms"], Value::Null);
        assert_eq!(f["early_success_percent"], Value::Null);
        let unbounded = Threshold {
            kind: ThresholdKind::UnboundedPercent,
            value: 25,
        };
        assert_eq!(unbounded.describe(), "25% (unbounded)");
    }
}
