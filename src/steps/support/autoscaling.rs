//! Application Auto Scaling helpers the scalable target, scaling policy and scheduled
//! action steps share.

use std::collections::BTreeSet;

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use crate::aws::{code_of, says};
use crate::desired::{Kind, ResourceId};

/// Service namespace of every target and policy ecsdeploy manages.
pub const NAMESPACE: ServiceNamespace = ServiceNamespace::Ecs;

/// What the targets scale: the service's desired count.
pub const DIMENSION: ScalableDimension = ScalableDimension::EcsServiceDesiredCount;

/// Resource ids of the services in `cluster` start with this.
pub fn cluster_prefix(cluster: &str) -> String {
    format!("service/{cluster}/")
}

/// The orphan id of a policy or scheduled action, which carry no tags: `@<name>`, or
/// `@<name>@<resource id>` when one of that name on another target already has it.
pub fn orphan_id(
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
