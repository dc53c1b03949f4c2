//! Plans made readable (pure): a field-level diff per resource, grouped by kind, as text
//! (optionally coloured) or as the JSON document described in `docs/plan-json.md`.
//!
//! Nothing here observes AWS or prints: `commands::plan` does that and hands over the
//! [`Plan`] and the desired resources.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;

use anstyle::{AnsiColor, Style};
use serde::Serialize;
use serde_json::{json, Value};

use super::{Action, Change, Dag, Plan};
use crate::desired::{Kind, Outputs, Resource, ResourceId, UNKNOWN};

/// Version of the JSON document [`json`] returns; raised on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Whether text output is coloured: only on a terminal, and never when `NO_COLOR` is set
/// to a non-empty value (<https://no-color.org>).
pub fn use_colour(stdout_is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    stdout_is_terminal && no_color.is_none_or(OsStr::is_empty)
}

/// What one diff entry says about the value at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// A resource to be created gets this value (`new`).
    Set,
    /// The value changes from `old` to `new`.
    Change,
    /// The list at `path` gains the item `new`.
    Add,
    /// The list at `path` loses the item `old`.
    Remove,
}

/// One line of a resource's diff. `path` names a value inside the resource's fields:
/// `desired_count`, `deployment.circuit_breaker.rollback`, `containers[web].image`
/// (list items with an identifying key), `ingress[1].cidr` (other list items, by index).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub path: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl Entry {
    fn new(path: &str, op: Op, old: Option<&Value>, new: Option<&Value>) -> Self {
        Entry {
            path: path.to_string(),
            op,
            old: old.cloned(),
            new: new.cloned(),
        }
    }

    /// The top-level field this entry is about.
    fn field(&self) -> &str {
        let end = self.path.find(['.', '[']).unwrap_or(self.path.len());
        &self.path[..end]
    }
}

/// Keys that identify an item of a list of objects (a container by `name`, a port mapping
/// by `container_port`), tried in this order.
const IDENTITY_KEYS: [&str; 9] = [
    "name",
    "container",
    "container_port",
    "field",
    "destination",
    "attribute",
    "port_name",
    "order",
    "Sid",
];

/// How a value differs, as entries in path order; empty when equal. Objects are compared
/// key by key; lists item by item: items only on one side are `Add`/`Remove`, items with
/// the same identifying key (see [`IDENTITY_KEYS`]) are compared inside, and a list that
/// only changed its order is one `Change`. Strings holding JSON are compared as JSON.
pub fn diff_values(path: &str, old: &Value, new: &Value) -> Vec<Entry> {
    if old == new {
        return vec![];
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            keys.into_iter()
                .flat_map(|k| {
                    diff_values(
                        &join(path, k),
                        a.get(k).unwrap_or(&Value::Null),
                        b.get(k).unwrap_or(&Value::Null),
                    )
                })
                .collect()
        }
        (Value::Array(a), Value::Array(b)) => diff_lists(path, a, b),
        (Value::String(a), Value::String(b)) => match (embedded_json(a), embedded_json(b)) {
            (Some(a), Some(b)) => diff_values(path, &a, &b),
            _ => vec![Entry::new(path, Op::Change, Some(old), Some(new))],
        },
        _ => vec![Entry::new(path, Op::Change, Some(old), Some(new))],
    }
}

fn diff_lists(path: &str, a: &[Value], b: &[Value]) -> Vec<Entry> {
    if let Some(key) = identity_key(a, b) {
        let old: BTreeMap<String, &Value> = a.iter().map(|v| (key_of(v, key), v)).collect();
        let new_keys: BTreeSet<String> = b.iter().map(|v| key_of(v, key)).collect();
        let mut out = Vec::new();
        for item in b {
            if let Some(before) = old.get(&key_of(item, key)) {
                let p = format!("{path}[{}]", key_of(item, key));
                out.extend(diff_values(&p, before, item));
            }
        }
        for item in a {
            if !new_keys.contains(&key_of(item, key)) {
                out.push(Entry::new(path, Op::Remove, Some(item), None));
            }
        }
        for item in b {
            if !old.contains_key(&key_of(item, key)) {
                out.push(Entry::new(path, Op::Add, None, Some(item)));
            }
        }
        return out;
    }
    // Match equal items; what is left was removed or added.
    let mut removed: Vec<&Value> = a.iter().collect();
    let mut added: Vec<(usize, &Value)> = Vec::new();
    for (i, item) in b.iter().enumerate() {
        match removed.iter().position(|x| *x == item) {
            Some(p) => {
                removed.remove(p);
            }
            None => added.push((i, item)),
        }
    }
    if removed.is_empty() && added.is_empty() {
        // Same items, another order.
        return vec![Entry::new(
            path,
            Op::Change,
            Some(&Value::Array(a.to_vec())),
            Some(&Value::Array(b.to_vec())),
        )];
    }
    let structured = |v: &Value| v.is_object() || v.is_array();
    if removed.len() == added.len()
        && removed.iter().all(|v| structured(v))
        && added.iter().all(|(_, v)| structured(v))
    {
        // As many objects went as came: show what changed inside each, by position.
        return removed
            .iter()
            .zip(&added)
            .flat_map(|(before, (i, after))| diff_values(&format!("{path}[{i}]"), before, after))
            .collect();
    }
    removed
        .into_iter()
        .map(|v| Entry::new(path, Op::Remove, Some(v), None))
        .chain(
            added
                .into_iter()
                .map(|(_, v)| Entry::new(path, Op::Add, None, Some(v))),
        )
        .collect()
}

/// The first key of [`IDENTITY_KEYS`] that every item on both sides has, as a string or
/// number, with no value repeated on one side.
fn identity_key(a: &[Value], b: &[Value]) -> Option<&'static str> {
    if a.is_empty() && b.is_empty() {
        return None;
    }
    IDENTITY_KEYS.into_iter().find(|key| {
        [a, b].iter().all(|side| {
            let mut seen = BTreeSet::new();
            side.iter().all(|v| {
                matches!(v.get(key), Some(Value::String(_) | Value::Number(_)))
                    && seen.insert(key_of(v, key))
            })
        })
    })
}

fn key_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A string that holds a JSON object or array (a policy document as AWS returns it).
fn embedded_json(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<Value>(s)
        .ok()
        .filter(|v| v.is_object() || v.is_array())
}

/// The entries of a resource to be created: every value by path (`Set`), list items one
/// by one (`Add`), items with an identifying key by that key. Nulls and empty lists and
/// objects are left out: they say nothing about the new resource.
pub fn create_entries(path: &str, value: &Value) -> Vec<Entry> {
    match value {
        Value::Null => vec![],
        Value::Array(items) if items.is_empty() => vec![],
        Value::Object(m) if m.is_empty() => vec![],
        Value::Object(m) => m
            .iter()
            .flat_map(|(k, v)| create_entries(&join(path, k), v))
            .collect(),
        Value::Array(items) => match identity_key(items, items) {
            Some(key) => items
                .iter()
                .flat_map(|item| {
                    let p = format!("{path}[{}]", key_of(item, key));
                    let rest: serde_json::Map<String, Value> = item
                        .as_object()
                        .into_iter()
                        .flatten()
                        .filter(|(k, _)| k.as_str() != key)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    if rest.values().all(Value::is_null) {
                        // Nothing but the key: the item itself is the information.
                        vec![Entry::new(path, Op::Add, None, Some(item))]
                    } else {
                        create_entries(&p, &Value::Object(rest))
                    }
                })
                .collect(),
            None => items
                .iter()
                .map(|v| Entry::new(path, Op::Add, None, Some(v)))
                .collect(),
        },
        other => vec![Entry::new(path, Op::Set, None, Some(other))],
    }
}

/// Values that depend on a resource not created yet read `(known after apply)` as a
/// whole: a string built around an unknown reference (`service/cluster/(known after
/// apply)`), and a list of strings one of which is unknown (references to several new
/// resources collapse into one unknown item when the list is deduplicated, so its items
/// cannot be shown honestly).
pub fn mask_unknown(v: &Value) -> Value {
    match v {
        Value::String(s) if s.contains(UNKNOWN) => json!(UNKNOWN),
        Value::Array(items)
            if items.iter().all(Value::is_string)
                && items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| s.contains(UNKNOWN))) =>
        {
            json!(UNKNOWN)
        }
        Value::Array(items) => Value::Array(items.iter().map(mask_unknown).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mask_unknown(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value as the plan shows it: unknown references as `(known after apply)`, and values
/// that look like secrets hidden (validation warns about them; output never shows them).
pub fn shown(v: &Value) -> Value {
    crate::config::secrecy::mask_secrets(&mask_unknown(v))
}

/// The fields a created resource gets, by field name. References cannot be resolved
/// before the apply, so every one reads `(known after apply)`.
pub fn create_fields(desired: &[Resource], id: &ResourceId) -> Vec<(String, Value)> {
    let none: BTreeMap<ResourceId, Outputs> = BTreeMap::new();
    desired
        .iter()
        .find(|r| &r.id == id)
        .map(|r| {
            r.spec
                .fields(&none)
                .into_iter()
                .map(|(k, v)| (k, shown(&v)))
                .collect()
        })
        .unwrap_or_default()
}

/// Fields of `change`'s resource that force its replacement (empty unless it is one).
fn forcing_replacement(change: &Change, desired: &[Resource]) -> Vec<String> {
    let Action::Replace(fields) = &change.action else {
        return vec![];
    };
    let immutable = desired
        .iter()
        .find(|r| r.id == change.id)
        .map(|r| r.spec.immutable_fields())
        .unwrap_or_default();
    fields
        .iter()
        .filter(|f| immutable.contains(&f.field.as_str()))
        .map(|f| f.field.clone())
        .collect()
}

/// The readable diff of one change.
pub fn entries(change: &Change, desired: &[Resource]) -> Vec<Entry> {
    match &change.action {
        Action::Create => create_fields(desired, &change.id)
            .iter()
            .flat_map(|(k, v)| create_entries(k, v))
            .collect(),
        Action::Update(fields) | Action::Replace(fields) => fields
            .iter()
            .flat_map(|f| diff_values(&f.field, &shown(&f.old), &shown(&f.new)))
            .collect(),
        Action::Delete | Action::Wait(_) | Action::Failed(_) | Action::NoOp => vec![],
    }
}

/// The steps grouped by the order they will run in (each group runs concurrently).
pub fn rollout_order(plan: &Plan) -> Vec<Vec<String>> {
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
        .filter(|c| c.id.kind == Kind::Service)
        .map(|c| c.id.clone())
        .collect();
    // Project the graph onto services: a service follows another if a path links them.
    let reaches = |from: &ResourceId, to: &ResourceId| {
        let mut stack = vec![from.clone()];
        let mut seen = BTreeSet::new();
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
    let dag = Dag::new(services.iter().map(|s| {
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

pub fn summary_json(plan: &Plan) -> Value {
    json!({
        "create": plan.count("create"),
        "update": plan.count("update"),
        "replace": plan.count("replace"),
        "delete": plan.count("delete"),
        "unchanged": plan.count("unchanged"),
        "wait": plan.count("wait"),
        "failed": plan.count("failed"),
    })
}

/// The closing line of a plan; deployments still in progress or failed are counted only
/// when there are some.
pub fn summary_line(plan: &Plan) -> String {
    let mut unsettled = String::new();
    for (verb, what) in [("wait", "to wait for"), ("failed", "failed")] {
        let n = plan.count(verb);
        if n > 0 {
            unsettled.push_str(&format!(", {n} {what}"));
        }
    }
    format!(
        "{} to create, {} to update, {} to delete, {} to replace{unsettled}, {} unchanged.",
        plan.count("create"),
        plan.count("update"),
        plan.count("delete"),
        plan.count("replace"),
        plan.count("unchanged")
    )
}

/// The plan as the JSON document of `docs/plan-json.md` (schema version
/// [`SCHEMA_VERSION`]).
pub fn json(app: &str, region: &str, plan: &Plan, desired: &[Resource]) -> Value {
    json!({
        "schema_version": SCHEMA_VERSION,
        "app": app,
        "region": region,
        "changes": plan.changes.iter().map(|c| {
            let mut change = json!({
                "id": c.id.to_string(),
                "kind": c.id.kind,
                "name": c.name,
                "action": c.action.verb(),
                "fields": match &c.action {
                    Action::Update(f) | Action::Replace(f) => f.iter().map(|f| json!({
                        "field": f.field, "old": shown(&f.old), "new": shown(&f.new),
                    })).collect::<Vec<_>>(),
                    Action::Create => create_fields(desired, &c.id)
                        .into_iter()
                        .map(|(k, v)| json!({"field": k, "new": v}))
                        .collect(),
                    _ => vec![],
                },
                "diff": entries(c, desired),
                "forces_replacement": forcing_replacement(c, desired),
            });
            if let Some(u) = c.action.unsettled() {
                change["deployment"] = json!({
                    "id": u.deployment,
                    "state": if u.failed { "failed" } else { "in_progress" },
                    "reason": u.reason,
                });
            }
            change
        }).collect::<Vec<_>>(),
        "kept": plan.kept.iter().map(|k| json!({
            "id": k.id.to_string(), "kind": k.id.kind, "name": k.name, "reason": k.reason,
        })).collect::<Vec<_>>(),
        "rollout_order": rollout_order(plan),
        "service_rollout_order": service_order(plan),
        "summary": summary_json(plan),
        "estimate": super::estimate::json(&super::estimate::estimate(plan)),
    })
}

/// Styles of the text output; all empty without colour.
struct Palette {
    colour: bool,
}

impl Palette {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.colour {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
    fn action(&self, action: &Action, text: &str) -> String {
        let colour = match action {
            Action::Create => AnsiColor::Green,
            Action::Update(_) => AnsiColor::Yellow,
            Action::Delete => AnsiColor::Red,
            Action::Replace(_) => AnsiColor::Magenta,
            Action::Wait(_) => AnsiColor::Cyan,
            Action::Failed(_) => AnsiColor::Red,
            Action::NoOp => return text.to_string(),
        };
        self.paint(colour.on_default(), text)
    }
    fn added(&self, text: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), text)
    }
    fn removed(&self, text: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), text)
    }
    fn kept(&self, text: &str) -> String {
        self.paint(AnsiColor::Cyan.on_default(), text)
    }
    fn heading(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }
}

/// A value on one line: strings as they are (an empty one as `""`), the rest as compact
/// JSON without the keys of objects whose value is null.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => s.clone(),
        other => without_nulls(other).to_string(),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

const FIELD_INDENT: &str = "        ";

/// Entry lines under a change header. Consecutive items added to or removed from the same
/// list share one `path:` line.
fn render_entries(out: &mut String, entries: &[Entry], forcing: &[String], p: &Palette) {
    let mut list: Option<&str> = None;
    for e in entries {
        let note = if forcing.iter().any(|f| f == e.field()) {
            "  (forces replacement)"
        } else {
            ""
        };
        let none = Value::Null;
        let old = e.old.as_ref().unwrap_or(&none);
        let new = e.new.as_ref().unwrap_or(&none);
        match e.op {
            Op::Set => {
                list = None;
                out.push_str(&format!("{FIELD_INDENT}{}: {}\n", e.path, show(new)));
            }
            Op::Change => {
                list = None;
                out.push_str(&format!(
                    "{FIELD_INDENT}{}: {} → {}{note}\n",
                    e.path,
                    p.removed(&show(old)),
                    p.added(&show(new))
                ));
            }
            Op::Add | Op::Remove => {
                if list != Some(e.path.as_str()) {
                    out.push_str(&format!("{FIELD_INDENT}{}:{note}\n", e.path));
                    list = Some(e.path.as_str());
                }
                let line = if e.op == Op::Add {
                    p.added(&format!("+ {}", show(new)))
                } else {
                    p.removed(&format!("- {}", show(old)))
                };
                out.push_str(&format!("{FIELD_INDENT}  {line}\n"));
            }
        }
    }
}

/// The human-readable plan: a heading per resource kind (in [`Kind::ALL`] order), under
/// it each change with its field diff and each kept resource, then the rollout order and
/// the expected time on AWS and the chain that decides it ([`super::estimate`]), then the
/// summary line. Unchanged resources are only counted.
pub fn text(app: &str, region: &str, plan: &Plan, desired: &[Resource], colour: bool) -> String {
    let p = Palette { colour };
    let mut out = format!("Plan for app {app} in {region}:\n");
    for kind in Kind::ALL {
        let mut changes: Vec<&Change> = plan
            .pending()
            .filter(|c| c.id.kind == kind)
            .collect::<Vec<_>>();
        changes.sort_by(|a, b| a.id.name.cmp(&b.id.name));
        let mut kept: Vec<_> = plan.kept.iter().filter(|k| k.id.kind == kind).collect();
        kept.sort_by(|a, b| a.id.name.cmp(&b.id.name));
        if changes.is_empty() && kept.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}\n", p.heading(&format!("{kind}:"))));
        for c in changes {
            let sign = match c.action {
                Action::Create => "+",
                Action::Update(_) => "~",
                Action::Replace(_) => "-/+",
                Action::Delete => "-",
                Action::Wait(_) => "…",
                Action::Failed(_) => "!",
                Action::NoOp => " ",
            };
            let header = format!("{sign} {} {}", c.action.verb(), c.id);
            out.push_str(&format!(
                "  {} ({})\n",
                p.action(&c.action, &header),
                c.name
            ));
            render_entries(
                &mut out,
                &entries(c, desired),
                &forcing_replacement(c, desired),
                &p,
            );
            match &c.action {
                Action::Wait(u) => out.push_str(&format!(
                    "{FIELD_INDENT}{u}; `up` waits for it (no change is sent)\n"
                )),
                Action::Failed(u) => out.push_str(&format!(
                    "{FIELD_INDENT}{u}; `up` fails until a new deployment succeeds (change \
                     the image or config and run `up`; nothing is redeployed otherwise)\n"
                )),
                _ => {}
            }
        }
        for k in kept {
            let header = format!("= keep {}", k.id);
            out.push_str(&format!(
                "  {} ({}): {}\n",
                p.kept(&header),
                k.name,
                k.reason
            ));
        }
    }
    if !plan.has_changes() {
        out.push_str(&format!(
            "\nNo changes: {} resources are up to date.\n",
            plan.count("unchanged")
        ));
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
    if let Some(line) = super::estimate::line(&super::estimate::estimate(plan)) {
        out.push_str(&format!("\n{line}\n"));
    }
    out.push_str(&format!("\n{}\n", summary_line(plan)));
    out
}

#[cfg(test)]
mod tests;
