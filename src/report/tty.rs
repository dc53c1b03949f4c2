//! indicatif on a terminal: one line per running step with a spinner and elapsed time,
//! replaced by its outcome when it ends.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{short_duration, Outcome, Reporter};

pub struct Tty {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Tty {
    pub fn new() -> Self {
        Tty {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stderr()),
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Default for Tty {
    fn default() -> Self {
        Self::new()
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix} [{elapsed}] {wide_msg:.dim}")
        .expect("static template")
}

impl Reporter for Tty {
    fn start(&self, key: &str, label: &str) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(spinner_style());
        bar.set_prefix(label.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.lock().unwrap().insert(key.to_string(), bar);
    }

    fn progress(&self, key: &str, message: &str) {
        if let Some(bar) = self.bars.lock().unwrap().get(key) {
            bar.set_message(message.to_string());
        }
    }

    fn done(&self, key: &str, outcome: &Outcome, elapsed: Duration) {
        let Some(bar) = self.bars.lock().unwrap().remove(key) else {
            return;
        };
        let d = short_duration(elapsed);
        let line = match outcome {
            Outcome::Done(m) => format!("✓ {key}: {m} ({d})"),
            Outcome::Failed(m) => format!("✗ {key}: {m} ({d})"),
            Outcome::Skipped(m) => format!("- {key}: skipped ({m})"),
        };
        bar.finish_and_clear();
        let _ = self.multi.println(line);
        self.multi.remove(&bar);
    }

    fn info(&self, message: &str) {
        let _ = self.multi.println(message);
    }

    fn warn(&self, message: &str) {
        let _ = self.multi.println(format!("warning: {message}"));
    }
}
