//! ECS service specs: the service with its load balancers, Service Connect and capacity
//! provider strategy, and its release task.

use serde_json::{json, Value};

use super::deployment::DeploymentSpec;
use super::ecs::awslogs_fields;
use super::kind_spec::{sorted_vals, KindSpec};
use crate::desired::resource::{Kind, Resolve, ResourceId, Val};

/// A service's attachment to a target group.
#[derive(Debug, Clone, PartialEq)]
pub struct LbAttachment {
    pub target_group: Val,
    pub container_name: String,
    pub container_port: u16,
    /// What ECS needs to shift traffic (blue/green, canary, linear); `None` for rolling.
    pub advanced: Option<AdvancedSpec>,
}

/// ECS API `AdvancedConfiguration`: the second target group, the rules whose weights ECS
/// moves, and the role it moves them with.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvancedSpec {
    pub alternate_target_group: Val,
    pub production_rule: Val,
    pub test_rule: Option<Val>,
    pub role: Val,
}

/// One published Service Connect port.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectServiceSpec {
    pub port_name: String,
    pub discovery_name: String,
    pub dns_name: String,
    pub client_port: u16,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceConnectSpec {
    /// Namespace name or ARN.
    pub namespace: Val,
    /// Published ports; empty = client only.
    pub services: Vec<ConnectServiceSpec>,
    pub log_group: String,
    pub log_region: String,
    pub log_stream_prefix: String,
}

/// Normal form of a service's Service Connect configuration.
pub fn service_connect_fields(c: &ServiceConnectSpec, r: &dyn Resolve) -> Value {
    json!({
        "namespace": r.val(&c.namespace),
        "services": c.services.iter().map(|s| json!({
            "port_name": s.port_name,
            "discovery_name": s.discovery_name,
            "client_aliases": [{"port": s.client_port, "dns_name": s.dns_name}],
        })).collect::<Vec<_>>(),
        "log_configuration": awslogs_fields(&c.log_group, &c.log_region, &c.log_stream_prefix),
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub desired_count: u32,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
    pub load_balancers: Vec<LbAttachment>,
    pub health_check_grace_period: Option<u32>,
    /// `None` when autoscaling owns the desired count (then it is not compared).
    pub desired_count_managed: bool,
    pub enable_execute_command: bool,
    pub deployment: DeploymentSpec,
    pub service_connect: Option<ServiceConnectSpec>,
    /// The capacity provider strategy; empty = the `FARGATE` launch type.
    pub capacity: Vec<CapacityItem>,
    /// Task-definition revisions of the family kept after a deploy (0 = all). Not a field
    /// of the service: it acts when the service is created or updated.
    pub keep_revisions: u32,
    /// Listeners and rules that must route to the target group before the service
    /// attaches to it (ECS rejects a target group without a load balancer).
    pub after: Vec<ResourceId>,
}

/// One item of a capacity provider strategy (ECS API `CapacityProviderStrategyItem`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CapacityItem {
    pub provider: &'static str,
    pub base: u32,
    pub weight: u32,
}

/// The strategy for `spot` % of the tasks above `on_demand_base` on Fargate Spot, in normal
/// form (see [`normal_strategy`]): empty when every task runs on regular Fargate.
pub fn spot_strategy(spot: u32, on_demand_base: u32) -> Vec<CapacityItem> {
    let spot = spot.min(100);
    normal_strategy(vec![
        CapacityItem {
            provider: "FARGATE",
            base: on_demand_base,
            weight: 100 - spot,
        },
        CapacityItem {
            provider: "FARGATE_SPOT",
            base: 0,
            weight: spot,
        },
    ])
}

/// A strategy in the form both sides of a diff use: items placing nothing (base and weight
/// 0) dropped, weights divided by their greatest common divisor, sorted by provider; a
/// strategy of regular Fargate alone is empty (it places tasks as the `FARGATE` launch type
/// does).
pub fn normal_strategy(items: Vec<CapacityItem>) -> Vec<CapacityItem> {
    let mut items: Vec<CapacityItem> = items
        .into_iter()
        .filter(|i| i.base > 0 || i.weight > 0)
        .collect();
    if items.iter().all(|i| i.provider == "FARGATE") {
        return vec![];
    }
    let divisor = items.iter().fold(0, |g, i| gcd(g, i.weight)).max(1);
    for i in &mut items {
        i.weight /= divisor;
    }
    items.sort();
    items
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The service's `capacity` field: `"FARGATE"` (the launch type) or the strategy.
pub fn capacity_fields(items: &[CapacityItem]) -> Value {
    if items.is_empty() {
        return json!("FARGATE");
    }
    Value::Array(
        items
            .iter()
            .map(|i| json!({"provider": i.provider, "base": i.base, "weight": i.weight}))
            .collect(),
    )
}

/// A service's release task: one task of the service's new task-definition revision, with
/// the service's network, run to completion before the service is updated to it. Not a
/// resource AWS keeps: observed as the revision the live service runs, so it differs (and
/// runs) exactly when the service is about to get another revision.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseSpec {
    pub cluster: Val,
    pub task_definition: Val,
    pub subnets: Vec<Val>,
    pub security_groups: Vec<Val>,
    pub assign_public_ip: bool,
    /// The container whose command is replaced and whose exit code decides.
    pub container: String,
    pub command: Vec<String>,
    /// How long the task may run before it is stopped and the release fails.
    pub timeout_seconds: u32,
    /// What the service's tasks need first (network routes, endpoints, policies, the
    /// services it depends on).
    pub after: Vec<ResourceId>,
}

impl KindSpec for ReleaseSpec {
    const KIND: Kind = Kind::Release;
    const DELETED_AFTER: &'static [Kind] = &[];

    fn vals(&self) -> Vec<&Val> {
        [&self.cluster, &self.task_definition]
            .into_iter()
            .chain(self.subnets.iter())
            .chain(self.security_groups.iter())
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    /// The revision it runs; the command is shown, but observed as configured (AWS keeps
    /// no record of it), so a new command alone runs nothing.
    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "task_definition": r.val(&self.task_definition),
            "command": self.command,
        })
    }
}

/// The load balancers of a service. With an alternate target group the two groups are a
/// set: ECS alternates which one serves production from one deployment to the next.
fn lb_fields(lbs: &[LbAttachment], r: &dyn Resolve) -> Value {
    let mut out: Vec<Value> = lbs
        .iter()
        .map(|l| match &l.advanced {
            None => json!({
                "target_group_arn": r.val(&l.target_group),
                "container_name": l.container_name,
                "container_port": l.container_port,
            }),
            Some(a) => lb_pair_fields(
                [r.val(&l.target_group), r.val(&a.alternate_target_group)],
                &l.container_name,
                i32::from(l.container_port),
                r.val(&a.production_rule),
                a.test_rule.as_ref().map(|t| r.val(t)),
                r.val(&a.role),
            ),
        })
        .collect();
    out.sort_by_key(|v| v.to_string());
    Value::Array(out)
}

/// One load balancer of a service with an alternate target group, in the shape both sides
/// of a diff use.
pub fn lb_pair_fields(
    mut groups: [String; 2],
    container_name: &str,
    container_port: i32,
    production_rule: String,
    test_rule: Option<String>,
    role: String,
) -> Value {
    groups.sort();
    json!({
        "target_groups": groups,
        "container_name": container_name,
        "container_port": container_port,
        "production_listener_rule": production_rule,
        "test_listener_rule": test_rule,
        "role_arn": role,
    })
}

impl KindSpec for ServiceSpec {
    const KIND: Kind = Kind::Service;
    const DELETED_AFTER: &'static [Kind] = &[
        Kind::ScalableTarget,
        Kind::ScalingPolicy,
        Kind::ScheduledAction,
    ];
    /// A change between the launch type and a capacity provider strategy is made in place
    /// (UpdateService, since June 2025), so `capacity` is not here.
    const IMMUTABLE: &'static [&'static str] = &["cluster"];

    fn vals(&self) -> Vec<&Val> {
        [&self.cluster, &self.task_definition]
            .into_iter()
            .chain(self.subnets.iter())
            .chain(self.security_groups.iter())
            .chain(self.load_balancers.iter().flat_map(|l| {
                std::iter::once(&l.target_group).chain(l.advanced.iter().flat_map(|a| {
                    [&a.alternate_target_group, &a.production_rule, &a.role]
                        .into_iter()
                        .chain(a.test_rule.iter())
                }))
            }))
            .chain(self.service_connect.iter().map(|c| &c.namespace))
            .collect()
    }

    fn after(&self) -> &[ResourceId] {
        &self.after
    }

    fn unmanaged(&self) -> &'static [&'static str] {
        if self.desired_count_managed {
            &["desired_count"]
        } else {
            &[]
        }
    }

    fn fields(&self, r: &dyn Resolve) -> Value {
        json!({
            "cluster": r.val(&self.cluster),
            "capacity": capacity_fields(&self.capacity),
            "task_definition": r.val(&self.task_definition),
            "desired_count": self.desired_count,
            "subnets": sorted_vals(&self.subnets, r),
            "security_groups": sorted_vals(&self.security_groups, r),
            "assign_public_ip": self.assign_public_ip,
            "load_balancers": lb_fields(&self.load_balancers, r),
            "health_check_grace_period": self.health_check_grace_period,
            "enable_execute_command": self.enable_execute_command,
            "deployment": self.deployment.fields(),
            "service_connect": self.service_connect.as_ref().map(|c| service_connect_fields(c, r)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(provider: &'static str, base: u32, weight: u32) -> CapacityItem {
        CapacityItem {
            provider,
            base,
            weight,
        }
    }

    #[test]
    fn spot_percentages_become_reduced_weights() {
        assert_eq!(
            spot_strategy(75, 1),
            vec![item("FARGATE", 1, 1), item("FARGATE_SPOT", 0, 3)]
        );
        assert_eq!(
            spot_strategy(50, 0),
            vec![item("FARGATE", 0, 1), item("FARGATE_SPOT", 0, 1)]
        );
    }

    #[test]
    fn all_spot_keeps_only_the_on_demand_base() {
        assert_eq!(spot_strategy(100, 0), vec![item("FARGATE_SPOT", 0, 1)]);
        assert_eq!(
            spot_strategy(100, 2),
            vec![item("FARGATE", 2, 0), item("FARGATE_SPOT", 0, 1)]
        );
    }

    #[test]
    fn no_spot_is_the_launch_type() {
        assert!(spot_strategy(0, 3).is_empty());
        assert_eq!(capacity_fields(&spot_strategy(0, 0)), json!("FARGATE"));
        // What AWS reports for a service moved off Spot: regular Fargate alone.
        assert!(normal_strategy(vec![item("FARGATE", 0, 1)]).is_empty());
    }

    #[test]
    fn equivalent_strategies_compare_equal() {
        let reported = normal_strategy(vec![item("FARGATE_SPOT", 0, 6), item("FARGATE", 1, 2)]);
        assert_eq!(reported, spot_strategy(75, 1));
    }
}
