//! `up --timeline`: where a run's minutes went. Every step that started, in the order it
//! started: when (after the steps began), how long it took (its AWS calls and waits), and
//! what it waited for — the dependency that finished last before it could start. Pure:
//! rendered from the engine's [`RunSummary`].

use std::time::Duration;

use crate::report::{short_duration, Outcome, RunSummary};

/// The timeline of `summary`, one line a step.
pub fn render(summary: &RunSummary) -> String {
    let mut steps: Vec<(&String, &crate::report::StepTiming)> = summary.timings.iter().collect();
    steps.sort_by(|a, b| a.1.start.total_cmp(&b.1.start).then(a.0.cmp(b.0)));
    let width = steps.iter().map(|(k, _)| k.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "Timeline (after the steps began):\n  {:>8}  {:>8}  {:<width$}  waited for\n",
        "start", "took", "step"
    );
    let secs = |s: f64| short_duration(Duration::from_secs_f64(s.max(0.0)));
    for (key, t) in &steps {
        // The dependency that ended last: the one this step waited for.
        let gate = t
            .deps
            .iter()
            .filter_map(|d| summary.timings.get(d).map(|dt| (d, dt.start + dt.seconds)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let waited = match gate {
            Some((d, _)) => d.clone(),
            None => "-".to_string(),
        };
        let how = match summary.results.get(*key) {
            Some(Outcome::Failed(_)) => " (failed)",
            Some(Outcome::Skipped(_)) => " (stopped)",
            _ => "",
        };
        out.push_str(&format!(
            "  {:>8}  {:>8}  {:<width$}  {waited}{how}\n",
            secs(t.start),
            secs(t.seconds),
            key
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StepTiming;

    fn timing(start: f64, seconds: f64, deps: &[&str]) -> StepTiming {
        StepTiming {
            start,
            seconds,
            deps: deps.iter().map(|d| d.to_string()).collect(),
        }
    }

    #[test]
    fn steps_in_start_order_with_the_dependency_that_held_each_up() {
        let mut s = RunSummary::default();
        s.timings.insert(
            "service.web".into(),
            timing(152.3, 61.0, &["listener.80", "vpc.main"]),
        );
        s.timings.insert("vpc.main".into(), timing(0.0, 2.0, &[]));
        s.timings.insert(
            "load_balancer.main".into(),
            timing(2.0, 150.0, &["vpc.main"]),
        );
        s.timings.insert(
            "listener.80".into(),
            timing(152.0, 0.3, &["load_balancer.main"]),
        );
        s.results
            .insert("service.web".into(), Outcome::Failed("boom".into()));
        assert_eq!(
            render(&s),
            "Timeline (after the steps began):\n\
             \x20    start      took  step                waited for\n\
             \x20     0.0s      2.0s  vpc.main            -\n\
             \x20     2.0s     2m30s  load_balancer.main  vpc.main\n\
             \x20    2m32s      0.3s  listener.80         load_balancer.main\n\
             \x20    2m32s     1m01s  service.web         listener.80 (failed)\n"
        );
    }
}
