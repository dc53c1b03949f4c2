//! Plain lines for CI logs and pipes: `[  12.3s] create subnet.public-a ... done`.

use std::io::Write;
use std::time::{Duration, Instant};

use super::{short_duration, Outcome, Reporter};

pub struct Plain {
    start: Instant,
}

impl Plain {
    pub fn new() -> Self {
        Plain {
            start: Instant::now(),
        }
    }

    fn line(&self, text: &str) {
        let t = self.start.elapsed().as_secs_f64();
        // One write per line so concurrent steps never interleave mid-line.
        let _ = writeln!(std::io::stderr().lock(), "[{t:7.1}s] {text}");
    }
}

impl Default for Plain {
    fn default() -> Self {
        Self::new()
    }
}

impl Reporter for Plain {
    fn start(&self, _key: &str, label: &str) {
        self.line(&format!("{label} ..."));
    }
    fn progress(&self, key: &str, message: &str) {
        self.line(&format!("  {key}: {message}"));
    }
    fn done(&self, key: &str, outcome: &Outcome, elapsed: Duration) {
        let d = short_duration(elapsed);
        match outcome {
            Outcome::Done(m) => self.line(&format!("{key}: {m} ({d})")),
            Outcome::Failed(m) => self.line(&format!("{key}: FAILED after {d}: {m}")),
            Outcome::Skipped(m) => self.line(&format!("{key}: skipped ({m})")),
        }
    }
    fn info(&self, message: &str) {
        self.line(message);
    }
    fn warn(&self, message: &str) {
        self.line(&format!("warning: {message}"));
    }
}
