//! The one backoff schedule every home-made retry or wait loop uses: 1 s doubling to 15 s,
//! each pause jittered (between half and all of it) so concurrent steps do not call in
//! step. The deadline rule: the pause before the deadline is cut short so that the last
//! attempt happens at the deadline; after that attempt the loop gives up.
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

/// Pauses between attempts until a deadline (see the module doc).
pub struct Backoff {
    start: Instant,
    deadline: Duration,
    next: Duration,
}

impl Backoff {
    /// A schedule whose attempts end `deadline` from now.
    pub fn new(deadline: Duration) -> Backoff {
        Backoff {
            start: Instant::now(),
            deadline,
            next: FIRST,
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
        let pause = scaled(jitter(self.next), time_scale());
        super::sleep_unless_interrupted(pause.min(left)).await?;
        self.next = (self.next * 2).min(MAX);
        Ok(true)
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
    mut op: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut backoff = Backoff::new(deadline);
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
