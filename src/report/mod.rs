//! Progress reporting: a trait the engine and steps talk to, and four implementations —
//! indicatif on a terminal, plain timestamped lines in CI or pipes, JSON events on stdout
//! for `up`/`down --output json`, and silence for the other commands' `--output json`. Progress goes to stderr; results are printed by the commands on stdout.

mod events;
mod plain;
mod summary;
mod tty;

pub use events::{Events, EVENTS_VERSION};
pub use plain::Plain;
pub use summary::{render_kept, render_summary, RunSummary, StepTiming};
pub use tty::Tty;

use std::time::Duration;

/// How a step ended: what the reporter draws, and what `up --output json` lists per step.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "message", rename_all = "snake_case")]
pub enum Outcome {
    Done(String),
    Failed(String),
    Skipped(String),
}

pub trait Reporter: Send + Sync {
    /// A step started; `key` identifies it in later calls.
    fn start(&self, key: &str, label: &str);
    /// Something happened while the step runs (a service event, a retry).
    fn progress(&self, key: &str, message: &str);
    fn done(&self, key: &str, outcome: &Outcome, elapsed: Duration);
    fn info(&self, message: &str);
    fn warn(&self, message: &str);
    /// With `--output json`, `up` and `down` end their stream of events with the result as
    /// a `summary` event; true when this reporter did so (the command prints nothing else).
    fn result(&self, _result: &serde_json::Value) -> bool {
        false
    }
}

/// Reports nothing: `--output json` prints only the result.
pub struct Quiet;

impl Reporter for Quiet {
    fn start(&self, _: &str, _: &str) {}
    fn progress(&self, _: &str, _: &str) {}
    fn done(&self, _: &str, _: &Outcome, _: Duration) {}
    fn info(&self, _: &str) {}
    fn warn(&self, message: &str) {
        eprintln!("warning: {message}");
    }
}

/// `1.2s`, `2m03s`: short elapsed times for progress lines.
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}
