//! A service's `deploymentConfiguration`: what CreateService / UpdateService send, and the
//! normalised `deployment` field read back from a described service.

use aws_sdk_ecs::types::{
    CanaryConfiguration, DeploymentAlarms, DeploymentCircuitBreaker, DeploymentConfiguration,
    DeploymentEarlySuccessCriteria, DeploymentStrategy, LinearConfiguration,
    ServiceRevisionCleanup, ThresholdConfiguration, ThresholdType,
};
use serde_json::Value;

use crate::desired::{
    deployment_fields, DeploymentSpec, Reported, StrategySpec, Threshold, ThresholdKind,
    DEFAULT_THRESHOLD,
};

/// The circuit breaker is always on: a deployment whose tasks keep failing is reported as
/// FAILED (and rolled back by ECS when `rollback` is set) instead of retrying for ever.
/// What the config leaves at AWS's defaults is not sent, unless `live` (the service's
/// `deployment` field, on an update) shows another value: then the default is sent, or
/// the alarms and early success criteria turned off, since a request that leaves a
/// setting out may leave it as it was.
pub fn request(d: &DeploymentSpec, live: Option<&Value>) -> DeploymentConfiguration {
    let live_cb = live.map(|l| &l["circuit_breaker"]);
    let default_threshold = DEFAULT_THRESHOLD.describe();
    let threshold = d.threshold.or_else(|| {
        live_cb
            .is_some_and(|cb| cb["failure_threshold"] != default_threshold.as_str())
            .then_some(DEFAULT_THRESHOLD)
    });
    let reset = d.reset_on_healthy_task.or_else(|| {
        live_cb
            .is_some_and(|cb| cb["reset_on_healthy_task"] == false)
            .then_some(true)
    });
    let mut cb = DeploymentCircuitBreaker::builder()
        .enable(true)
        .rollback(d.rollback)
        .set_reset_on_healthy_task(reset);
    if let Some(t) = threshold {
        cb = cb.threshold_configuration(
            ThresholdConfiguration::builder()
                .r#type(ThresholdType::from(t.kind.as_str()))
                .value(t.value)
                .build()
                .expect("type and value are set"),
        );
    }
    let mut b = DeploymentConfiguration::builder()
        .deployment_circuit_breaker(cb.build())
        .maximum_percent(d.maximum_percent as i32)
        .minimum_healthy_percent(d.minimum_healthy_percent as i32);
    let had = |k: &str| live.is_some_and(|l| !l[k].is_null());
    if let Some(p) = d.early_success_percent {
        // BLOCKING: ECS removes the old tasks before it calls the deployment done, so when
        // `up` reports success no task of the previous revision serves traffic any more;
        // the rest of the new tasks start afterwards (ECS API DeploymentEarlySuccessCriteria).
        b = b.early_success_criteria(
            DeploymentEarlySuccessCriteria::builder()
                .enable(true)
                .healthy_percent(p as i32)
                .source_service_revision_cleanup(ServiceRevisionCleanup::Blocking)
                .build(),
        );
    } else if had("early_success_percent") {
        b = b.early_success_criteria(
            DeploymentEarlySuccessCriteria::builder()
                .enable(false)
                .build(),
        );
    }
    if !d.alarms.is_empty() || had("alarms") {
        b = b.alarms(
            DeploymentAlarms::builder()
                .set_alarm_names(Some(d.alarms.clone()))
                .enable(!d.alarms.is_empty())
                .rollback(d.rollback && !d.alarms.is_empty())
                .build()
                .expect("names, enable and rollback are set"),
        );
    }
    strategy(b, d.strategy, live).build()
}

/// The strategy and its settings. ROLLING is sent only to leave another strategy (a
/// service that never had one is left as AWS made it).
fn strategy(
    b: aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder,
    st: StrategySpec,
    live: Option<&Value>,
) -> aws_sdk_ecs::types::builders::DeploymentConfigurationBuilder {
    let pct = |tenths: u32| f64::from(tenths) / 10.0;
    let was_other =
        live.is_some_and(|l| l["strategy"] != StrategySpec::Rolling.describe().as_str());
    let b = match st {
        StrategySpec::Rolling if !was_other => return b,
        StrategySpec::Rolling => b,
        StrategySpec::BlueGreen { bake } => b.bake_time_in_minutes(bake as i32),
        StrategySpec::Canary {
            bake,
            tenths,
            step_bake,
        } => b.bake_time_in_minutes(bake as i32).canary_configuration(
            CanaryConfiguration::builder()
                .canary_percent(pct(tenths))
                .canary_bake_time_in_minutes(step_bake as i32)
                .build(),
        ),
        StrategySpec::Linear {
            bake,
            tenths,
            step_bake,
        } => b.bake_time_in_minutes(bake as i32).linear_configuration(
            LinearConfiguration::builder()
                .step_percent(pct(tenths))
                .step_bake_time_in_minutes(step_bake as i32)
                .build(),
        ),
    };
    b.strategy(DeploymentStrategy::from(st.as_aws()))
}

/// The strategy a described service reports (none reported: ROLLING).
fn observed_strategy(d: &DeploymentConfiguration) -> StrategySpec {
    let tenths = |p: Option<f64>| p.map_or(0, |p| (p * 10.0).round() as u32);
    let minutes = |m: Option<i32>| m.unwrap_or(0).max(0) as u32;
    let bake = minutes(d.bake_time_in_minutes());
    match d.strategy() {
        Some(DeploymentStrategy::BlueGreen) => StrategySpec::BlueGreen { bake },
        Some(DeploymentStrategy::Canary) => {
            let c = d.canary_configuration();
            StrategySpec::Canary {
                bake,
                tenths: tenths(c.and_then(|c| c.canary_percent())),
                step_bake: minutes(c.and_then(|c| c.canary_bake_time_in_minutes())),
            }
        }
        Some(DeploymentStrategy::Linear) => {
            let c = d.linear_configuration();
            StrategySpec::Linear {
                bake,
                tenths: tenths(c.and_then(|c| c.step_percent())),
                step_bake: minutes(c.and_then(|c| c.step_bake_time_in_minutes())),
            }
        }
        _ => StrategySpec::Rolling,
    }
}

/// The strategy of a described service (see [`observed_strategy`]).
pub fn strategy_of(d: Option<&DeploymentConfiguration>) -> StrategySpec {
    d.map_or(StrategySpec::Rolling, observed_strategy)
}

/// The `deployment` field of a described service (see [`deployment_fields`]).
pub fn observed(d: &DeploymentConfiguration) -> Value {
    let cb = d.deployment_circuit_breaker();
    let threshold = cb.and_then(|c| c.threshold_configuration()).and_then(|t| {
        Some(Threshold {
            kind: ThresholdKind::parse(t.r#type().as_str())?,
            value: t.value(),
        })
    });
    let early_criteria = d.early_success_criteria().filter(|e| e.enable());
    let early = early_criteria.and_then(|e| e.healthy_percent());
    let deferred = early_criteria.is_some_and(|e| {
        e.source_service_revision_cleanup() == Some(&ServiceRevisionCleanup::Deferred)
    });
    let alarms = d
        .alarms()
        .filter(|a| a.enable())
        .map(|a| (a.alarm_names().to_vec(), a.rollback()));
    deployment_fields(&Reported {
        minimum_healthy_percent: d.minimum_healthy_percent(),
        maximum_percent: d.maximum_percent(),
        circuit_breaker: cb.map(|c| (c.enable(), c.rollback())),
        threshold,
        reset_on_healthy_task: cb.and_then(|c| c.reset_on_healthy_task()),
        early_success_percent: early,
        early_success_deferred: deferred,
        alarms,
        strategy: Some(observed_strategy(d)),
    })
}

/// Whether ECS calls a deployment of this service done before every new task runs
/// (early success criteria): then COMPLETED alone is success.
pub fn early_success(d: Option<&DeploymentConfiguration>) -> bool {
    // Only with BLOCKING cleanup is "done" also "no old task serves".
    d.and_then(|d| d.early_success_criteria()).is_some_and(|e| {
        e.enable() && e.source_service_revision_cleanup() != Some(&ServiceRevisionCleanup::Deferred)
    })
}
