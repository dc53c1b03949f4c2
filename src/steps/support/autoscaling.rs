//! Application Auto Scaling helpers the scalable target, scaling policy and scheduled
//! action steps share.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, Result};
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use serde_json::Value;

use crate::aws::{code_of, says};
use crate::desired::{Kind, Resource, ResourceId};
use crate::plan::Observed;

/// Service namespace of every target and policy ecsdeploy manages.
pub const NAMESPACE: ServiceNamespace = ServiceNamespace::Ecs;

/// What the targets scale: the service's desired count.
pub const DIMENSION: ScalableDimension = ScalableDimension::EcsServiceDesiredCount;

/// Resource ids of the services in `cluster` start with this.
pub fn cluster_prefix(cluster: &str) -> String {
    format!("service/{cluster}/")
}

/// The app's among untagged items (scaling policies, scheduled actions) on the services of
/// its cluster, each with its logical id: an item whose name is a desired resource's name is
/// that resource (the first of that name, in name and target order, so that the choice is
/// stable); another is an orphan of the app when `ours` says its name has the app's shape.
/// `name_and_target` reads an item's name and resource id.
pub fn claim<'a, T>(
    kind: Kind,
    items: impl IntoIterator<Item = &'a T>,
    desired: &[&Resource],
    name_and_target: impl Fn(&'a T) -> (&'a str, &'a str),
    ours: impl Fn(&str) -> bool,
) -> Vec<(ResourceId, &'a T)> {
    let wanted: BTreeMap<&str, &ResourceId> =
        desired.iter().map(|r| (r.name.as_str(), &r.id)).collect();
    let mut items: Vec<(&str, &str, &T)> = items
        .into_iter()
        .map(|t| {
            let (name, target) = name_and_target(t);
            (name, target, t)
        })
        .collect();
    items.sort_by_key(|(name, target, _)| (*name, *target));
    let mut taken: BTreeSet<ResourceId> = BTreeSet::new();
    let mut found = Vec::new();
    for (name, target, t) in items {
        let id = match wanted.get(name) {
            Some(id) if !taken.contains(*id) => (*id).clone(),
            // A second one of a desired name (on another target): a leftover.
            Some(_) => orphan_id(kind, name, target, &taken),
            None if ours(name) => orphan_id(kind, name, target, &taken),
            None => continue,
        };
        taken.insert(id.clone());
        found.push((id, t));
    }
    found
}

/// The resource id (`service/<cluster>/<service>`) an observed policy or action is on.
pub fn target_of(o: &Observed) -> Result<&str> {
    o.fields
        .get("resource_id")
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("internal: {} {} has no resource id", o.id.kind, o.name))
}

/// The orphan id of a policy or scheduled action, which carry no tags: `@<name>`, or
/// `@<name>@<resource id>` when one of that name on another target already has it.
fn orphan_id(
    kind: Kind,
    name: &str,
    resource_id: &str,
    taken: &BTreeSet<ResourceId>,
) -> ResourceId {
    let id = ResourceId::new(kind, format!("@{name}"));
    if taken.contains(&id) {
        ResourceId::new(kind, format!("@{name}@{resource_id}"))
    } else {
        id
    }
}

/// A target registered a moment ago is not visible to PutScalingPolicy or
/// PutScheduledAction yet: AWS says `ObjectNotFoundException` "No scalable target
/// registered for ..." (cloudposse/terraform-aws-ecs-cloudwatch-autoscaling#36 met it with
/// the policy ordered after the target; terraform-provider-aws retries PutScheduledAction
/// on it for 5 minutes, internal/service/appautoscaling/scheduled_action.go), moto
/// `ValidationException` "No scalable target found ...".
pub fn target_not_visible(e: &anyhow::Error) -> bool {
    code_of(e) == Some("ObjectNotFoundException")
        || says(e, "ValidationException", "No scalable target")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_desired_names_first_then_the_apps_shape() {
        use crate::desired::{ScheduledActionSpec, Spec, Val};
        let night = Resource {
            id: ResourceId::new(Kind::ScheduledAction, "web.night"),
            name: "shop-web-night".to_string(),
            spec: Spec::ScheduledAction(ScheduledActionSpec {
                target: Val::lit("service/c/shop-web"),
                schedule: "rate(1 day)".to_string(),
                timezone: "UTC".to_string(),
                min: None,
                max: Some(1),
            }),
        };
        // (name, target) pairs as the API lists them, unsorted.
        let items = [
            ("shop-web-night", "service/c/shop-web"),
            ("handmade", "service/c/shop-web"),
            ("shop-web-night", "service/c/shop-old"),
            ("shop-api-day", "service/c/shop-api"),
        ];
        let claimed = claim(
            Kind::ScheduledAction,
            &items,
            &[&night],
            |(n, t)| (*n, *t),
            |n| n.starts_with("shop-"),
        );
        let ids: Vec<String> = claimed.iter().map(|(id, _)| id.to_string()).collect();
        assert_eq!(
            ids,
            [
                "scheduled_action.@shop-api-day",
                "scheduled_action.web.night",
                "scheduled_action.@shop-web-night",
            ]
        );
        // The desired one is the first of its name in target order: shop-old's.
        assert_eq!(claimed[1].1 .1, "service/c/shop-old");
    }

    #[test]
    fn orphan_ids_stay_distinct() {
        let mut taken = BTreeSet::new();
        let a = orphan_id(Kind::ScalingPolicy, "p", "service/c/a", &taken);
        assert_eq!(a.to_string(), "scaling_policy.@p");
        taken.insert(a);
        assert_eq!(
            orphan_id(Kind::ScalingPolicy, "p", "service/c/b", &taken).to_string(),
            "scaling_policy.@p@service/c/b"
        );
    }
}
