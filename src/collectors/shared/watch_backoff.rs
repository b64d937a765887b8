//! The wait between a failed watch or list and the next try.
//!
//! kube's `default_backoff()` starts over at its shortest wait on every `Ok` item, and the
//! watcher yields `Event::Init` before each list request, so a list that keeps failing (a 500 on
//! every try) is retried every 0.8–1.6 s forever. Here only progress (an object listed or
//! watched, a list completed) starts the wait over; a failure waits twice as long as the one
//! before, from [`WATCH_RETRY`]'s first to its longest wait, each with up to half again as
//! jitter so that many watches do not retry in step.

use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use kube::runtime::watcher::{self, Event};

use crate::backoff::{Attempts, Backoff};

/// Failed watches and lists: 0.8 s doubling to 30 s, as kube's default.
pub const WATCH_RETRY: Backoff = Backoff::new(Duration::from_millis(800), Duration::from_secs(30));

/// Whether an item shows the watch getting somewhere (so the next failure waits the least).
fn is_progress<K>(item: &Result<Event<K>, watcher::Error>) -> bool {
    matches!(item, Ok(Event::InitApply(_) | Event::InitDone | Event::Apply(_) | Event::Delete(_)))
}

/// `delay` stretched by a random fraction of itself, below one half.
fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(1.0 + rand::random::<f64>() / 2.0)
}

/// `events` with a growing wait after each error, before the watcher tries again. Errors are
/// passed on (for logs and counts) before the wait.
pub fn backed_off<K, S>(events: S) -> BoxStream<'static, Result<Event<K>, watcher::Error>>
where
    K: Send + 'static,
    S: Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static,
{
    backed_off_with(events, WATCH_RETRY, jittered)
}

fn backed_off_with<K, S>(
    events: S,
    policy: Backoff,
    jitter: fn(Duration) -> Duration,
) -> BoxStream<'static, Result<Event<K>, watcher::Error>>
where
    K: Send + 'static,
    S: Stream<Item = Result<Event<K>, watcher::Error>> + Send + 'static,
{
    let start = (events.boxed(), Attempts::default(), None::<Duration>);
    stream::unfold(start, move |(mut events, mut failures, wait)| async move {
        if let Some(wait) = wait {
            tokio::time::sleep(wait).await;
        }
        let item = events.next().await?;
        let wait = if item.is_err() {
            Some(jitter(failures.next_delay(&policy)))
        } else {
            if is_progress(&item) {
                failures.reset();
            }
            None
        };
        Some((item, (events, failures, wait)))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use tokio::time::Instant;

    use super::*;

    fn failed() -> Result<Event<()>, watcher::Error> {
        Err(watcher::Error::NoResourceVersion)
    }

    /// Seconds (of paused time) at which each item of `items` is received.
    async fn arrivals(items: Vec<Result<Event<()>, watcher::Error>>) -> Vec<f64> {
        let policy = Backoff::new(Duration::from_secs(1), Duration::from_secs(8));
        let start = Instant::now();
        let events = backed_off_with(stream::iter(items), policy, |d| d);
        events.map(|_| (Instant::now() - start).as_secs_f64()).collect().await
    }

    #[tokio::test(start_paused = true)]
    async fn failures_wait_longer_each_time_even_with_a_list_started_between() {
        let items = vec![
            failed(),
            Ok(Event::Init),
            failed(),
            Ok(Event::Init),
            failed(),
            failed(),
            failed(),
            failed(),
        ];
        // Waits after each failure: 1, 2, 4, 8, 8 s (Init does not start the waits over).
        assert_eq!(arrivals(items).await, [0.0, 1.0, 1.0, 3.0, 3.0, 7.0, 15.0, 23.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn progress_starts_the_waits_over() {
        let items =
            vec![failed(), failed(), Ok(Event::Init), Ok(Event::InitDone), failed(), Ok(Event::Apply(()))];
        assert_eq!(arrivals(items).await, [0.0, 1.0, 3.0, 3.0, 3.0, 4.0]);
    }

    #[test]
    fn jitter_stays_below_half_again() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(2));
            assert!(d >= Duration::from_secs(2) && d < Duration::from_secs(3), "{d:?}");
        }
    }
}
