//! A service's capacity: the `FARGATE` launch type, or a capacity provider strategy over
//! `FARGATE` and `FARGATE_SPOT` (`services.<key>.capacity`), as observed and as sent.

use aws_sdk_ecs::types::{CapacityProviderStrategyItem, LaunchType, Service};
use serde_json::Value;

use crate::desired::{capacity_fields, normal_strategy, CapacityItem};

/// The observed `capacity` field, in the form of `desired::capacity_fields`; `None` when the
/// answer does not say. ecsdeploy never creates a service with the `EC2` launch type, and
/// an emulator that drops the strategy on CreateService (moto) reports `EC2` by default:
/// such an answer is "not reported", so not compared.
pub fn observed(s: &Service) -> Option<Value> {
    let strategy = s.capacity_provider_strategy();
    if strategy.is_empty() {
        return match s.launch_type() {
            Some(LaunchType::Fargate) => Some(capacity_fields(&[])),
            _ => None,
        };
    }
    let items = strategy
        .iter()
        .map(|i| CapacityItem {
            provider: known_provider(i.capacity_provider()),
            base: i.base().max(0) as u32,
            weight: i.weight().max(0) as u32,
        })
        .collect();
    Some(capacity_fields(&normal_strategy(items)))
}

/// Provider names ecsdeploy compares; any other (an Auto Scaling group provider set by
/// hand) reads as itself and so always differs.
fn known_provider(name: &str) -> &'static str {
    match name {
        "FARGATE" => "FARGATE",
        "FARGATE_SPOT" => "FARGATE_SPOT",
        _ => "OTHER",
    }
}

/// The strategy CreateService / UpdateService send. Moving a service off Spot sends regular
/// Fargate alone: AWS allows every change between Fargate capacity provider strategies in
/// place, and the strategy then places tasks as the launch type does.
pub fn request(items: &[CapacityItem]) -> Vec<CapacityProviderStrategyItem> {
    let fargate_only = [CapacityItem {
        provider: "FARGATE",
        base: 0,
        weight: 1,
    }];
    let items = if items.is_empty() {
        &fargate_only[..]
    } else {
        items
    };
    items
        .iter()
        .map(|i| {
            CapacityProviderStrategyItem::builder()
                .capacity_provider(i.provider)
                .base(i.base as i32)
                .weight(i.weight as i32)
                .build()
                .expect("capacity provider is set")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn service(strategy: &[(&str, i32, i32)], launch: Option<LaunchType>) -> Service {
        let items = strategy
            .iter()
            .map(|(p, b, w)| {
                CapacityProviderStrategyItem::builder()
                    .capacity_provider(*p)
                    .base(*b)
                    .weight(*w)
                    .build()
                    .unwrap()
            })
            .collect();
        Service::builder()
            .set_capacity_provider_strategy(Some(items))
            .set_launch_type(launch)
            .build()
    }

    #[test]
    fn launch_type_and_strategies_read_in_the_desired_form() {
        let fargate = service(&[], Some(LaunchType::Fargate));
        assert_eq!(observed(&fargate), Some(json!("FARGATE")));
        let spot = service(&[("FARGATE", 1, 2), ("FARGATE_SPOT", 0, 6)], None);
        assert_eq!(
            observed(&spot),
            Some(json!([
                {"provider": "FARGATE", "base": 1, "weight": 1},
                {"provider": "FARGATE_SPOT", "base": 0, "weight": 3},
            ]))
        );
        // Moved off Spot by ecsdeploy: regular Fargate alone is the launch type's placement.
        let back = service(&[("FARGATE", 0, 1)], None);
        assert_eq!(observed(&back), Some(json!("FARGATE")));
    }

    #[test]
    fn a_dropped_strategy_is_not_reported() {
        assert_eq!(observed(&service(&[], Some(LaunchType::Ec2))), None);
        assert_eq!(observed(&service(&[], None)), None);
    }

    #[test]
    fn leaving_spot_sends_regular_fargate() {
        let r = request(&[]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].capacity_provider(), "FARGATE");
        assert_eq!(r[0].weight(), 1);
    }
}
