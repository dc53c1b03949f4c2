//! `ecsdeploy up`: prints what [`crate::ops::up`] did.

use anyhow::Result;
use serde_json::json;

use super::{result_json, Session};
use crate::cli::OutputFormat;
use crate::ops::{finish, up::up};
use crate::report::render_summary;

/// `setup_seconds`: how long the session's reads and the run lock took together; `--output
/// json` reports it for the benchmark's critical path.
/// `timeline`: end the text output with [`crate::engine::timeline`].
pub async fn run(s: &Session, setup_seconds: f64, timeline: bool) -> Result<()> {
    let r = up(s).await?;
    let planned = super::plan::summary_json(&r.plan);
    let Some(result) = r.applied else {
        match s.output {
            OutputFormat::Json => result_json(
                s,
                &json!({
                    "app": s.config.app,
                    "changes": [],
                    "summary": planned,
                    "setup_seconds": setup_seconds,
                    "observe_seconds": r.observe_seconds,
                    "preflight_seconds": r.preflight_seconds,
                }),
            ),
            OutputFormat::Text => println!(
                "No changes: {} resources of app {} are up to date.",
                r.plan.changes.len(),
                s.config.app
            ),
        }
        return Ok(());
    };
    let summary = &result.summary;
    match s.output {
        OutputFormat::Json => result_json(
            s,
            &json!({
                "app": s.config.app,
                "planned": planned,
                "results": summary.results,
                "steps": summary.timings,
                "setup_seconds": setup_seconds,
                "observe_seconds": r.observe_seconds,
                "preflight_seconds": r.preflight_seconds,
                "interrupted": summary.interrupted,
                "elapsed_seconds": summary.elapsed.as_secs_f64(),
            }),
        ),
        OutputFormat::Text => {
            print!("{}", render_summary(summary));
            if timeline {
                print!("\n{}", crate::engine::timeline::render(summary));
            }
        }
    }
    finish(summary)
}
