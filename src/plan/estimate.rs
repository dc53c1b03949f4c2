//! The expected wall time of a plan on real AWS, and the chain of steps that decides it:
//! the longest path through the plan's dependency graph, each step weighted with its
//! typical AWS duration ([`super::durations`]). Pure.
//!
//! The engine starts every step as soon as its dependencies are done (up to
//! `--concurrency`), so a run lasts as long as its longest chain; steps off the chain
//! run beside it and cost nothing. The estimate leaves out ecsdeploy's own reads before
//! the steps (a few seconds) and assumes `--concurrency` is no limit.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Change, Plan};
use crate::desired::ResourceId;

/// One step of the critical chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub id: ResourceId,
    /// `create`, `update`, ... ([`Action::verb`]).
    pub verb: &'static str,
    pub duration: Duration,
}

/// What a plan is expected to take on AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Estimate {
    /// The length of the critical chain.
    pub total: Duration,
    /// The critical chain, first step first (empty when there is nothing to do).
    pub chain: Vec<Link>,
}

/// The estimate of `plan`.
pub fn estimate(plan: &Plan) -> Estimate {
    let changes: BTreeMap<&ResourceId, &Change> = plan.changes.iter().map(|c| (&c.id, c)).collect();
    let weight = |id: &ResourceId| changes.get(id).map_or(Duration::ZERO, |c| plan.typical(c));
    let Ok(order) = plan.graph.topo() else {
        return Estimate {
            total: Duration::ZERO,
            chain: vec![],
        };
    };
    // When each step ends at the earliest, and the dependency it waited for last.
    let mut end: BTreeMap<&ResourceId, (Duration, Option<&ResourceId>)> = BTreeMap::new();
    for id in &order {
        let last = plan
            .graph
            .deps(id)
            .map(|d| (end[d].0, d))
            // Ties: the first in id order, so the chain is stable.
            .fold(None::<(Duration, &ResourceId)>, |best, (t, d)| match best {
                Some((bt, _)) if bt >= t => best,
                _ => Some((t, d)),
            });
        let start = last.map_or(Duration::ZERO, |(t, _)| t);
        end.insert(id, (start + weight(id), last.map(|(_, d)| d)));
    }
    // The step that ends last (the first of equals, in id order) ends the chain.
    let mut last: Option<(&ResourceId, Duration)> = None;
    for (id, (t, _)) in &end {
        if last.is_none_or(|(_, lt)| *t > lt) {
            last = Some((id, *t));
        }
    }
    let total = last.map_or(Duration::ZERO, |(_, t)| t);
    let mut at: Option<&ResourceId> = last.map(|(id, _)| id);
    let mut chain = Vec::new();
    while let Some(id) = at {
        chain.push(Link {
            id: id.clone(),
            verb: changes.get(id).map_or("unchanged", |c| c.action.verb()),
            duration: weight(id),
        });
        at = end[id].1;
    }
    chain.reverse();
    Estimate { total, chain }
}

/// `45s`, `2m30s`, `10m`: a step's duration.
pub fn short(d: Duration) -> String {
    let secs = d.as_secs();
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s:02}s"),
    }
}

/// `about 40 s`, `about 4 min`: the total, rounded as a prediction should be.
pub fn about(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 90 {
        format!("about {} s", secs.div_ceil(5) * 5)
    } else {
        format!("about {} min", (secs + 30) / 60)
    }
}

/// Steps shorter than this are named in the chain without their duration.
const NOTABLE: Duration = Duration::from_secs(10);

/// `Expected on AWS: about 4 min — load_balancer.main (2m30s) → listener.http →
/// service.web (1m)`; `None` when the plan does nothing.
pub fn line(e: &Estimate) -> Option<String> {
    if e.chain.is_empty() {
        return None;
    }
    let steps: Vec<String> = e
        .chain
        .iter()
        .map(|l| {
            if l.duration >= NOTABLE {
                format!("{} ({})", l.id, short(l.duration))
            } else {
                l.id.to_string()
            }
        })
        .collect();
    Some(format!(
        "Expected on AWS: {} — {}",
        about(e.total),
        steps.join(" → ")
    ))
}

/// The `estimate` object of the plan JSON (docs/plan-json.md).
pub fn json(e: &Estimate) -> Value {
    json!({
        "seconds": e.total.as_secs(),
        "critical_path": e.chain.iter().map(|l| json!({
            "id": l.id.to_string(),
            "action": l.verb,
            "seconds": l.duration.as_secs(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests;
