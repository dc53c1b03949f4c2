//! The live service's Application Auto Scaling → `[services.<key>.autoscaling]`, and its
//! Service Connect configuration → `[service_connect]` and `[services.<key>.connect]`.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::{ScalableTarget, ScalingPolicy};
use aws_sdk_ecs::types::ServiceConnectConfiguration;

use super::text::{number, q};
use super::Keys;

/// `[services.<key>.autoscaling]`, or nothing when ecsdeploy cannot express the scaling
/// (then the service keeps its desired count, and `notes` says why).
pub fn autoscaling(
    target: Option<&ScalableTarget>,
    policies: &[ScalingPolicy],
    has_target_group: bool,
    notes: &mut Vec<String>,
) -> Keys {
    let Some(t) = target else {
        return Keys::new();
    };
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
    let Some((metric, c)) = chosen else {
        notes.push(format!(
            "autoscaling between {} and {} tasks: no policy ecsdeploy can express, so the new \
             service runs a fixed desired_count",
            t.min_capacity(),
            t.max_capacity()
        ));
        return Keys::new();
    };
    let mut keys: Keys = vec![
        ("min".into(), t.min_capacity().max(0).to_string()),
        ("max".into(), t.max_capacity().max(1).to_string()),
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
    ];
    if c.disable_scale_in() == Some(true) {
        keys.push(("disable_scale_in".into(), "true".into()));
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
    keys
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
