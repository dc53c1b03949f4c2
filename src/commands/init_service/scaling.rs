//! The live service's Application Auto Scaling → `[services.<key>.autoscaling]` (its
//! scheduled actions through `schedules.rs`), and its Service Connect configuration →
//! `[service_connect]` and `[services.<key>.connect]`.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_applicationautoscaling::types::{ScalableTarget, ScalingPolicy, ScheduledAction};
use aws_sdk_ecs::types::ServiceConnectConfiguration;

use super::schedules::{self, Schedule};
use super::text::{number, q};
use super::Keys;

/// What the live scaling becomes: `[services.<key>.autoscaling]` and its schedules.
#[derive(Debug, Default)]
pub struct AutoscalingOut {
    /// The keys of `[services.<key>.autoscaling]`; empty for no autoscaling.
    pub keys: Keys,
    pub schedules: Vec<Schedule>,
}

/// The live service's scaling: what it needs to know besides the target and its policies.
pub struct ScalingIn<'a> {
    pub has_target_group: bool,
    /// `<app>-<key>`, the prefix of the new scheduled actions' names.
    pub action_prefix: &'a str,
    /// Compared with the scheduled actions' start and end times.
    pub now: SystemTime,
}

/// `[services.<key>.autoscaling]` with its schedules, or nothing when ecsdeploy can express
/// neither a policy nor a schedule (then the service keeps its desired count, and `notes`
/// says why).
pub fn autoscaling(
    target: Option<&ScalableTarget>,
    policies: &[ScalingPolicy],
    actions: &[ScheduledAction],
    o: &ScalingIn,
    notes: &mut Vec<String>,
) -> AutoscalingOut {
    let Some(t) = target else {
        return AutoscalingOut::default();
    };
    let has_target_group = o.has_target_group;
    let mut chosen = None;
    for p in policies {
        let name = p.policy_name();
        let metric = p
            .target_tracking_scaling_policy_configuration()
            .and_then(|c| Some((c, c.predefined_metric_specification()?)));
        let Some((c, m)) = metric else {
            notes.push(format!(
                "scaling policy `{name}` ({}): ecsdeploy makes one target-tracking policy on a \
                 predefined metric; dropped",
                p.policy_type().as_str()
            ));
            continue;
        };
        let key = match m.predefined_metric_type().as_str() {
            "ECSServiceAverageCPUUtilization" => "cpu",
            "ECSServiceAverageMemoryUtilization" => "memory",
            "ALBRequestCountPerTarget" if has_target_group => "requests_per_target",
            other => {
                notes.push(format!(
                    "scaling policy `{name}` tracks `{other}`, which ecsdeploy cannot track \
                     here; dropped"
                ));
                continue;
            }
        };
        if chosen.is_some() {
            notes.push(format!(
                "scaling policy `{name}`: a second target-tracking policy; ecsdeploy makes one \
                 per service; dropped"
            ));
            continue;
        }
        chosen = Some((key, c));
    }
    let (min, max) = (t.min_capacity().max(0), t.max_capacity().max(1));
    let schedules = schedules::convert(actions, (min, max), o.action_prefix, o.now, notes);
    // Read while a schedule's range is in force, the live range is that schedule's, not
    // necessarily the one the service has the rest of the time.
    let set_by = actions.iter().find(|a| {
        a.scalable_target_action().is_some_and(|r| {
            r.min_capacity() == Some(t.min_capacity()) && r.max_capacity() == Some(t.max_capacity())
        })
    });
    if let Some(a) = set_by.filter(|_| !schedules.is_empty()) {
        notes.push(format!(
            "autoscaling range {} to {}: the range scheduled action `{}` sets, so perhaps \
             not the service's usual one; `min` and `max` are the range the new target is \
             registered with: set them to the usual range if it differs",
            t.min_capacity(),
            t.max_capacity(),
            a.scheduled_action_name()
        ));
    }
    if chosen.is_none() && schedules.is_empty() {
        notes.push(format!(
            "autoscaling between {} and {} tasks: no policy or schedule ecsdeploy can \
             express, so the new service runs a fixed desired_count",
            t.min_capacity(),
            t.max_capacity()
        ));
        return AutoscalingOut::default();
    }
    let mut keys: Keys = vec![
        ("min".into(), min.to_string()),
        ("max".into(), max.to_string()),
    ];
    // Without a policy, the schedules alone scale the service (a valid autoscaling table).
    if let Some((metric, c)) = chosen {
        keys.extend([
            (metric.into(), number(c.target_value())),
            // AWS's default cooldown for ECS is 300 seconds; ecsdeploy's is 60.
            (
                "scale_in_cooldown".into(),
                c.scale_in_cooldown().unwrap_or(300).to_string(),
            ),
            (
                "scale_out_cooldown".into(),
                c.scale_out_cooldown().unwrap_or(300).to_string(),
            ),
        ]);
        if c.disable_scale_in() == Some(true) {
            keys.push(("disable_scale_in".into(), "true".into()));
        }
    }
    if t.suspended_state().is_some_and(|s| {
        s.dynamic_scaling_in_suspended() == Some(true)
            || s.dynamic_scaling_out_suspended() == Some(true)
            || s.scheduled_scaling_suspended() == Some(true)
    }) {
        notes.push(
            "autoscaling is partly suspended on the live service: the new one's is not".into(),
        );
    }
    AutoscalingOut { keys, schedules }
}

/// What Service Connect becomes.
#[derive(Debug, Default)]
pub struct ConnectOut {
    /// `[service_connect]`.
    pub namespace: Keys,
    /// `[services.<key>.connect]` (present, maybe empty, when the service is connected).
    pub connect: Option<Keys>,
    pub publish: Vec<Keys>,
}

pub fn connect(
    sc: Option<&ServiceConnectConfiguration>,
    port_names: &BTreeMap<String, u16>,
    notes: &mut Vec<String>,
) -> ConnectOut {
    let mut out = ConnectOut::default();
    let Some(sc) = sc.filter(|s| s.enabled()) else {
        return out;
    };
    let Some(ns) = sc.namespace() else {
        notes.push(
            "Service Connect without a namespace (the cluster's default): ecsdeploy needs the \
             namespace named; not reproduced"
                .into(),
        );
        return out;
    };
    out.namespace = vec![
        ("namespace".into(), q(ns)),
        ("existing".into(), "true".into()),
    ];
    out.connect = Some(Keys::new());
    if sc.log_configuration().is_some() {
        notes.push(
            "Service Connect proxy log configuration: ecsdeploy sends the proxy's logs to the \
             app's log group"
                .into(),
        );
    }
    if sc.access_log_configuration().is_some() {
        notes.push("Service Connect access logs: not supported by ecsdeploy".into());
    }
    for s in sc.services() {
        let name = s.port_name();
        let Some(port) = port_names.get(name) else {
            notes.push(format!(
                "Service Connect port `{name}` is not a named port of the main container; not \
                 published"
            ));
            continue;
        };
        let mut keys: Keys = vec![("port".into(), port.to_string()), ("name".into(), q(name))];
        if let Some(d) = s.discovery_name().filter(|d| *d != name) {
            keys.push(("discovery_name".into(), q(d)));
        }
        let aliases = s.client_aliases();
        if let Some(a) = aliases.first() {
            if let Some(d) = a.dns_name() {
                keys.push(("dns_name".into(), q(d)));
            }
            if i32::from(*port) != a.port() {
                keys.push(("client_port".into(), a.port().to_string()));
            }
        }
        if aliases.len() > 1 {
            notes.push(format!(
                "Service Connect port `{name}`: {} client aliases; ecsdeploy gives each \
                 published port one (the first is kept)",
                aliases.len()
            ));
        }
        if s.ingress_port_override().is_some() || s.timeout().is_some() || s.tls().is_some() {
            notes.push(format!(
                "Service Connect port `{name}`: ingress port override, timeouts and TLS are not \
                 supported by ecsdeploy; dropped"
            ));
        }
        out.publish.push(keys);
    }
    out
}
