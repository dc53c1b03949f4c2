//! `ecsdeploy plan`: what `up` would do, making no write call.

use anyhow::Result;
use serde_json::{json, Value};

use super::{observe, print_json, Session};
use crate::cli::{OutputFormat, PlanArgs};
use crate::desired::{Resource, ResourceId};
use crate::plan::{plan_up, Action, Plan};

/// Returns whether changes are pending.
pub async fn run(s: &Session, _args: &PlanArgs) -> Result<bool> {
    let observed = observe(s).await?;
    let plan = plan_up(&s.desired, &observed);
    match s.output {
        OutputFormat::Json => print_json(&to_json(s, &plan)),
        OutputFormat::Text => print!("{}", render(s, &plan)),
    }
    Ok(plan.has_changes())
}

pub fn to_json(s: &Session, plan: &Plan) -> Value {
    json!({
        "app": s.config.app,
        "region": s.ctx.aws.region,
        "changes": plan.changes.iter().map(|c| json!({
            "id": c.id.to_string(),
            "kind": c.id.kind,
            "name": c.name,
            "action": c.action.verb(),
            "fields": match &c.action {
                Action::Update(f) | Action::Replace(f) => json!(f),
                Action::Create => json!(create_fields(&s.desired, &c.id)),
                _ => json!([]),
            },
        })).collect::<Vec<_>>(),
        "kept": plan.kept.iter().map(|k| json!({
            "id": k.id.to_string(), "name": k.name, "reason": k.reason,
        })).collect::<Vec<_>>(),
        "rollout_order": rollout_order(plan),
        "service_rollout_order": service_order(plan),
        "summary": summary_json(plan),
    })
}

pub fn summary_json(plan: &Plan) -> Value {
    json!({
        "create": plan.count("create"),
        "update": plan.count("update"),
        "replace": plan.count("replace"),
        "delete": plan.count("delete"),
        "unchanged": plan.count("unchanged"),
    })
}

/// The steps grouped by the order they will run in (each group runs concurrently).
fn rollout_order(plan: &Plan) -> Vec<Vec<String>> {
    plan.graph
        .levels()
        .unwrap_or_default()
        .into_iter()
        .map(|l| l.iter().map(ResourceId::to_string).collect())
        .collect()
}

/// The services that change, grouped by when they roll out (`a, b → c`): a service waits
/// for the deployments of the services it depends on.
pub fn service_order(plan: &Plan) -> Vec<String> {
    let services: Vec<ResourceId> = plan
        .pending()
        .filter(|c| c.id.kind == crate::desired::Kind::Service)
        .map(|c| c.id.clone())
        .collect();
    // Project the graph onto services: a service follows another if a path links them.
    let reaches = |from: &ResourceId, to: &ResourceId| {
        let mut stack = vec![from.clone()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(n) = stack.pop() {
            for d in plan.graph.deps(&n) {
                if d == to {
                    return true;
                }
                if seen.insert(d.clone()) {
                    stack.push(d.clone());
                }
            }
        }
        false
    };
    let dag = crate::plan::Dag::new(services.iter().map(|s| {
        let deps = services
            .iter()
            .filter(|o| *o != s && reaches(s, o))
            .cloned()
            .collect();
        (s.clone(), deps)
    }));
    dag.levels()
        .unwrap_or_default()
        .into_iter()
        .map(|l| {
            l.iter()
                .map(|id| id.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect()
}

/// Fields of a resource to be created, references shown as `(known after apply)`.
fn create_fields(desired: &[Resource], id: &ResourceId) -> Vec<Value> {
    let none: std::collections::BTreeMap<ResourceId, crate::desired::Outputs> = Default::default();
    desired
        .iter()
        .find(|r| &r.id == id)
        .map(|r| {
            r.spec
                .fields(&none)
                .into_iter()
                .map(|(k, v)| json!({"field": k, "new": v}))
                .collect()
        })
        .unwrap_or_default()
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The human-readable plan.
pub fn render(s: &Session, plan: &Plan) -> String {
    let mut out = format!("Plan for app {} in {}:\n\n", s.config.app, s.ctx.aws.region);
    for c in &plan.changes {
        let sign = match c.action {
            Action::Create => "+",
            Action::Update(_) => "~",
            Action::Replace(_) => "-/+",
            Action::Delete => "-",
            Action::NoOp => " ",
        };
        out.push_str(&format!(
            "  {sign} {} {} ({})\n",
            c.action.verb(),
            c.id,
            c.name
        ));
        match &c.action {
            Action::Update(fields) | Action::Replace(fields) => {
                for f in fields {
                    out.push_str(&format!(
                        "        {}: {} → {}\n",
                        f.field,
                        show(&f.old),
                        show(&f.new)
                    ));
                }
            }
            Action::Create => {
                for f in create_fields(&s.desired, &c.id) {
                    out.push_str(&format!(
                        "        {}: {}\n",
                        f["field"].as_str().unwrap_or(""),
                        show(&f["new"])
                    ));
                }
            }
            _ => {}
        }
    }
    for k in &plan.kept {
        out.push_str(&format!("  = keep {} ({}): {}\n", k.id, k.name, k.reason));
    }
    if !plan.replacements().is_empty() {
        out.push_str(
            "\nReplacements change a field AWS cannot modify in place; `up` refuses them. \
             Revert the change, or run `ecsdeploy down` and then `up`.\n",
        );
    }
    let services = service_order(plan);
    if !services.is_empty() {
        out.push_str(&format!(
            "\nService rollout order: {}\n",
            services.join(" → ")
        ));
    }
    let order = rollout_order(plan);
    if order.len() > 1 {
        out.push_str("\nOrder (each line runs concurrently):\n");
        for (i, level) in order.iter().enumerate() {
            out.push_str(&format!("  {}. {}\n", i + 1, level.join(", ")));
        }
    }
    out.push_str(&format!(
        "\n{} to create, {} to update, {} to replace, {} to delete, {} unchanged.\n",
        plan.count("create"),
        plan.count("update"),
        plan.count("replace"),
        plan.count("delete"),
        plan.count("unchanged")
    ));
    out
}
