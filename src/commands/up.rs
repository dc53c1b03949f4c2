//! `ecsdeploy up`: observe, plan, apply, wait for service deployments.

use anyhow::{bail, Result};
use serde_json::json;

use super::{observe, print_json, Interrupted, Session};
use crate::cli::{OutputFormat, UpArgs};
use crate::engine::{apply, RunSummary};
use crate::plan::plan_up;
use crate::report::short_duration;

pub async fn run(s: &mut Session, args: &UpArgs) -> Result<()> {
    s.ctx.service_wait = (!args.no_wait).then_some(args.wait_timeout);
    let observing = std::time::Instant::now();
    let observed = observe(s).await?;
    let observe_seconds = observing.elapsed().as_secs_f64();
    let plan = plan_up(&s.desired, &observed);

    let replacements = plan.replacements();
    if !replacements.is_empty() {
        let names: Vec<String> = replacements.iter().map(|c| c.id.to_string()).collect();
        bail!(
            "nothing changed: {} would need replacing ({}) because a field AWS cannot modify \
             in place changed; see `ecsdeploy plan`, then revert the change or run \
             `ecsdeploy down` followed by `up`",
            names.len(),
            names.join(", ")
        );
    }
    if !plan.has_changes() {
        match s.output {
            OutputFormat::Json => print_json(&json!({
                "app": s.config.app,
                "changes": [],
                "summary": super::plan::summary_json(&plan),
                "setup_seconds": s.setup_seconds,
                "observe_seconds": observe_seconds,
            })),
            OutputFormat::Text => println!(
                "No changes: {} resources of app {} are up to date.",
                plan.changes.len(),
                s.config.app
            ),
        }
        return Ok(());
    }
    // Building needs docker: say so before changing anything, not halfway through.
    if plan.pending().any(|c| {
        c.id.kind == crate::desired::Kind::Image && c.action == crate::plan::Action::Create
    }) {
        crate::image::docker::find_docker()?;
    }
    s.ctx.report.info(&format!(
        "Applying {} changes to app {} in {} ...",
        plan.pending().count(),
        s.config.app,
        s.ctx.aws.region
    ));
    let result = apply(
        &s.ctx,
        &plan,
        &s.desired,
        &observed,
        s.concurrency,
        s.cancel.clone(),
    )
    .await;
    report(
        s,
        &result.summary,
        &super::plan::summary_json(&plan),
        observe_seconds,
    );
    finish(&result.summary)
}

fn report(s: &Session, summary: &RunSummary, planned: &serde_json::Value, observe_seconds: f64) {
    match s.output {
        OutputFormat::Json => print_json(&json!({
            "app": s.config.app,
            "planned": planned,
            "results": summary.results,
            "steps": summary.timings,
            "setup_seconds": s.setup_seconds,
            "observe_seconds": observe_seconds,
            "interrupted": summary.interrupted,
            "elapsed_seconds": summary.elapsed.as_secs_f64(),
        })),
        OutputFormat::Text => print!("{}", render_summary(summary)),
    }
}

/// The closing lines of `up` and `down`: counts, then every failure in full.
pub fn render_summary(summary: &RunSummary) -> String {
    let mut out = format!(
        "{} done, {} failed, {} skipped in {}.\n",
        summary.done(),
        summary.failed(),
        summary.skipped(),
        short_duration(summary.elapsed)
    );
    for (id, r) in &summary.results {
        if let crate::engine::StepResult::Failed(msg) = r {
            out.push_str(&format!("error: {id}: {msg}\n"));
        }
    }
    if summary.interrupted {
        out.push_str("Interrupted: run the same command again to continue where it stopped.\n");
    }
    out
}

/// Map a run's summary to the command's result (and so its exit code).
pub fn finish(summary: &RunSummary) -> Result<()> {
    if summary.interrupted {
        return Err(Interrupted.into());
    }
    if summary.failed() > 0 {
        bail!("{} step(s) failed", summary.failed());
    }
    Ok(())
}
