//! `ecsdeploy down`: asks for confirmation and prints what [`crate::ops::down`] did.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use serde_json::json;

use super::{result_json, Session};
use crate::cli::{DownArgs, OutputFormat};
use crate::error::UsageError;
use crate::ops::{down, finish};
use crate::plan::Kept;
use crate::report::{render_kept, render_summary};

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

pub async fn run(s: &Session, args: &DownArgs) -> Result<()> {
    let (observed, plan) = down::plan(s, &super::down_options(args)).await?;
    if !plan.has_changes() {
        match s.output {
            OutputFormat::Json => result_json(
                s,
                &json!({
                    "app": s.config.app,
                    "deleted": [],
                    "kept": kept_json(&plan.kept),
                }),
            ),
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
    let result = down::run(s, &plan, &observed).await;
    match s.output {
        OutputFormat::Json => result_json(
            s,
            &json!({
                "app": s.config.app,
                "results": result.summary.results,
                "kept": kept_json(&plan.kept),
                "kept_repositories": result.kept,
                "interrupted": result.summary.interrupted,
                "elapsed_seconds": result.summary.elapsed.as_secs_f64(),
            }),
        ),
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
