//! Ending waits on Ctrl-C. The engine runs each step inside [`interruptible`]; every pause
//! of the [`Backoff`](super::Backoff) schedule (so every `poll`, retry and deployment
//! wait) then ends at once with [`StoppedWaiting`] when the run is interrupted, instead of
//! sleeping on until its deadline. AWS calls already sent finish; what AWS started
//! (a deployment, a load balancer, a database) carries on without us.

use std::future::Future;

use tokio::sync::watch;

tokio::task_local! {
    static INTERRUPT: watch::Receiver<bool>;
}

/// A wait ended because the run was interrupted (Ctrl-C, or the run lock was lost).
#[derive(Debug, thiserror::Error)]
#[error("stopped waiting: the run was interrupted; AWS carries on with what it had started")]
pub struct StoppedWaiting;

/// Run `fut` so that its waits end when `interrupt` turns true.
pub async fn interruptible<F: Future>(interrupt: watch::Receiver<bool>, fut: F) -> F::Output {
    INTERRUPT.scope(interrupt, fut).await
}

/// Whether the run around this task was interrupted (never outside [`interruptible`]).
pub fn interrupted() -> bool {
    INTERRUPT.try_with(|rx| *rx.borrow()).unwrap_or(false)
}

/// Resolves once the run is interrupted; never outside [`interruptible`] (nor once no
/// interrupt can come any more). For work that is not a wait, such as a child process,
/// to race against.
pub async fn until_interrupted() {
    let Ok(mut rx) = INTERRUPT.try_with(watch::Receiver::clone) else {
        return std::future::pending().await;
    };
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Sleep `d`, or less when the run is interrupted meanwhile: then [`StoppedWaiting`].
pub async fn sleep_unless_interrupted(d: std::time::Duration) -> Result<(), StoppedWaiting> {
    let Ok(mut rx) = INTERRUPT.try_with(watch::Receiver::clone) else {
        tokio::time::sleep(d).await;
        return Ok(());
    };
    let already = *rx.borrow_and_update();
    if already {
        return Err(StoppedWaiting);
    }
    tokio::select! {
        () = tokio::time::sleep(d) => Ok(()),
        // Err: the sender is gone, so no interrupt can come any more; sleep on.
        came = async { rx.wait_for(|v| *v).await.is_ok() } => {
            if came {
                Err(StoppedWaiting)
            } else {
                tokio::time::sleep(d).await;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[tokio::test]
    async fn until_interrupted_resolves_on_the_interrupt_and_never_outside_the_scope() {
        let (tx, rx) = watch::channel(false);
        let started = Instant::now();
        let waiter = tokio::spawn(interruptible(rx, until_interrupted()));
        tokio::time::sleep(Duration::from_millis(50)).await;
        tx.send(true).unwrap();
        tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("resolved at the interrupt")
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
        let outside = tokio::time::timeout(Duration::from_millis(50), until_interrupted()).await;
        assert!(outside.is_err(), "outside the scope nothing interrupts");
    }

    #[tokio::test]
    async fn an_interrupt_ends_a_sleep_at_once_and_only_inside_the_scope() {
        let (tx, rx) = watch::channel(false);
        let t = Instant::now();
        let slept = interruptible(rx.clone(), async {
            let s = sleep_unless_interrupted(Duration::from_secs(30));
            tokio::pin!(s);
            tokio::select! {
                r = &mut s => r,
                () = async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    tx.send(true).unwrap();
                    std::future::pending::<()>().await
                } => unreachable!(),
            }
        })
        .await;
        assert!(slept.is_err());
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        // Already interrupted: no sleep at all.
        assert!(interruptible(rx, async { interrupted() }).await);
        // Outside: an ordinary sleep.
        assert!(!interrupted());
        assert!(sleep_unless_interrupted(Duration::from_millis(5))
            .await
            .is_ok());
    }
}
