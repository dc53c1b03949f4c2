//! observe → diff → plan, as pure data. `plan`, `status` and `up` share it; nothing here
//! calls AWS.

pub mod diagram;
mod diff;
pub mod durations;
pub mod estimate;
pub mod render;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

pub use crate::graph::Dag;
pub use diff::{diff_fields, FieldChange};

use crate::desired::{Fields, Kind, Outputs, Resource, ResourceId, Spec};

/// What a step module found in AWS for one resource.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observed {
    pub id: ResourceId,
    /// AWS name (or `Name` tag).
    pub name: String,
    pub outputs: Outputs,
    /// Normalised fields, same shape as the desired side's.
    pub fields: Fields,
    /// Short state for `status` (`available`, `ACTIVE`, `2/2 running` ...).
    pub state: String,
    /// Extra facts for `status` (counts, revisions, events).
    #[serde(skip_serializing_if = "Value::is_null")]
    pub details: Value,
}

/// The key of [`Observed::details`] under which a step reports that AWS has not yet
/// brought a resource to its fields (see [`Unsettled`]).
pub const UNSETTLED: &str = "unsettled";

/// A resource whose fields match the config but whose last change AWS has not finished:
/// a service whose latest deployment is still in progress, or failed (the circuit breaker
/// stopped it, or rolled it back). Reported by the step's `observe` in
/// `details[UNSETTLED]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Unsettled {
    /// The deployment in question (for a rolled-back one: the one that failed).
    pub deployment: String,
    /// When AWS started it (RFC 3339), so a wait shows only what happened since.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// True when it failed; false while it is in progress.
    pub failed: bool,
    /// Why it failed, or where it stands (`0/1 running, rollout IN_PROGRESS`).
    pub reason: String,
    /// For a failed deployment, the fields it was to set, in the shape of `Spec::fields`
    /// (a service's `task_definition`): once the circuit breaker has rolled the resource
    /// back, asking for these values again is the same failed change, not a new one.
    #[serde(default, skip_serializing_if = "Fields::is_empty")]
    pub attempted: Fields,
}

impl Unsettled {
    /// True for a failed deployment the service no longer runs (rolled back: what it
    /// attempted is not what AWS reports) while the config asks for exactly what runs
    /// (`diffs` empty): the config was reverted, and nothing is unsettled any more.
    fn left_behind(&self, live: &Fields, diffs: &[FieldChange]) -> bool {
        self.failed
            && diffs.is_empty()
            && !self.attempted.is_empty()
            && self.attempted.iter().any(|(k, v)| live.get(k) != Some(v))
    }

    /// True when `diffs` only ask again for what this failed deployment attempted.
    fn retries(&self, diffs: &[FieldChange]) -> bool {
        self.failed
            && !diffs.is_empty()
            && diffs
                .iter()
                .all(|d| self.attempted.get(&d.field) == Some(&d.new))
    }
}

impl std::fmt::Display for Unsettled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = if self.failed { "failed" } else { "in progress" };
        let reason = self.reason.trim_end_matches('.');
        write!(f, "deployment {} {how}: {reason}", self.deployment)
    }
}

impl Observed {
    /// What the step reported as not yet settled, if anything.
    pub fn unsettled(&self) -> Option<Unsettled> {
        serde_json::from_value(self.details.get(UNSETTLED)?.clone()).ok()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", content = "changes", rename_all = "snake_case")]
pub enum Action {
    Create,
    Update(Vec<FieldChange>),
    /// An immutable field changed: the resource must be replaced.
    Replace(Vec<FieldChange>),
    Delete,
    /// Nothing to change, but AWS is still applying the last change (a service deployment
    /// in progress): `up` waits for it, reading only.
    Wait(Unsettled),
    /// Nothing to change, but the last change failed (a deployment the circuit breaker
    /// stopped): `up` reports it and fails, writing nothing, until a new change succeeds.
    Failed(Unsettled),
    NoOp,
}

impl Action {
    pub fn verb(&self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update(_) => "update",
            Action::Replace(_) => "replace",
            Action::Delete => "delete",
            Action::Wait(_) => "wait",
            Action::Failed(_) => "failed",
            Action::NoOp => "unchanged",
        }
    }

    /// The unfinished deployment behind a `wait` or `failed`.
    pub fn unsettled(&self) -> Option<&Unsettled> {
        match self {
            Action::Wait(u) | Action::Failed(u) => Some(u),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub id: ResourceId,
    pub name: String,
    #[serde(flatten)]
    pub action: Action,
}

/// A resource the plan deliberately leaves in place, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kept {
    pub id: ResourceId,
    pub name: String,
    pub reason: String,
}

/// The changes `up` (or `down`) would make, and the order constraints between them.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Every resource considered, in dependency order; deletions last.
    pub changes: Vec<Change>,
    /// Dependencies between the changes that do something (NoOps are not nodes).
    pub graph: Dag<ResourceId>,
    /// Owned resources not deleted although nothing in the config keeps them: data.
    pub kept: Vec<Kept>,
    /// How much longer than its kind's typical time a change takes because of its settings
    /// (the bake times of a blue/green, canary or linear deployment).
    pub extra: BTreeMap<ResourceId, std::time::Duration>,
}

/// True for resources that hold data, and for the security groups guarding them.
pub fn holds_data(id: &ResourceId) -> bool {
    id.kind.holds_data() || crate::desired::is_store_sg(id)
}

impl Plan {
    /// The typical real-AWS duration of `c` (see [`durations`]), with its settings' extra.
    pub fn typical(&self, c: &Change) -> std::time::Duration {
        durations::typical(c.id.kind, &c.action)
            + self.extra.get(&c.id).copied().unwrap_or_default()
    }

    pub fn pending(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action != Action::NoOp)
    }

    pub fn has_changes(&self) -> bool {
        self.pending().next().is_some()
    }

    pub fn count(&self, verb: &str) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action.verb() == verb)
            .count()
    }

    pub fn replacements(&self) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| matches!(c.action, Action::Replace(_)))
            .collect()
    }
}

/// Plan for `up`: create what is missing, update what differs, delete what the app owns
/// but the config no longer has. `desired` may be in any order.
pub fn plan_up(desired: &[Resource], observed: &BTreeMap<ResourceId, Observed>) -> Plan {
    let by_id: BTreeMap<&ResourceId, &Resource> = desired.iter().map(|r| (&r.id, r)).collect();
    let order = Dag::new(desired.iter().map(|r| (r.id.clone(), r.spec.deps())))
        .topo()
        .expect("desired state has no cycles");

    // Outputs known at plan time: those of resources that exist and keep their identity.
    let mut known: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
    let mut changes = Vec::new();
    for id in &order {
        let r = by_id[id];
        let want = r.spec.fields(&known);
        let action = match observed.get(id) {
            None => Action::Create,
            Some(o) => {
                // Fields another actor owns (the autoscaler's desired count) are not ours.
                let mut live = o.fields.clone();
                for k in r.spec.unmanaged_fields() {
                    live.remove(*k);
                }
                let diffs = diff_fields(&live, &want);
                let immutable = r.spec.immutable_fields();
                let unsettled = o.unsettled();
                // Rolled back from a failed deployment, the fields differ again, but only
                // by what that deployment attempted: redeploying it would fail the same way.
                let rolled_back = unsettled.as_ref().is_some_and(|u| u.retries(&diffs));
                // A failed deployment the service was rolled back from, while the config
                // now asks for what runs (reverted): settled, nothing to report.
                let unsettled = unsettled.filter(|u| !u.left_behind(&live, &diffs));
                if diffs.is_empty() || rolled_back {
                    // Converged only once AWS has finished the last change too: an
                    // in-flight deployment is waited for, a failed one reported (a change
                    // to the fields starts a new one instead, as an update).
                    match unsettled {
                        Some(u) if u.failed => Action::Failed(u),
                        Some(u) => Action::Wait(u),
                        None => Action::NoOp,
                    }
                } else if diffs.iter().any(|d| immutable.contains(&d.field.as_str())) {
                    Action::Replace(diffs)
                } else {
                    Action::Update(diffs)
                }
            }
        };
        // A changed task definition becomes a new revision with a new ARN; every other
        // update keeps the resource's identity.
        let keeps_identity = match &action {
            Action::NoOp | Action::Wait(_) | Action::Failed(_) => true,
            Action::Update(_) => !matches!(r.spec, Spec::TaskDefinition(_)),
            _ => false,
        };
        if keeps_identity {
            known.insert(id.clone(), observed[id].outputs.clone());
        }
        changes.push(Change {
            id: id.clone(),
            name: r.name.clone(),
            action,
        });
    }

    let mut nodes: Vec<(ResourceId, Vec<ResourceId>)> = changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.id.clone(), by_id[&c.id].spec.deps()))
        .collect();
    let live: Vec<ResourceId> = nodes.iter().map(|(k, _)| k.clone()).collect();
    // A failed deployment fails its step at once, and after a failure no new step starts:
    // it goes after every change that does not depend on it, so that it holds up nothing
    // unrelated (it is still the run's failure).
    let reaches = |from: &ResourceId, to: &ResourceId| {
        let mut stack = vec![from.clone()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(n) = stack.pop() {
            if &n == to {
                return true;
            }
            if seen.insert(n.clone()) {
                stack.extend(by_id.get(&n).map_or(vec![], |r| r.spec.deps()));
            }
        }
        false
    };
    let failed: Vec<ResourceId> = changes
        .iter()
        .filter(|c| matches!(c.action, Action::Failed(_)))
        .map(|c| c.id.clone())
        .collect();
    for f in &failed {
        let before: Vec<ResourceId> = live
            .iter()
            .filter(|x| *x != f && !reaches(x, f))
            .cloned()
            .collect();
        if let Some((_, deps)) = nodes.iter_mut().find(|(id, _)| id == f) {
            deps.extend(before);
        }
    }
    // Data is never deleted by `up`: a store dropped from the config stays until
    // `down --delete-data`.
    let (retained, orphans): (Vec<&Observed>, Vec<&Observed>) = observed
        .values()
        .filter(|o| !by_id.contains_key(&o.id))
        .partition(|o| holds_data(&o.id));
    let kept = retained
        .iter()
        .map(|o| Kept {
            id: o.id.clone(),
            name: o.name.clone(),
            reason: "no longer in the config; it holds data, so `up` keeps it (delete it with \
                     `ecsdeploy down --delete-data`)"
                .to_string(),
        })
        .collect();
    for (id, mut deps) in delete_nodes(&orphans) {
        // Orphans go only after everything else has moved off them.
        deps.extend(live.iter().cloned());
        nodes.push((id, deps));
    }
    changes.extend(orphans.iter().map(|o| Change {
        id: o.id.clone(),
        name: o.name.clone(),
        action: Action::Delete,
    }));
    // Only an update that starts a deployment holds the strategy's steps and bake.
    const REDEPLOYS: &[&str] = &[
        "task_definition",
        "load_balancers",
        "subnets",
        "security_groups",
        "assign_public_ip",
        "service_connect",
        "capacity",
        "enable_execute_command",
    ];
    let extra = changes
        .iter()
        .filter(|c| match &c.action {
            Action::Update(diffs) => diffs.iter().any(|d| REDEPLOYS.contains(&d.field.as_str())),
            _ => false,
        })
        .filter_map(|c| {
            let d = durations::settings_extra(&by_id.get(&c.id)?.spec);
            (!d.is_zero()).then(|| (c.id.clone(), d))
        })
        .collect();
    Plan {
        changes,
        graph: Dag::new(nodes),
        kept,
        extra,
    }
}

/// What `down` keeps unless told to delete data: every data store, and everything a kept
/// store depends on (its subnets, the VPC, its security group and the groups that group
/// admits), so nothing is left half-connected. Pure.
pub fn retained(observed: &BTreeMap<ResourceId, Observed>, desired: &[Resource]) -> Vec<Kept> {
    let deps: BTreeMap<&ResourceId, Vec<ResourceId>> =
        desired.iter().map(|r| (&r.id, r.spec.deps())).collect();
    let mut kept: BTreeMap<ResourceId, String> = observed
        .keys()
        .filter(|id| holds_data(id))
        .map(|id| (id.clone(), "holds data".to_string()))
        .collect();
    let mut todo: Vec<ResourceId> = kept.keys().cloned().collect();
    while let Some(id) = todo.pop() {
        for d in deps.get(&id).into_iter().flatten() {
            if observed.contains_key(d) && !kept.contains_key(d) {
                kept.insert(d.clone(), format!("needed by kept {id}"));
                todo.push(d.clone());
            }
        }
    }
    kept.into_iter()
        .map(|(id, reason)| Kept {
            name: observed[&id].name.clone(),
            id,
            reason,
        })
        .collect()
}

/// Plan for `down`: delete everything observed, dependents first — by kind, and by the
/// config's own dependencies reversed (a frontend service before the backend it calls).
/// Unless `delete_data`, the stores and what they need stay ([`retained`]).
pub fn plan_down(
    observed: &BTreeMap<ResourceId, Observed>,
    desired: &[Resource],
    delete_data: bool,
) -> Plan {
    let kept = if delete_data {
        vec![]
    } else {
        retained(observed, desired)
    };
    // Images go with their repository (kept while it holds images, unless
    // --delete-images), never one by one; a release task is nothing to delete.
    let all: Vec<&Observed> = observed
        .values()
        .filter(|o| !matches!(o.id.kind, Kind::Image | Kind::Release))
        .filter(|o| !kept.iter().any(|k| k.id == o.id))
        .collect();
    let mut changes: Vec<Change> = all
        .iter()
        .map(|o| Change {
            id: o.id.clone(),
            name: o.name.clone(),
            action: Action::Delete,
        })
        .collect();
    let mut nodes = delete_nodes(&all);
    for r in desired {
        for dep in r.spec.deps() {
            // Same-kind dependencies only: across kinds, `Kind::deleted_after` already
            // orders deletions, and mixing both could disagree.
            if dep.kind == r.id.kind && all.iter().any(|o| o.id == r.id) {
                if let Some((_, deps)) = nodes.iter_mut().find(|(id, _)| *id == dep) {
                    deps.push(r.id.clone());
                }
            }
        }
    }
    let graph = Dag::new(nodes);
    let order = graph.topo().expect("kind order has no cycles");
    changes.sort_by_key(|c| order.iter().position(|id| *id == c.id));
    Plan {
        changes,
        graph,
        kept,
        extra: BTreeMap::new(),
    }
}

/// Deletion nodes: a resource is deleted after every listed resource of the kinds that
/// must be gone first (see [`Kind::deleted_after`]).
fn delete_nodes(items: &[&Observed]) -> Vec<(ResourceId, Vec<ResourceId>)> {
    items
        .iter()
        .map(|o| {
            let before: &[Kind] = o.id.kind.deleted_after();
            let deps = items
                .iter()
                .filter(|x| before.contains(&x.id.kind))
                .map(|x| x.id.clone())
                .collect();
            (o.id.clone(), deps)
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
