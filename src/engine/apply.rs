//! Executing a plan: each change becomes a step (create / update / delete) in the graph,
//! and every finished step publishes its outputs (ids, ARNs) for the steps that reference
//! it.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::anyhow;

use super::{run, Cancel};
use crate::desired::{Outputs, Resource, ResourceId};
use crate::plan::{Action, Observed, Plan};
use crate::report::RunSummary;
use crate::steps::{self, Ctx, Deleted};

pub struct ApplyResult {
    pub summary: RunSummary,
    /// Resources a delete deliberately left in place (repositories holding images).
    pub kept: Vec<String>,
}

/// Run the pending changes of `plan` against AWS.
pub async fn apply(
    ctx: &Ctx,
    plan: &Plan,
    desired: &[Resource],
    observed: &BTreeMap<ResourceId, Observed>,
    concurrency: usize,
    cancel: Cancel,
) -> ApplyResult {
    let by_id: BTreeMap<&ResourceId, &Resource> = desired.iter().map(|r| (&r.id, r)).collect();
    let actions: BTreeMap<&ResourceId, &Action> =
        plan.changes.iter().map(|c| (&c.id, &c.action)).collect();
    // Seeded with what exists; each create/update overwrites its entry when it finishes,
    // before any step that depends on it starts.
    let outputs: Mutex<BTreeMap<ResourceId, Outputs>> = Mutex::new(
        observed
            .iter()
            .map(|(id, o)| (id.clone(), o.outputs.clone()))
            .collect(),
    );
    let kept: Mutex<Vec<String>> = Mutex::new(Vec::new());

    let label = |id: &ResourceId| {
        let name = by_id
            .get(id)
            .map(|r| r.name.as_str())
            .or_else(|| observed.get(id).map(|o| o.name.as_str()))
            .unwrap_or("");
        format!("{} {id} ({name})", actions[id].verb())
    };
    let summary = run(
        &plan.graph,
        label,
        concurrency,
        cancel,
        ctx.report.as_ref(),
        |id| {
            let action = actions[&id];
            let resource = by_id.get(&id).copied();
            let obs = observed.get(&id);
            let (outputs, kept) = (&outputs, &kept);
            async move {
                let snapshot = outputs.lock().unwrap().clone();
                let publish = |o: Outputs, verb: &str| {
                    let msg = format!("{verb} {}", o.id());
                    outputs.lock().unwrap().insert(id.clone(), o);
                    msg
                };
                let result = match (action, resource, obs) {
                    (Action::Create, Some(r), _) => steps::create(ctx, r, &snapshot)
                        .await
                        .map(|o| publish(o, "created")),
                    (Action::Update(_), Some(r), Some(o)) => steps::update(ctx, r, o, &snapshot)
                        .await
                        .map(|o| publish(o, "updated")),
                    // Only services report unsettled deployments (plan::Unsettled).
                    (Action::Wait(u) | Action::Failed(u), _, Some(o))
                        if id.kind == crate::desired::Kind::Service =>
                    {
                        steps::follow(ctx, o, u).await
                    }
                    (Action::Delete, _, Some(o)) => {
                        steps::delete(ctx, o).await.map(|deleted| match deleted {
                            Deleted::Gone => format!("deleted {}", o.outputs.id()),
                            Deleted::Kept(k) => {
                                let line = format!("kept {} ({})", o.name, k.note);
                                kept.lock().unwrap().push(k.message);
                                line
                            }
                        })
                    }
                    _ => Err(anyhow!("internal: cannot {} {id}", action.verb())),
                };
                result.map_err(|e| explain(e, action, &id))
            }
        },
    )
    .await;
    ApplyResult {
        summary,
        kept: kept.into_inner().unwrap(),
    }
}

/// `creating subnet.public-a`, around the step's own error: the chain is kept (the engine
/// reads the hint from the AWS code in it when it reports the failure).
fn explain(e: anyhow::Error, action: &Action, id: &ResourceId) -> anyhow::Error {
    let doing = match action {
        Action::Create => "creating",
        Action::Update(_) => "updating",
        Action::Delete => "deleting",
        Action::Replace(_) => "replacing",
        Action::Wait(_) => "waiting for",
        Action::Failed(_) => "checking",
        Action::NoOp => "checking",
    };
    e.context(format!("{doing} {id}"))
}
