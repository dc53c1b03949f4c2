//! The closing lines of `up` and `down`: counts, every failure in full, and what `down`
//! kept. Pure: the commands print what these return.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::plan::{holds_data, Kept};

use super::{short_duration, Outcome};

/// When one step started (seconds after the run began), how long it took, and the steps it
/// waited for.
#[derive(Debug, Clone, Serialize)]
pub struct StepTiming {
    pub start: f64,
    pub seconds: f64,
    pub deps: Vec<String>,
}

/// What one run of the engine did: every step's outcome and timing.
#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    pub results: BTreeMap<String, Outcome>,
    pub interrupted: bool,
    /// Per step: when it started (seconds after the run began), how long it took, and the
    /// steps it waited for. The benchmark derives the critical path from these.
    pub timings: BTreeMap<String, StepTiming>,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl RunSummary {
    pub fn failed(&self) -> usize {
        self.count(|r| matches!(r, Outcome::Failed(_)))
    }
    pub fn skipped(&self) -> usize {
        self.count(|r| matches!(r, Outcome::Skipped(_)))
    }
    pub fn done(&self) -> usize {
        self.count(|r| matches!(r, Outcome::Done(_)))
    }
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.values().filter(|r| f(r)).count()
    }
}

/// Counts, then every failure in full.
pub fn render_summary(summary: &RunSummary) -> String {
    let mut out = format!(
        "{} done, {} failed, {} skipped in {}.\n",
        summary.done(),
        summary.failed(),
        summary.skipped(),
        short_duration(summary.elapsed)
    );
    for (id, r) in &summary.results {
        if let Outcome::Failed(msg) = r {
            out.push_str(&format!("error: {id}: {msg}\n"));
        }
    }
    if summary.interrupted {
        out.push_str("Interrupted: run the same command again to continue where it stopped.\n");
    }
    out
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
