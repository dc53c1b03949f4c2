//! The one backoff schedule every home-made retry or wait loop uses: 1 s doubling to 15 s,
//! each pause jittered (between half and all of it) so concurrent steps do not call in
//! step. The deadline rule: the pause before the deadline is cut short so that the last
//! attempt happens at the deadline; after that attempt the loop gives up.
//!
//! A wait for something AWS finishes by itself ([`Backoff::watching`]: a deployment, a
//! load balancer or a database becoming available, a propagation window) also keeps each
//! pause at most [`WATCH_FLOOR`] or a tenth of the time waited so far, whichever is longer.
//! Plain doubling would see a 60 s deployment up to 15 s after it completed (the pauses have
//! grown to 8–15 s by then: a quarter of the wait); capped, the look that sees it comes at
//! most a tenth of the wait late (6 s), for about 31 calls instead of 10 (see the tests).
//! Retries of a refused call that may be load (throttling, 5xx, a conflict) keep the plain
//! doubling ([`Backoff::new`]).
//!
//! `ECSDEPLOY_TEST_TIME_SCALE=n` divides every pause (not the deadlines) by `n`: the deploy
//! benchmark (benches/deploy.rs) runs against the realism layer with AWS's timelines
//! divided by `n`, and polls the same way so that its waits keep the proportions they have
//! on AWS. Unset (or below 1): the schedule above.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::time::Instant;

/// The first pause.
const FIRST: Duration = Duration::from_secs(1);
/// The longest pause.
const MAX: Duration = Duration::from_secs(15);
/// A watching wait's pauses may always be this long, however little it has waited: at most
/// one look a second (0.67 on average, jittered) per wait, so that 20 services waiting for
/// their deployments together stay under ECS's 20 DescribeServices a second.
const WATCH_FLOOR: Duration = Duration::from_secs(2);
/// A watching wait's pause is at most the time waited so far divided by this.
const WATCH_FRACTION: u32 = 10;

/// Pauses between attempts until a deadline (see the module doc).
pub struct Backoff {
    start: Instant,
    deadline: Duration,
    next: Duration,
    watching: bool,
}

impl Backoff {
    /// A schedule whose attempts end `deadline` from now: for retrying a refused call.
    pub fn new(deadline: Duration) -> Backoff {
        Backoff {
            start: Instant::now(),
            deadline,
            next: FIRST,
            watching: false,
        }
    }

    /// The same, for waiting for something AWS finishes by itself: each pause is also at
    /// most [`WATCH_FLOOR`] or a tenth of the time waited, whichever is longer, so the look
    /// that sees it done comes at most that late.
    pub fn watching(deadline: Duration) -> Backoff {
        Backoff {
            watching: true,
            ..Backoff::new(deadline)
        }
    }

    /// Time since the schedule started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Sleep until the next attempt and answer true; false (without sleeping) when the
    /// deadline has passed, i.e. the attempt just made was the last one. An interrupt
    /// (see [`interruptible`](super::interruptible)) ends the pause at once with
    /// [`StoppedWaiting`](super::StoppedWaiting).
    pub async fn pause(&mut self) -> anyhow::Result<bool> {
        let left = self.deadline.saturating_sub(self.start.elapsed());
        if left.is_zero() {
            return Ok(false);
        }
        let scale = time_scale();
        // The time waited as it would be on AWS (the pauses, not the deadline, are scaled).
        let waited = self.start.elapsed().mul_f64(scale);
        let pause = scaled(jitter(planned(self.next, self.watching, waited)), scale);
        super::sleep_unless_interrupted(pause.min(left)).await?;
        self.next = (self.next * 2).min(MAX);
        Ok(true)
    }
}

/// The pause before jitter: `next` (the doubling), for a watching wait capped at
/// [`WATCH_FLOOR`] or `waited` / [`WATCH_FRACTION`], whichever is longer.
fn planned(next: Duration, watching: bool, waited: Duration) -> Duration {
    if watching {
        next.min(WATCH_FLOOR.max(waited / WATCH_FRACTION))
    } else {
        next
    }
}

/// `ECSDEPLOY_TEST_TIME_SCALE` (see the module doc); 1 unless set to a number from 1 up.
fn time_scale() -> f64 {
    static SCALE: OnceLock<f64> = OnceLock::new();
    *SCALE.get_or_init(|| {
        std::env::var("ECSDEPLOY_TEST_TIME_SCALE")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 1.0)
            .unwrap_or(1.0)
    })
}

/// A pause of `d` with time running `scale` times faster.
fn scaled(d: Duration, scale: f64) -> Duration {
    d.div_f64(scale)
}

/// Between half of `d` and all of it: every pause is jittered, so that concurrent steps
/// (or two runs) that met the same error do not call again in step.
pub fn jitter(d: Duration) -> Duration {
    let r = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let half = d / 2;
    half + Duration::from_nanos(r % (half.as_nanos() as u64 + 1))
}

/// Retry `op` while it fails with an error `retryable` accepts, on the [`Backoff`]
/// schedule until `deadline`; then return the last error.
pub async fn retry_until<T, F, Fut>(
    deadline: Duration,
    retryable: impl Fn(&anyhow::Error) -> bool,
    op: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    retry_on(Backoff::new(deadline), retryable, op).await
}

/// [`retry_until`] for an error that only means AWS has not caught up yet (a propagation
/// window: a service-linked role, a new cluster, a role): it is waited out on the
/// [`Backoff::watching`] schedule, so the attempt that succeeds comes soon after the window
/// closed.
pub async fn retry_while_settling<T, F, Fut>(
    deadline: Duration,
    retryable: impl Fn(&anyhow::Error) -> bool,
    op: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    retry_on(Backoff::watching(deadline), retryable, op).await
}

async fn retry_on<T, F, Fut>(
    mut backoff: Backoff,
    retryable: impl Fn(&anyhow::Error) -> bool,
    mut op: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) => {
                if !backoff.pause().await? {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// How long a follow-up call retries `*.NotFound` for a resource created a moment ago
/// (EC2 describes and mutates through eventually consistent endpoints).
pub const CONSISTENCY: Duration = Duration::from_secs(30);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_all() {
        for _ in 0..100 {
            let j = jitter(Duration::from_secs(8));
            assert!(
                j >= Duration::from_secs(4) && j <= Duration::from_secs(8),
                "{j:?}"
            );
        }
    }

    #[test]
    fn a_time_scale_divides_the_pause_and_one_keeps_it() {
        assert_eq!(
            scaled(Duration::from_secs(15), 10.0),
            Duration::from_millis(1500)
        );
        assert_eq!(
            scaled(Duration::from_secs(15), 1.0),
            Duration::from_secs(15)
        );
        // The harness never sets it, so the tests run on the real schedule.
        assert_eq!(time_scale(), 1.0);
    }

    /// The looks a wait makes for something done `done` after it began, each pause being
    /// `jitter` of the planned one (1.0: the longest, 0.5: the shortest), and how late the
    /// look that sees it done comes.
    fn looks(watching: bool, done: Duration, jitter: f64) -> (usize, Duration) {
        let (mut at, mut next, mut calls) = (Duration::ZERO, FIRST, 1);
        while at < done {
            at += planned(next, watching, at).mul_f64(jitter);
            next = (next * 2).min(MAX);
            calls += 1;
        }
        (calls, at - done)
    }

    #[test]
    fn a_watching_pause_is_at_most_a_tenth_of_the_wait_and_never_longer_than_doubling() {
        let s = Duration::from_secs;
        assert_eq!(planned(s(8), true, s(3)), s(2));
        assert_eq!(planned(s(15), true, s(60)), s(6));
        assert_eq!(planned(s(15), true, s(600)), s(15));
        assert_eq!(planned(s(1), true, s(0)), s(1));
        assert_eq!(planned(s(8), false, s(3)), s(8));
        for t in 0..700 {
            let late = looks(true, s(t), 1.0).1;
            assert!(late <= s(2).max(s(t) / 10), "{t} s: {late:?}");
            // Each pause is at most the plain schedule's.
            let next = s(1 << t.min(4)).min(MAX);
            assert!(
                planned(next, true, s(t)) <= planned(next, false, s(t)),
                "{t} s"
            );
        }
    }

    #[test]
    fn what_watching_costs_in_calls_and_saves_in_lateness() {
        let s = Duration::from_secs;
        // Done at 46 s, around a minute: plain doubling (looks at 45 and 60 s) sees it 14 s
        // late, a quarter of the wait; watching (pauses of 4–5 s by then) 5 s at most.
        assert_eq!(looks(false, s(46), 1.0).1, s(14));
        assert!(looks(true, s(46), 1.0).1 <= s(5));
        // DescribeServices a wait of 60 s and of 10 min makes:
        let calls = |w, t| {
            (
                looks(w, s(t), 1.0).0,
                looks(w, s(t), 0.75).0,
                looks(w, s(t), 0.5).0,
            )
        };
        // (longest pauses, average jitter, shortest pauses)
        assert_eq!(calls(false, 60), (8, 10, 12));
        assert_eq!(calls(true, 60), (24, 31, 45));
        assert_eq!(calls(false, 600), (44, 58, 84));
        assert_eq!(calls(true, 600), (63, 83, 123));
        // At most a second and a half between looks on average in the first 20 s: one
        // wait stays far below ECS's 20 calls a second, and so do 20 at once.
        assert!(looks(true, s(20), 0.75).0 <= 15);
    }

    #[tokio::test]
    async fn the_last_attempt_is_at_the_deadline() {
        let deadline = Duration::from_millis(1200);
        let start = Instant::now();
        let mut backoff = Backoff::new(deadline);
        let mut attempts = vec![];
        loop {
            attempts.push(start.elapsed());
            if !backoff.pause().await.unwrap() {
                break;
            }
        }
        let last = *attempts.last().unwrap();
        assert!(
            last >= deadline && last < deadline + Duration::from_millis(200),
            "{attempts:?}"
        );
        assert!(attempts.len() >= 2, "{attempts:?}");
    }
}
