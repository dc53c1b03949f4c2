//! The one `poll`: ask until there is an answer, on the [`Backoff::watching`] schedule
//! (what is polled for finishes by itself), with a last look at the deadline.

use std::future::Future;
use std::time::Duration;

use anyhow::{bail, Result};

use super::StoppedWaiting;

use super::retry::Backoff;

/// Poll `check` until it answers `Some`; an error ends the wait at once. The last look is
/// at `deadline`; `None` when that one finds nothing either (the caller says what timed
/// out).
pub async fn poll_until<T, F, Fut>(deadline: Duration, mut check: F) -> Result<Option<T>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let mut backoff = Backoff::watching(deadline);
    loop {
        if let Some(v) = check().await? {
            return Ok(Some(v));
        }
        if !backoff.pause().await? {
            return Ok(None);
        }
    }
}

/// [`poll_until`], with giving up an error naming `what` was awaited.
pub async fn poll<T, F, Fut>(deadline: Duration, what: &str, check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let polled = poll_until(deadline, check).await;
    match polled.map_err(|e| stopped_waiting_for(e, what))? {
        Some(v) => Ok(v),
        None => bail!(
            "gave up after {} waiting for {what}; run the command again",
            humantime::format_duration(deadline)
        ),
    }
}

/// `e`, naming `what` was awaited when it is a [`StoppedWaiting`] (other errors say what
/// failed themselves).
pub fn stopped_waiting_for(e: anyhow::Error, what: &str) -> anyhow::Error {
    if e.downcast_ref::<StoppedWaiting>().is_some() {
        e.context(format!("waiting for {what}"))
    } else {
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn poll_returns_the_first_answer_and_stops_at_an_error() {
        let mut calls = 0;
        let v = poll(Duration::from_secs(60), "x", || {
            calls += 1;
            async { Ok(Some(7)) }
        })
        .await
        .unwrap();
        assert_eq!((v, calls), (7, 1));

        let r: Result<()> = poll(Duration::from_secs(60), "x", || async { bail!("failed") }).await;
        assert_eq!(r.unwrap_err().to_string(), "failed");

        // A deadline shorter than the first pause: one look, one more at the deadline,
        // then give up.
        let mut calls = 0;
        let r: Result<()> = poll(Duration::from_millis(300), "x", || {
            calls += 1;
            async { Ok(None) }
        })
        .await;
        assert!(r.unwrap_err().to_string().contains("waiting for x"));
        assert_eq!(calls, 2);
    }
}
