//! Runs a dependency graph of steps with bounded concurrency. A step starts when every
//! step it depends on has succeeded. After a failure no new step starts; steps in flight
//! run to their end (their AWS calls finish or time out), and the rest are reported as
//! skipped. After an interrupt, likewise, except that steps in flight stop at their next
//! wait ([`crate::aws::interruptible`]): AWS carries on with what they started.

mod apply;
pub mod timeline;

pub use apply::{apply, ApplyResult};

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::watch;

use crate::aws::StoppedWaiting;
use crate::desired::ResourceId;
use crate::error::Hint;
use crate::graph::Dag;
use crate::report::{Outcome, Reporter, RunSummary, StepTiming};

/// What the first Ctrl-C prints.
pub const INTERRUPTED: &str = "interrupted: starting no new steps and ending the waits; AWS \
     carries on with what was already started (deployments, load balancers, databases): \
     `ecsdeploy status` shows where it stands, and `ecsdeploy up` continues; Ctrl-C again \
     exits at once";

/// Set to true (by Ctrl-C) to stop starting new steps and end the waits of running ones.
pub type Cancel = watch::Receiver<bool>;

/// Run `work` for every node of `graph`. `label` names a node for progress output.
pub async fn run<W, Fut>(
    graph: &Dag<ResourceId>,
    label: impl Fn(&ResourceId) -> String,
    concurrency: usize,
    mut cancel: Cancel,
    report: &dyn Reporter,
    work: W,
) -> RunSummary
where
    W: Fn(ResourceId) -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    let started_at = Instant::now();
    let mut summary = RunSummary::default();
    let mut waiting: BTreeSet<ResourceId> = graph.nodes().cloned().collect();
    let mut succeeded: BTreeSet<ResourceId> = BTreeSet::new();
    let mut running = FuturesUnordered::new();
    let mut stop = false;
    // Whether the interruption was said: once, whichever comes first of the cancel seen
    // here, its change, or a step that ended because of it (a race that once left it
    // unsaid).
    let mut announced = false;

    loop {
        if *cancel.borrow() && !announced {
            announced = true;
            stop = true;
            report.warn(INTERRUPTED);
        }
        if !stop {
            let ready: Vec<ResourceId> = waiting
                .iter()
                .filter(|id| graph.deps(id).all(|d| succeeded.contains(d)))
                .take(concurrency.max(1).saturating_sub(running.len()))
                .cloned()
                .collect();
            for id in ready {
                waiting.remove(&id);
                let key = id.to_string();
                report.start(&key, &label(&id));
                let fut = crate::aws::interruptible(cancel.clone(), work(id.clone()));
                let start = started_at.elapsed();
                running.push(async move {
                    let t = Instant::now();
                    (id, fut.await, t.elapsed(), start)
                });
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((id, result, elapsed, start)) = running.next() => {
                let key = id.to_string();
                summary.timings.insert(key.clone(), StepTiming {
                    start: start.as_secs_f64(),
                    seconds: elapsed.as_secs_f64(),
                    deps: graph.deps(&id).map(ResourceId::to_string).collect(),
                });
                let outcome = match result {
                    Ok(msg) => {
                        succeeded.insert(id);
                        Outcome::Done(msg)
                    }
                    Err(e) if e.downcast_ref::<StoppedWaiting>().is_some() => {
                        stop = true;
                        Outcome::Skipped(format!("{e:#}"))
                    }
                    Err(e) => {
                        stop = true;
                        Outcome::Failed(failure(&e))
                    }
                };
                report.done(&key, &outcome, elapsed);
                summary.results.insert(key, outcome);
            }
            // The loop's top says it and stops.
            Ok(()) = cancel.changed(), if !announced => {}
        }
    }
    summary.interrupted = *cancel.borrow();
    let why = if summary.interrupted {
        "interrupted"
    } else {
        "an earlier step failed"
    };
    for id in waiting {
        let key = id.to_string();
        let outcome = Outcome::Skipped(why.into());
        report.done(&key, &outcome, Duration::ZERO);
        summary.results.insert(key, outcome);
    }
    summary.elapsed = started_at.elapsed();
    summary
}

/// A failed step's line: the error with its causes, then the hint for its AWS code, if any
/// (`creating subnet.public-a: <AWS message> (hint: ...)`).
fn failure(e: &anyhow::Error) -> String {
    match e.hint() {
        Some(h) => format!("{e:#} (hint: {h})"),
        None => format!("{e:#}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desired::Kind;
    use crate::report::Quiet;
    use std::sync::{Arc, Mutex};

    fn id(n: &str) -> ResourceId {
        ResourceId::new(Kind::Vpc, n)
    }

    fn graph() -> Dag<ResourceId> {
        Dag::new(vec![
            (id("a"), vec![]),
            (id("b"), vec![]),
            (id("c"), vec![id("a"), id("b")]),
            (id("d"), vec![id("c")]),
        ])
    }

    /// [`run`] over [`graph`], each step labelled by its id.
    async fn run_graph<W, Fut>(
        concurrency: usize,
        cancel: Cancel,
        report: &dyn Reporter,
        work: W,
    ) -> RunSummary
    where
        W: Fn(ResourceId) -> Fut,
        Fut: Future<Output = anyhow::Result<String>>,
    {
        run(
            &graph(),
            |i| i.to_string(),
            concurrency,
            cancel,
            report,
            work,
        )
        .await
    }

    /// How many steps run at once: (now, the most so far).
    type Live = Arc<Mutex<(usize, usize)>>;

    /// A step that counts itself in `live` while it runs for `ms` milliseconds.
    async fn running_for(live: &Live, ms: u64) {
        {
            let mut l = live.lock().unwrap();
            l.0 += 1;
            l.1 = l.1.max(l.0);
        }
        tokio::time::sleep(Duration::from_millis(ms)).await;
        live.lock().unwrap().0 -= 1;
    }

    #[tokio::test]
    async fn runs_dependencies_first_and_independent_steps_together() {
        let (_tx, rx) = watch::channel(false);
        let log = Arc::new(Mutex::new(Vec::new()));
        let live = Live::default();
        let s = run_graph(4, rx, &Quiet, |i| {
            let log = log.clone();
            let live = live.clone();
            async move {
                running_for(&live, 30).await;
                log.lock().unwrap().push(i.name.clone());
                Ok("ok".to_string())
            }
        })
        .await;
        assert_eq!(s.done(), 4);
        let log = log.lock().unwrap().clone();
        let pos = |n: &str| log.iter().position(|x| x == n).unwrap();
        assert!(pos("a") < pos("c") && pos("b") < pos("c") && pos("c") < pos("d"));
        assert_eq!(live.lock().unwrap().1, 2, "a and b ran at the same time");
    }

    #[tokio::test]
    async fn concurrency_one_runs_serially() {
        let (_tx, rx) = watch::channel(false);
        let live = Live::default();
        run_graph(1, rx, &Quiet, |_| {
            let live = live.clone();
            async move {
                running_for(&live, 5).await;
                Ok(String::new())
            }
        })
        .await;
        assert_eq!(live.lock().unwrap().1, 1);
    }

    #[tokio::test]
    async fn failure_skips_dependents_and_lets_running_steps_finish() {
        let (_tx, rx) = watch::channel(false);
        let s = run_graph(4, rx, &Quiet, |i| async move {
            if i.name == "a" {
                anyhow::bail!("boom")
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(String::new())
        })
        .await;
        assert_eq!(s.results["vpc.a"], Outcome::Failed("boom".into()));
        assert_eq!(s.results["vpc.b"], Outcome::Done(String::new()));
        assert!(matches!(s.results["vpc.c"], Outcome::Skipped(_)));
        assert!(matches!(s.results["vpc.d"], Outcome::Skipped(_)));
        assert!(!s.interrupted);
    }

    #[tokio::test]
    async fn cancel_stops_new_steps() {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        let s = run_graph(4, rx, &Quiet, |i| {
            let tx = tx.clone();
            async move {
                if i.name == "a" {
                    tx.send(true).unwrap();
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok(String::new())
            }
        })
        .await;
        assert!(s.interrupted);
        assert!(matches!(s.results["vpc.a"], Outcome::Done(_)));
        assert_eq!(s.results["vpc.d"], Outcome::Skipped("interrupted".into()));
    }

    #[tokio::test]
    async fn cancel_ends_the_waits_of_running_steps_at_once() {
        let (tx, rx) = watch::channel(false);
        let tx = Arc::new(tx);
        let t = Instant::now();
        let s = run_graph(4, rx, &Quiet, |i| {
            let tx = tx.clone();
            async move {
                if i.name == "b" {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    tx.send(true).unwrap();
                    return Ok(String::new());
                }
                // A wait that would last ten minutes.
                crate::aws::poll(Duration::from_secs(600), "the load balancer", || async {
                    Ok(None::<()>)
                })
                .await?;
                Ok(String::new())
            }
        })
        .await;
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(s.interrupted);
        assert_eq!(s.failed(), 0, "{:?}", s.results);
        let Outcome::Skipped(why) = &s.results["vpc.a"] else {
            panic!("{:?}", s.results)
        };
        assert!(
            why.starts_with("waiting for the load balancer: stopped waiting")
                && why.contains("AWS carries on"),
            "{why}"
        );
    }

    /// Records the warnings.
    #[derive(Default)]
    struct Warnings(Mutex<Vec<String>>);

    impl Reporter for Warnings {
        fn start(&self, _: &str, _: &str) {}
        fn progress(&self, _: &str, _: &str) {}
        fn done(&self, _: &str, _: &Outcome, _: Duration) {}
        fn info(&self, _: &str) {}
        fn warn(&self, message: &str) {
            self.0.lock().unwrap().push(message.to_string());
        }
    }

    /// The interruption is said once even when a step ended by it is handled before the
    /// cancel's change (both are ready together: the order is the select's).
    #[tokio::test]
    async fn an_interruption_is_said_once_whichever_is_seen_first() {
        for _ in 0..20 {
            let (tx, rx) = watch::channel(false);
            let tx = Arc::new(tx);
            let warnings = Warnings::default();
            let s = run_graph(4, rx, &warnings, |i| {
                let tx = tx.clone();
                async move {
                    if i.name == "a" {
                        tx.send(true).unwrap();
                        return Err(anyhow::Error::new(StoppedWaiting));
                    }
                    crate::aws::poll(Duration::from_secs(600), "x", || async { Ok(None::<()>) })
                        .await?;
                    Ok(String::new())
                }
            })
            .await;
            assert!(s.interrupted);
            let said = warnings.0.lock().unwrap().clone();
            assert_eq!(said, [INTERRUPTED.to_string()], "{said:?}");
        }
    }

    #[test]
    fn a_failure_keeps_its_causes_and_gets_the_hint_of_its_aws_code() {
        use anyhow::Context;
        let aws = crate::aws::AwsError {
            code: Some("AccessDenied".into()),
            text: "AccessDenied: not allowed".into(),
        };
        let e = Err::<(), _>(anyhow::Error::new(aws))
            .context("creating vpc.main")
            .unwrap_err();
        let line = failure(&e);
        assert!(
            line.starts_with("creating vpc.main: AccessDenied: not allowed (hint: "),
            "{line}"
        );
        assert_eq!(failure(&anyhow::anyhow!("boom")), "boom");
    }
}
