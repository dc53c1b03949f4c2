//! Application Auto Scaling helpers the scalable target and scaling policy steps share.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

/// Service namespace of every target and policy ecsdeploy manages.
pub const NAMESPACE: ServiceNamespace = ServiceNamespace::Ecs;

/// What the targets scale: the service's desired count.
pub const DIMENSION: ScalableDimension = ScalableDimension::EcsServiceDesiredCount;

/// Resource ids of the services in `cluster` start with this.
pub fn cluster_prefix(cluster: &str) -> String {
    format!("service/{cluster}/")
}
