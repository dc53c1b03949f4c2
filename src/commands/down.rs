//! `ecsdeploy down`: delete everything the app owns, dependents first.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use serde_json::json;

use super::up::{finish, render_summary};
use super::{observe, print_json, Session, UsageError};
use crate::cli::{DownArgs, OutputFormat};
use crate::engine::apply;
use crate::plan::{holds_data, plan_down, Kept};

/// Refuse early, before any AWS call, when confirmation is impossible.
pub fn check_confirmable(args: &DownArgs) -> Result<()> {
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "refusing to delete without confirmation: stdin is not a terminal; pass --yes".into(),
        )
        .into());
    }
    Ok(())
}

pub async fn run(s: &mut Session, args: &DownArgs) -> Result<()> {
    s.ctx.delete_images = args.delete_images || args.delete_data;
    s.ctx.delete_deadline = args.timeout;
    s.ctx.skip_final_snapshot = args.skip_final_snapshot;
    let observed = observe(s).await?;
    refuse_protected(&observed)?;
    let plan = plan_down(&observed, &s.desired, args.delete_data);
    if !plan.has_changes() {
        match s.output {
            OutputFormat::Json => print_json(&json!({
                "app": s.config.app,
                "deleted": [],
                "kept": kept_json(&plan.kept),
            })),
            OutputFormat::Text if plan.kept.is_empty() => println!(
                "Nothing to delete: app {} owns no resources in {}.",
                s.config.app, s.ctx.aws.region
            ),
            OutputFormat::Text => {
                println!(
                    "Nothing to delete but data: app {} keeps these in {}:",
                    s.config.app, s.ctx.aws.region
                );
                print!("{}", render_kept(&plan.kept));
            }
        }
        return Ok(());
    }
    if !args.yes && !confirm(s, &plan)? {
        return Err(UsageError("not confirmed; nothing was deleted".into()).into());
    }
    let result = apply(
        &s.ctx,
        &plan,
        &[],
        &observed,
        s.concurrency,
        s.cancel.clone(),
    )
    .await;
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "results": result.summary.results,
            "kept": kept_json(&plan.kept),
            "kept_repositories": result.kept,
            "interrupted": result.summary.interrupted,
            "elapsed_seconds": result.summary.elapsed.as_secs_f64(),
        })),
        OutputFormat::Text => {
            print!("{}", render_summary(&result.summary));
            for k in &result.kept {
                println!("kept: {k}");
            }
            print!("{}", render_kept(&plan.kept));
        }
    }
    finish(&result.summary)
}

fn kept_json(kept: &[Kept]) -> serde_json::Value {
    json!(kept
        .iter()
        .map(|k| json!({"id": k.id.to_string(), "name": k.name, "reason": k.reason}))
        .collect::<Vec<_>>())
}

/// What `down` kept, and how to delete it.
pub fn render_kept(kept: &[Kept]) -> String {
    if kept.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    let data: Vec<&Kept> = kept.iter().filter(|k| holds_data(&k.id)).collect();
    out.push_str(&format!("Kept {} data resources:\n", data.len()));
    for k in &data {
        out.push_str(&format!("  kept: {} ({})\n", k.id, k.name));
    }
    let network: Vec<&Kept> = kept.iter().filter(|k| !holds_data(&k.id)).collect();
    if !network.is_empty() {
        out.push_str(&format!(
            "Kept {} network resources the data stores still use, so none is left \
             half-connected:\n",
            network.len()
        ));
        for k in &network {
            out.push_str(&format!("  kept: {} ({}): {}\n", k.id, k.name, k.reason));
        }
    }
    out.push_str(
        "Run `ecsdeploy up` to use them again, or `ecsdeploy down --delete-data` to delete \
         them (databases get a final snapshot unless --skip-final-snapshot).\n",
    );
    out
}

/// A load balancer with deletion protection on would stop `down` halfway (after its
/// listeners and target groups are gone): refuse before deleting anything.
fn refuse_protected(
    observed: &std::collections::BTreeMap<crate::desired::ResourceId, crate::plan::Observed>,
) -> Result<()> {
    let protected: Vec<&str> = observed
        .values()
        .filter(|o| o.id.kind == crate::desired::Kind::LoadBalancer)
        .filter(|o| {
            o.fields
                .get("attributes")
                .and_then(|a| a.get("deletion_protection.enabled"))
                .is_some_and(|v| v == "true")
        })
        .map(|o| o.name.as_str())
        .collect();
    if protected.is_empty() {
        return Ok(());
    }
    Err(anyhow::anyhow!(
        "nothing was deleted: load balancer {} has deletion protection on; set \
         load_balancer.deletion_protection = false, run `ecsdeploy up`, then `down`",
        protected.join(", ")
    ))
}

/// List what will go and ask for the app name back.
fn confirm(s: &Session, plan: &crate::plan::Plan) -> Result<bool> {
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "This deletes {} resources of app {} in {}:",
        plan.changes.len(),
        s.config.app,
        s.ctx.aws.region
    )?;
    for c in &plan.changes {
        writeln!(err, "  - {} ({})", c.id, c.name)?;
    }
    if !plan.kept.is_empty() {
        writeln!(
            err,
            "and keeps {} resources that hold data or that data needs (--delete-data deletes them too).",
            plan.kept.len()
        )?;
    }
    write!(err, "Type the app name ({}) to confirm: ", s.config.app)?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim() == s.config.app)
}
