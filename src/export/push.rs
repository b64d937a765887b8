//! The OTLP push: each export's requests join a bounded queue as they are encoded (so they keep
//! their original timestamps) and the queue is sent oldest first. A failed send leaves the
//! request queued for the next attempt; when the queue is full the oldest export is dropped and
//! counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::cycle::{Cycle, CycleClock};
use super::frame::EncodedRequest;
use super::snapshot::Snapshot;
use super::transport::{Transport, TransportError};
use crate::backoff::Backoff;

/// Running totals, read by the `kube_state_otel.export.*` self-metrics.
#[derive(Debug, Default)]
pub struct ExportStats {
    pub points: AtomicU64,
    pub failures: AtomicU64,
    pub dropped: AtomicU64,
    /// Reading and encoding of each export (`kube_state_otel.export.duration`).
    pub cycle: CycleClock,
}

/// What a config reload may change.
#[derive(Clone)]
struct Settings {
    transport: Option<Transport>,
    timeout: Duration,
    max_batches: usize,
}

/// The requests of one export not delivered yet, encoded.
type Batch = VecDeque<EncodedRequest>;

struct Shared {
    settings: Mutex<Settings>,
    queue: Mutex<VecDeque<Batch>>,
    /// Serializes sends so requests leave in order.
    sending: tokio::sync::Mutex<()>,
    /// A background retry loop is running.
    retrying: AtomicBool,
}

/// First and longest wait of the background retry after a failed export.
const RETRY: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

/// Buffers and sends OTLP metric requests. Cheap to clone.
#[derive(Clone)]
pub struct Pusher {
    shared: Arc<Shared>,
    stats: Arc<ExportStats>,
}

impl Pusher {
    /// `transport` None: OTLP is off and nothing is sent. `max_batches` is the number of
    /// exports kept while the Collector is unreachable.
    pub fn new(transport: Option<Transport>, timeout: Duration, max_batches: usize) -> Self {
        Pusher {
            shared: Arc::new(Shared {
                settings: Mutex::new(Settings { transport, timeout, max_batches: max_batches.max(1) }),
                queue: Mutex::new(VecDeque::new()),
                sending: tokio::sync::Mutex::new(()),
                retrying: AtomicBool::new(false),
            }),
            stats: Arc::default(),
        }
    }

    /// Sends from now on through `transport` (None: OTLP off), with this deadline and buffer
    /// size (a config reload). Requests already buffered are sent through the new transport.
    pub fn reconfigure(&self, transport: Option<Transport>, timeout: Duration, max_batches: usize) {
        *self.shared.settings.lock() = Settings { transport, timeout, max_batches: max_batches.max(1) };
    }

    /// Whether OTLP is on.
    pub fn is_sending(&self) -> bool {
        self.shared.settings.lock().transport.is_some()
    }

    pub fn stats(&self) -> Arc<ExportStats> {
        self.stats.clone()
    }

    /// Exports waiting to be delivered (whole or in part).
    pub fn buffered(&self) -> usize {
        self.shared.queue.lock().iter().filter(|b| !b.is_empty()).count()
    }

    /// Encodes `snapshot` a request at a time and sends each before encoding the next, so only
    /// one is held while the Collector keeps up; after a failure the rest is encoded into the
    /// queue. `cycle` holds the time the snapshot took so far.
    pub async fn push(&self, mut snapshot: Snapshot, mut cycle: Cycle) -> Result<(), TransportError> {
        self.begin_batch();
        let (mut points, mut failure) = (0u64, None);
        while let Some(request) = cycle.measure(|| snapshot.next_request()) {
            points += request.points;
            self.enqueue(request);
            if failure.is_none() {
                failure = self.flush_queue().await.err();
            }
        }
        let cycle = cycle.finish(points);
        tracing::debug!(
            points,
            wall_ms = cycle.wall.as_secs_f64() * 1e3,
            cpu_ms = cycle.cpu.as_secs_f64() * 1e3,
            "export read and encoded"
        );
        self.stats.cycle.record(cycle);
        match failure {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(error = %e, buffered = self.buffered(), "export failed; kept for retry");
                self.retry_in_background();
                Err(e)
            }
        }
    }

    /// Opens the batch of a new export; the oldest exports beyond `max_batches` are dropped.
    fn begin_batch(&self) {
        let mut queue = self.shared.queue.lock();
        queue.retain(|b| !b.is_empty());
        queue.push_back(Batch::new());
        let excess = queue.len().saturating_sub(self.shared.settings.lock().max_batches);
        if excess > 0 {
            queue.drain(..excess);
            self.stats.dropped.fetch_add(excess as u64, Ordering::Relaxed);
            tracing::warn!(dropped = excess, "export buffer full; dropped the oldest exports");
        }
    }

    fn enqueue(&self, request: EncodedRequest) {
        if let Some(batch) = self.shared.queue.lock().back_mut() {
            batch.push_back(request);
        }
    }

    /// Sends queued requests oldest first until one fails or the queue is empty.
    pub async fn flush_queue(&self) -> Result<(), TransportError> {
        let _order = self.shared.sending.lock().await;
        loop {
            let Settings { transport, timeout, .. } = self.shared.settings.lock().clone();
            let Some(transport) = transport else { return Ok(()) };
            let next = {
                let mut queue = self.shared.queue.lock();
                while queue.len() > 1 && queue.front().is_some_and(|b| b.is_empty()) {
                    queue.pop_front();
                }
                queue.front().and_then(|b| b.front().cloned())
            };
            let Some(next) = next else { return Ok(()) };
            match transport.send(&next, timeout).await {
                Ok(()) => {
                    if let Some(front) = self.shared.queue.lock().front_mut() {
                        front.pop_front();
                    }
                    self.stats.points.fetch_add(next.points, Ordering::Relaxed);
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
    }

    /// Retries the queue with backoff until it is empty, so kept exports reach the Collector
    /// soon after it is back rather than only at the next interval.
    fn retry_in_background(&self) {
        if self.shared.retrying.swap(true, Ordering::SeqCst) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let mut attempt = 0;
            loop {
                tokio::time::sleep(RETRY.delay(attempt)).await;
                if this.flush_queue().await.is_ok() {
                    break;
                }
                attempt += 1;
            }
            this.shared.retrying.store(false, Ordering::SeqCst);
        });
    }
}
