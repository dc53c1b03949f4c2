//! `ecsdeploy status`: every owned resource with its id and state; services with their
//! counts, rollout and task definition revision.

use std::collections::BTreeMap;

use anyhow::Result;
use comfy_table::{presets, Table};
use serde_json::json;

use super::{print_json, Session};
use crate::cli::OutputFormat;
use crate::desired::{Kind, ResourceId};
use crate::observe::observe;
use crate::plan::{Action, Observed, Unsettled};

pub async fn run(s: &Session) -> Result<()> {
    let observed = observe(&s.ctx, &s.desired).await?;
    // Drift: what differs between AWS and the config, field by field (the plan `up` would
    // run). Stateless, so "changed outside ecsdeploy" and "config edited" look the same.
    let plan = crate::plan::plan_up(&s.desired, &observed);
    let drift: BTreeMap<ResourceId, Vec<String>> = plan
        .changes
        .iter()
        .filter_map(|c| match &c.action {
            Action::Update(f) | Action::Replace(f) => {
                Some((c.id.clone(), f.iter().map(|f| f.field.clone()).collect()))
            }
            _ => None,
        })
        .collect();
    // Not converged although the fields match: a deployment in progress or failed.
    let unsettled: BTreeMap<ResourceId, Unsettled> = plan
        .changes
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.action.unsettled()?.clone())))
        .collect();
    let desired_ids: Vec<&ResourceId> = s.desired.iter().map(|r| &r.id).collect();
    let missing: Vec<&crate::desired::Resource> = s
        .desired
        .iter()
        .filter(|r| !observed.contains_key(&r.id))
        .collect();
    match s.output {
        OutputFormat::Json => {
            let resources: Vec<_> = observed
                .values()
                .map(|o| {
                    json!({
                        "id": o.id.to_string(),
                        "kind": o.id.kind,
                        "name": o.name,
                        "aws_id": o.outputs.id(),
                        "arn": o.outputs.0.get("arn"),
                        "state": o.state,
                        "details": o.details,
                        "in_config": desired_ids.contains(&&o.id),
                        "differs_from_config": drift.get(&o.id),
                        "converged": !drift.contains_key(&o.id) && !unsettled.contains_key(&o.id),
                    })
                })
                .collect();
            print_json(&json!({
                "app": s.config.app,
                "environment": s.config.environment,
                "region": s.ctx.aws.region,
                "urls": urls(&observed),
                "resources": resources,
                "missing": missing.iter().map(|r| json!({"id": r.id.to_string(), "name": r.name})).collect::<Vec<_>>(),
            }));
        }
        OutputFormat::Text => {
            let facts = Facts {
                desired_ids: &desired_ids,
                missing: &missing,
                drift: &drift,
                unsettled: &unsettled,
            };
            print!("{}", render(s, &observed, &facts))
        }
    }
    Ok(())
}

/// Data stores: what each holds or where to reach it. Secrets by name only, never values.
fn render_stores(observed: &BTreeMap<ResourceId, Observed>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(["DATA STORE", "NAME", "STATE", "DETAILS"]);
    let mut rows = 0;
    for o in observed.values() {
        let d = &o.details;
        let detail = match o.id.kind {
            Kind::DynamodbTable => format!(
                "~{} items (estimate, refreshed by AWS every ~6 h)",
                d["item_count"].as_i64().unwrap_or(0)
            ),
            Kind::DbInstance => format!(
                "endpoint {}",
                d["endpoint"].as_str().unwrap_or("(not yet known)")
            ),
            Kind::FileSystem => {
                format!("{} mount targets", d["mount_targets"].as_i64().unwrap_or(0))
            }
            Kind::Secret => "value not shown".to_string(),
            _ => continue,
        };
        rows += 1;
        t.add_row([
            o.id.kind.to_string(),
            o.name.clone(),
            o.state.clone(),
            detail,
        ]);
    }
    if rows == 0 {
        return String::new();
    }
    format!("\n{}\n", trimmed(&t))
}

/// Scheduled jobs: each schedule, and its last runs with their exit codes.
fn render_jobs(observed: &BTreeMap<ResourceId, Observed>) -> String {
    let mut out = String::new();
    for o in observed.values().filter(|o| o.id.kind == Kind::Schedule) {
        let d = &o.details;
        out.push_str(&format!(
            "\nJob {}: {} ({}), {}\n",
            o.name,
            d["expression"].as_str().unwrap_or("?"),
            d["timezone"].as_str().unwrap_or("UTC"),
            o.state
        ));
        let runs = d["runs"].as_array().map(Vec::as_slice).unwrap_or_default();
        if runs.is_empty() {
            out.push_str("  no run in the last hour (ECS keeps stopped tasks about an hour)\n");
        }
        for run in runs {
            out.push_str(&format!(
                "  {}\n",
                crate::steps::support::runs::run_line(run)
            ));
        }
    }
    if !out.is_empty() {
        out.push_str(
            "\nRuns are the tasks ECS still lists: stopped ones for about an hour. A job's \
             output is in the app's log group, streams `job-<key>/...`.\n",
        );
    }
    out
}

/// The state of a resource the config has and AWS agrees with: AWS's word, and for a
/// scalable target whose range one of the service's schedules set, that range.
fn in_config_state(o: &Observed) -> String {
    match o.details.get("scheduled_range") {
        Some(r) => format!(
            "{} (tasks {} to {}: a schedule's range, which `up` leaves)",
            o.state, r["min"], r["max"]
        ),
        None => o.state.clone(),
    }
}

/// What `status` knows about each resource beyond what AWS reports.
struct Facts<'a> {
    desired_ids: &'a [&'a ResourceId],
    missing: &'a [&'a crate::desired::Resource],
    drift: &'a BTreeMap<ResourceId, Vec<String>>,
    unsettled: &'a BTreeMap<ResourceId, Unsettled>,
}

fn render(s: &Session, observed: &BTreeMap<ResourceId, Observed>, facts: &Facts) -> String {
    let Facts {
        desired_ids,
        missing,
        drift,
        unsettled,
    } = facts;
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(["RESOURCE", "NAME", "AWS ID", "STATE"]);
    for o in observed.values() {
        let state = if let Some(fields) = drift.get(&o.id) {
            format!(
                "{} (differs from config: {}; `up` repairs it)",
                o.state,
                fields.join(", ")
            )
        } else if let Some(u) = unsettled.get(&o.id) {
            let then = if u.failed {
                "`up` fails until a new deployment succeeds"
            } else {
                "`up` waits for it"
            };
            format!("{} (not converged: {u}; {then})", o.state)
        } else if desired_ids.contains(&&o.id) {
            in_config_state(o)
        } else if crate::plan::holds_data(&o.id) {
            format!(
                "{} (not in config: kept, it holds data; `down --delete-data` deletes it)",
                o.state
            )
        } else {
            format!("{} (not in config: `up` deletes it)", o.state)
        };
        t.add_row([
            o.id.to_string(),
            o.name.clone(),
            o.outputs.id().to_string(),
            state,
        ]);
    }
    for r in missing.iter() {
        t.add_row([
            r.id.to_string(),
            r.name.clone(),
            "-".into(),
            "missing (`up` creates it)".into(),
        ]);
    }
    let mut out = format!(
        "App {} in {}\n\n{}\n",
        super::app_label(&s.config),
        s.ctx.aws.region,
        trimmed(&t)
    );
    out.push_str(&render_load_balancer(observed));
    out.push_str(&render_stores(observed));
    out.push_str(&render_jobs(observed));
    let services: Vec<&Observed> = observed
        .values()
        .filter(|o| o.id.kind == Kind::Service)
        .collect();
    if !services.is_empty() {
        let mut st = Table::new();
        st.load_preset(presets::NOTHING);
        st.set_header([
            "SERVICE",
            "DESIRED",
            "RUNNING",
            "PENDING",
            "ROLLOUT",
            "STRATEGY",
            "LATEST DEPLOYMENT",
            "TASK DEFINITION",
            "DEPENDS ON",
            "CONNECT",
        ]);
        for o in &services {
            let d = &o.details;
            let td = d["task_definition"].as_str().unwrap_or("-");
            let revision = td.rsplit('/').next().unwrap_or(td);
            st.add_row([
                o.name.clone(),
                d["desired"].to_string(),
                d["running"].to_string(),
                d["pending"].to_string(),
                d["rollout_state"].as_str().unwrap_or("-").to_string(),
                d["strategy"]
                    .as_str()
                    .map_or("-".to_string(), |s| s.to_lowercase()),
                crate::steps::history::cell(&d["service_deployment"]),
                revision.to_string(),
                depends_on(s, &o.id.name),
                connect_names(s, &o.id.name),
            ]);
        }
        out.push_str(&format!("\n{}\n", trimmed(&st)));
        for o in &services {
            if let Some(events) = o.details["events"].as_array().filter(|e| !e.is_empty()) {
                out.push_str(&format!("\nRecent events of {}:\n", o.name));
                for e in events {
                    out.push_str(&format!("  {}\n", e.as_str().unwrap_or("")));
                }
            }
        }
    }
    if observed.is_empty() {
        out.push_str("\nThe app owns no resources here yet: run `ecsdeploy up`.\n");
    }
    out
}

/// The table without the padding comfy-table leaves at the end of each line.
fn trimmed(t: &Table) -> String {
    t.lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The app's URLs: one per listener of the load balancer (`https://<dns>`, with the port
/// when it is not the protocol's default).
pub fn urls(observed: &BTreeMap<ResourceId, Observed>) -> Vec<String> {
    let Some(dns) = observed
        .values()
        .find(|o| o.id.kind == Kind::LoadBalancer)
        .and_then(|o| o.details["dns_name"].as_str())
    else {
        return vec![];
    };
    let mut urls: Vec<String> = observed
        .values()
        .filter(|o| o.id.kind == Kind::Listener)
        .filter_map(|o| {
            let proto = o.fields.get("protocol")?.as_str()?.to_ascii_lowercase();
            let port = o.fields.get("port")?.as_u64()?;
            let default = (proto == "http" && port == 80) || (proto == "https" && port == 443);
            Some(if default {
                format!("{proto}://{dns}/")
            } else {
                format!("{proto}://{dns}:{port}/")
            })
        })
        .collect();
    urls.sort();
    urls
}

/// URLs, listeners and each target group's target health.
fn render_load_balancer(observed: &BTreeMap<ResourceId, Observed>) -> String {
    let urls = urls(observed);
    let groups: Vec<&Observed> = observed
        .values()
        .filter(|o| o.id.kind == Kind::TargetGroup)
        .collect();
    if urls.is_empty() && groups.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for u in &urls {
        out.push_str(&format!("\nURL: {u}"));
    }
    if !urls.is_empty() {
        out.push('\n');
    }
    for g in groups {
        out.push_str(&format!("\nTarget group {}: {}\n", g.name, g.state));
        for t in g.details["targets"].as_array().into_iter().flatten() {
            let reason = t["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {}:{} {}{reason}\n",
                t["id"].as_str().unwrap_or("?"),
                t["port"],
                t["state"].as_str().unwrap_or("?"),
            ));
        }
    }
    out
}

/// The services a service waits for, from the config (`-` when none).
fn depends_on(s: &Session, key: &str) -> String {
    match s.config.services.get(key) {
        Some(svc) if !svc.depends_on.is_empty() => svc.depends_on.join(", "),
        _ => "-".to_string(),
    }
}

/// `<namespace>: <discovery names>` of a connected service, from the desired state (moto
/// and older ECS answers do not echo Service Connect settings).
fn connect_names(s: &Session, key: &str) -> String {
    let id = crate::desired::service_id(key);
    let Some(crate::desired::Spec::Service(spec)) =
        s.desired.iter().find(|r| r.id == id).map(|r| &r.spec)
    else {
        return "-".to_string();
    };
    match &spec.service_connect {
        None => "-".to_string(),
        Some(c) if c.services.is_empty() => {
            let ns = s
                .config
                .service_connect
                .as_ref()
                .map_or("", |n| n.namespace.as_str());
            format!("{ns}: client only")
        }
        Some(c) => {
            let ns = s
                .config
                .service_connect
                .as_ref()
                .map_or("", |n| n.namespace.as_str());
            let names: Vec<String> = c
                .services
                .iter()
                .map(|x| format!("{}:{}", x.dns_name, x.client_port))
                .collect();
            format!("{ns}: {}", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Outputs;
    use serde_json::Value;

    fn obs(kind: Kind, name: &str, fields: Value, details: Value) -> (ResourceId, Observed) {
        let id = ResourceId::new(kind, name);
        let o = Observed {
            id: id.clone(),
            name: name.into(),
            outputs: Outputs::with_id(name),
            fields: fields.as_object().unwrap().clone().into_iter().collect(),
            state: "ok".into(),
            details,
        };
        (id, o)
    }

    #[test]
    fn a_schedules_range_is_said() {
        let (_, o) = obs(
            Kind::ScalableTarget,
            "web",
            json!({}),
            json!({"scheduled_range": {"min": 0, "max": 0}}),
        );
        assert_eq!(
            in_config_state(&o),
            "ok (tasks 0 to 0: a schedule's range, which `up` leaves)"
        );
        let (_, o) = obs(Kind::ScalableTarget, "web", json!({}), Value::Null);
        assert_eq!(in_config_state(&o), "ok");
    }

    #[test]
    fn urls_follow_the_listeners() {
        let observed: BTreeMap<_, _> = [
            obs(
                Kind::LoadBalancer,
                "main",
                json!({}),
                json!({"dns_name": "app-1.elb.amazonaws.com"}),
            ),
            obs(
                Kind::Listener,
                "443",
                json!({"protocol": "HTTPS", "port": 443}),
                Value::Null,
            ),
            obs(
                Kind::Listener,
                "8080",
                json!({"protocol": "HTTP", "port": 8080}),
                Value::Null,
            ),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            urls(&observed),
            vec![
                "http://app-1.elb.amazonaws.com:8080/",
                "https://app-1.elb.amazonaws.com/"
            ]
        );
    }
}
