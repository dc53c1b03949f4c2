//! `up` and `down` with `--output json`: one JSON event per line on stdout as the run goes
//! (steps started, their progress — a service's deployment stage and ECS events — and how
//! they finished), then the summary. The shape is versioned and documented in
//! docs/events-json.md; text output is unaffected.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::{Outcome, Reporter};

/// The version of the events' shape (`schema_version` in every event).
pub const EVENTS_VERSION: u32 = 1;

/// One event: `{"schema_version", "event", "at", ...fields}`, `at` in seconds since the
/// run began.
pub fn event(kind: &str, at: Duration, fields: Value) -> Value {
    let mut m = Map::new();
    m.insert("schema_version".into(), json!(EVENTS_VERSION));
    m.insert("event".into(), json!(kind));
    m.insert(
        "at".into(),
        json!((at.as_secs_f64() * 1000.0).round() / 1000.0),
    );
    if let Value::Object(f) = fields {
        m.extend(f);
    }
    Value::Object(m)
}

/// Writes each event as one line to `W` (stdout in the binary).
pub struct Events<W: Write + Send> {
    start: Instant,
    out: Mutex<W>,
}

impl<W: Write + Send> Events<W> {
    pub fn new(out: W) -> Self {
        Events {
            start: Instant::now(),
            out: Mutex::new(out),
        }
    }

    /// Seconds since the run began, for the summary event.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    pub fn emit(&self, kind: &str, fields: Value) {
        let line = event(kind, self.start.elapsed(), fields).to_string();
        let mut out = self.out.lock().expect("events lock");
        // One write per line, flushed, so that a reader sees each event as it happens.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// What was written, for tests.
    pub fn into_inner(self) -> W {
        self.out.into_inner().expect("events lock")
    }
}

impl<W: Write + Send> Reporter for Events<W> {
    fn start(&self, key: &str, label: &str) {
        self.emit("step_started", json!({ "step": key, "label": label }));
    }
    fn progress(&self, key: &str, message: &str) {
        self.emit("step_progress", json!({ "step": key, "message": message }));
    }
    fn done(&self, key: &str, outcome: &Outcome, elapsed: Duration) {
        let (status, message) = match outcome {
            Outcome::Done(m) => ("done", m),
            Outcome::Failed(m) => ("failed", m),
            Outcome::Skipped(m) => ("skipped", m),
        };
        self.emit(
            "step_finished",
            json!({
                "step": key,
                "status": status,
                "message": message,
                "seconds": (elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
            }),
        );
    }
    fn info(&self, message: &str) {
        self.emit("info", json!({ "message": message }));
    }
    fn warn(&self, message: &str) {
        self.emit("warning", json!({ "message": message }));
    }
    fn result(&self, result: &Value) -> bool {
        let fields = match result {
            Value::Object(_) => result.clone(),
            other => json!({ "result": other }),
        };
        self.emit("summary", fields);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_versioned_event_per_line() {
        let events = Events::new(Vec::new());
        events.start("service.web", "create service.web");
        events.progress(
            "service.web",
            "deployment ecs-svc/1: IN_PROGRESS, 0/1 running",
        );
        events.done(
            "service.web",
            &Outcome::Done("created".into()),
            Duration::from_millis(1500),
        );
        events.warn("careful");
        let text = String::from_utf8(events.into_inner()).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is one JSON document"))
            .collect();
        let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["step_started", "step_progress", "step_finished", "warning"]
        );
        assert!(lines
            .iter()
            .all(|l| l["schema_version"] == 1 && l["at"].is_f64()));
        assert_eq!(lines[2]["status"], "done");
        assert_eq!(lines[2]["seconds"], 1.5);
        assert_eq!(lines[1]["step"], "service.web");
    }

    #[test]
    fn the_summary_is_the_result_with_its_kind() {
        let events = Events::new(Vec::new());
        assert!(events.result(&json!({"app": "demo", "results": {}})));
        let text = String::from_utf8(events.into_inner()).unwrap();
        let s: Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(s["event"], "summary");
        assert_eq!(s["app"], "demo");
        assert_eq!(s["schema_version"], EVENTS_VERSION);
    }
}
