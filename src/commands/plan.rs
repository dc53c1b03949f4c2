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
        "rollout_order": rollout_order(plan),
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
    if !plan.replacements().is_empty() {
        out.push_str(
            "\nReplacements change a field AWS cannot modify in place; `up` refuses them. \
             Revert the change, or run `ecsdeploy down` and then `up`.\n",
        );
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
