//! `[services.<key>.deployment]`: how ECS replaces a service's tasks, and how it decides
//! that a deployment failed.

use std::borrow::Cow;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::yes;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, schemars::JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Deployment {
    /// Lower bound of running tasks during a rollout, in % of desired. Default 100.
    #[serde(default = "default_min_healthy")]
    pub minimum_healthy_percent: u32,
    /// Upper bound of running tasks during a rollout, in % of desired. Default 200.
    #[serde(default = "default_max_percent")]
    pub maximum_percent: u32,
    /// Roll back automatically when the circuit breaker trips (or a `rollback_alarms`
    /// alarm goes off). Default true.
    #[serde(default = "yes")]
    pub rollback: bool,
    /// How many failed tasks stop a deployment: a task count (`3`) or a percentage of the
    /// desired count (`"25%"`, at least 3 and at most 200 tasks). Default: AWS's, 50 %.
    pub failure_threshold: Option<FailureThreshold>,
    /// Whether a task that becomes healthy resets the circuit breaker's failure count.
    /// Default true (AWS's default).
    pub reset_on_healthy_task: Option<bool>,
    /// Call the deployment done once this percentage (of the desired count) of new tasks
    /// is healthy and the old tasks are gone; ECS starts the rest afterwards. Unset: done
    /// when every new task runs.
    pub early_success_percent: Option<u32>,
    /// Existing CloudWatch alarms (by name) that fail the deployment while it runs (and
    /// roll it back when `rollback` is on).
    #[serde(default)]
    pub rollback_alarms: Vec<String>,
    /// How ECS replaces the tasks: `rolling` (default), `blue_green`, `canary` or `linear`.
    /// The last three start the new revision beside the old one, move the load balancer's
    /// traffic over and keep the old revision for `bake_time` for an instant rollback.
    #[serde(default)]
    pub strategy: Strategy,
    /// blue_green, canary, linear: how long the old revision keeps running once all
    /// traffic reaches the new one (minutes, or a duration such as `"5m"`). Default 2 minutes.
    pub bake_time: Option<Minutes>,
    /// canary: the share of production traffic the new revision gets first (0.1 to 100).
    /// Default 10.
    pub canary_percent: Option<f64>,
    /// canary: how long the canary share is held before the rest moves. Default 2 minutes.
    pub canary_bake_time: Option<Minutes>,
    /// linear: the share of production traffic moved at each step (3 to 100). Default 25.
    pub step_percent: Option<f64>,
    /// linear: how long each step is held. Default 1 minute.
    pub step_bake_time: Option<Minutes>,
    /// blue_green, canary, linear: a load balancer port (HTTP) that sends test traffic to
    /// the new revision before production traffic moves. Absent: no test listener.
    pub test_port: Option<u16>,
}

/// `[services.<key>.deployment] strategy`: ECS API `DeploymentConfiguration.strategy`.
#[derive(
    Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    #[default]
    Rolling,
    BlueGreen,
    Canary,
    Linear,
}

impl Strategy {
    /// As the config spells it.
    pub fn as_config(self) -> &'static str {
        match self {
            Strategy::Rolling => "rolling",
            Strategy::BlueGreen => "blue_green",
            Strategy::Canary => "canary",
            Strategy::Linear => "linear",
        }
    }

    /// True for the strategies that shift traffic between two target groups.
    pub fn shifts_traffic(self) -> bool {
        self != Strategy::Rolling
    }
}

/// A whole number of minutes: `2`, or a duration that is whole minutes (`"2m"`, `"1h"`);
/// ECS takes bake times in minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Minutes(pub u32);

impl<'de> Deserialize<'de> for Minutes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str = "a number of minutes (such as 5) or a duration in whole \
                                minutes (such as \"5m\" or \"1h\")";
        impl Visitor<'_> for V {
            type Value = Minutes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Minutes, E> {
                u32::try_from(n)
                    .map(Minutes)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Minutes, E> {
                u32::try_from(n)
                    .map(Minutes)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Minutes, E> {
                humantime::parse_duration(s.trim())
                    .ok()
                    .filter(|d| d.as_secs() % 60 == 0 && d.subsec_nanos() == 0)
                    .and_then(|d| u32::try_from(d.as_secs() / 60).ok())
                    .map(Minutes)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Minutes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl schemars::JsonSchema for Minutes {
    fn schema_name() -> Cow<'static, str> {
        "Minutes".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "Minutes, or a duration in whole minutes such as \"5m\".",
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+\\s*(m|min|mins|minutes?|h|hours?)$"}
            ]
        })
    }
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            minimum_healthy_percent: default_min_healthy(),
            maximum_percent: default_max_percent(),
            rollback: true,
            failure_threshold: None,
            reset_on_healthy_task: None,
            early_success_percent: None,
            rollback_alarms: Vec::new(),
            strategy: Strategy::Rolling,
            bake_time: None,
            canary_percent: None,
            canary_bake_time: None,
            step_percent: None,
            step_bake_time: None,
            test_port: None,
        }
    }
}

fn default_min_healthy() -> u32 {
    100
}

fn default_max_percent() -> u32 {
    200
}

/// `failure_threshold = 3` or `failure_threshold = "25%"`: the circuit breaker's
/// `thresholdConfiguration` (ECS API `ThresholdConfiguration`: `COUNT`, or
/// `BOUNDED_PERCENT` of the desired count, bounded to 3..=200 tasks as AWS's default is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureThreshold {
    Count(u32),
    Percent(u32),
}

impl<'de> Deserialize<'de> for FailureThreshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const EXPECTED: &str = "a task count (an integer such as 3) or a percentage of the \
                                desired count (a string such as \"25%\")";
        impl Visitor<'_> for V {
            type Value = FailureThreshold;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<FailureThreshold, E> {
                u32::try_from(n)
                    .map(FailureThreshold::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<FailureThreshold, E> {
                u32::try_from(n)
                    .map(FailureThreshold::Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<FailureThreshold, E> {
                s.strip_suffix('%')
                    .and_then(|n| n.trim().parse::<u32>().ok())
                    .map(FailureThreshold::Percent)
                    .ok_or_else(|| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for FailureThreshold {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FailureThreshold::Count(n) => s.serialize_u32(*n),
            FailureThreshold::Percent(p) => s.serialize_str(&format!("{p}%")),
        }
    }
}

impl schemars::JsonSchema for FailureThreshold {
    fn schema_name() -> Cow<'static, str> {
        "FailureThreshold".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A task count, or a percentage of the desired count such as \"25%\".",
            "anyOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "pattern": "^[0-9]+%$"}
            ]
        })
    }
}
