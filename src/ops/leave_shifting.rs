//! Leaving blue/green, canary or linear for rolling without an outage. ECS alternates a
//! service's two target groups, so after a deployment production may be on the group the
//! config calls alternate, which a rolling service no longer has: pointing the route at
//! the other group, or deploying the rolling service into it, would send traffic to a group
//! without tasks until the new ones are healthy. So before anything else `up` runs one
//! more deployment under the strategy the service has, which moves the tasks and the
//! traffic to the group the rolling service keeps; then the switch changes nothing that
//! serves.

use std::collections::BTreeMap;

use anyhow::Result;

use crate::desired::{Attr, Kind, Resource, ResourceId, Spec, Val};
use crate::plan::{Observed, Plan, Unsettled};
use crate::steps::Ctx;

/// A service whose traffic must come back to its first group before it turns rolling.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaving {
    pub id: ResourceId,
    pub name: String,
    /// The group the rolling service keeps.
    pub keeps: String,
    /// The production rule ECS shifts the service's traffic on.
    pub rule: String,
    /// A deployment still in flight, which decides where the traffic ends up.
    pub in_flight: Option<Unsettled>,
}

/// The services this plan turns rolling while production serves, or may end up serving,
/// from the group they drop (pure): updated services that AWS reports with another
/// strategy, whose desired spec is rolling, and whose production rule gives the group they
/// keep less than all traffic, or whose latest deployment is still in flight.
pub fn leaving(
    plan: &Plan,
    desired: &[Resource],
    observed: &BTreeMap<ResourceId, Observed>,
) -> Vec<Leaving> {
    let rules_by_arn: BTreeMap<&str, &Observed> = observed
        .values()
        .filter(|o| o.id.kind == Kind::ListenerRule)
        .filter_map(|o| Some((o.outputs.get(Attr::Arn)?, o)))
        .collect();
    plan.pending()
        .filter(|c| c.id.kind == Kind::Service)
        .filter_map(|c| {
            let o = observed.get(&c.id)?;
            let r = desired.iter().find(|r| r.id == c.id)?;
            let Spec::Service(s) = &r.spec else {
                return None;
            };
            let shifting_now = o.details["strategy"]
                .as_str()
                .is_some_and(|st| st != "ROLLING");
            if !shifting_now || s.deployment.strategy.shifts_traffic() {
                return None;
            }
            let Val::Ref(keep) = &s.load_balancers.first()?.target_group else {
                return None;
            };
            let keeps = observed.get(&keep.id)?.outputs.get(Attr::Arn)?.to_string();
            let rule_arn =
                o.fields.get("load_balancers")?[0]["production_listener_rule"].as_str()?;
            let weights = &rules_by_arn.get(rule_arn)?.details["weights"];
            let kept = weights[keeps.as_str()].as_i64().unwrap_or(0);
            let total: i64 = weights
                .as_object()?
                .values()
                .filter_map(|w| w.as_i64())
                .sum();
            let in_flight = o.unsettled().filter(|u| !u.failed);
            (kept < total || in_flight.is_some()).then(|| Leaving {
                id: c.id.clone(),
                name: o.name.clone(),
                keeps,
                rule: rule_arn.to_string(),
                in_flight,
            })
        })
        .collect()
}

/// Bring each service's traffic back to the group it keeps: a deployment in flight is
/// followed to its end first, then the production rule is read again, and only if the
/// kept group still lacks traffic does one more deployment move it.
pub async fn bring_back(ctx: &Ctx, services: &[Leaving]) -> Result<()> {
    for l in services {
        crate::steps::traffic_back(ctx, &l.id, &l.name, &l.keeps, &l.rule, l.in_flight.as_ref())
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::StrategySpec;
    use crate::plan::fixtures::{behind_alb, converged, desired};
    use crate::plan::plan_up;
    use serde_json::json;

    fn blue_green() -> String {
        behind_alb("strategy = \"blue_green\"")
    }

    /// What AWS reports of the blue/green app after a deployment that left production on
    /// `serving` (`primary` or `alt`).
    fn after_deployment(serving: &str) -> BTreeMap<ResourceId, Observed> {
        let d = desired(&blue_green());
        let mut seen = converged(&d);
        let arn = |id: &str| {
            seen[&ResourceId::parse(id).unwrap()]
                .outputs
                .get(Attr::Arn)
                .unwrap()
                .to_string()
        };
        let (primary, alt) = (
            arn("target_group.web-5b965f"),
            arn("target_group.web-5b965f-alt"),
        );
        let rule = ResourceId::parse("listener_rule.80-web").unwrap();
        let weights = match serving {
            "primary" => json!({ primary.clone(): 100, alt.clone(): 0 }),
            _ => json!({ primary.clone(): 0, alt.clone(): 100 }),
        };
        seen.get_mut(&rule).unwrap().details = json!({ "weights": weights });
        let svc = seen
            .get_mut(&ResourceId::parse("service.web").unwrap())
            .unwrap();
        svc.details = json!({ "strategy": "BLUE_GREEN" });
        seen
    }

    fn rolling() -> Vec<Resource> {
        desired(&behind_alb("strategy = \"rolling\""))
    }

    #[test]
    fn traffic_on_the_dropped_group_comes_back_first() {
        let d = rolling();
        let seen = after_deployment("alt");
        let plan = plan_up(&d, &seen);
        let found = leaving(&plan, &d, &seen);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].name, "demo-web");
        assert!(found[0].keeps.contains("web-5b965f") && !found[0].keeps.contains("alt"));
    }

    #[test]
    fn traffic_on_the_kept_group_or_no_switch_needs_nothing() {
        let d = rolling();
        let seen = after_deployment("primary");
        assert!(leaving(&plan_up(&d, &seen), &d, &seen).is_empty());
        // Still blue/green: nothing to leave.
        let bg = desired(&blue_green());
        let seen = after_deployment("alt");
        assert!(leaving(&plan_up(&bg, &seen), &bg, &seen).is_empty());
        let Spec::Service(s) = &bg.iter().find(|r| r.id.kind == Kind::Service).unwrap().spec else {
            unreachable!()
        };
        assert_eq!(s.deployment.strategy, StrategySpec::BlueGreen { bake: 2 });
    }
}
