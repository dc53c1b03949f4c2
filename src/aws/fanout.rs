//! Bounded fan-out: many calls of one kind (the tags of every load balancer in the region,
//! every revision of a family) go out a few at a time, not all at once. AWS throttles per
//! account and region with token buckets (ECS: 50 tokens refilled at 20 a second for its
//! read actions; EC2: 100 and 20 for reads, 200 and 5 for writes — "Request throttling" in
//! each API reference), and the SDK's retry quota (500 tokens per client, 5 a throttled
//! retry) is spent in seconds by a thousand concurrent calls, after which calls fail at
//! once. A fan-out waits for a slot instead.

use std::future::Future;

use futures::stream::{self, StreamExt, TryStreamExt};

/// How many calls of one fan-out are in flight at most.
pub const FAN_OUT: usize = 8;

/// Runs `calls`, at most `limit` at a time, and answers their results in the calls' order
/// (the first error ends it, as `try_join_all` would).
pub async fn bounded<T, F>(
    calls: impl IntoIterator<Item = F>,
    limit: usize,
) -> anyhow::Result<Vec<T>>
where
    F: Future<Output = anyhow::Result<T>>,
{
    stream::iter(calls)
        .buffered(limit.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn at_most_limit_in_flight_and_results_in_order() {
        let in_flight = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let calls = (0..50u64).map(|i| {
            let (in_flight, most) = (&in_flight, &most);
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1 + (i * 7) % 5)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, anyhow::Error>(i)
            }
        });
        let out = bounded(calls, 4).await.unwrap();
        assert_eq!(out, (0..50).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn the_first_error_ends_it() {
        let calls = (0..10).map(|i| async move {
            if i == 3 {
                anyhow::bail!("call {i} failed")
            }
            Ok(i)
        });
        let e = bounded(calls, 2).await.unwrap_err();
        assert_eq!(e.to_string(), "call 3 failed");
    }
}
