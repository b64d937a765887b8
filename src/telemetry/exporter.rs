//! The metric exporter the SDK's periodic reader calls: each collection becomes an OTLP request
//! at once (so it keeps its original timestamps), joins a bounded queue, and the queue is sent
//! oldest first. A failed send leaves the request queued for the next attempt; when the queue is
//! full the oldest request is dropped and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use parking_lot::Mutex;

use super::cycle::CycleClock;
use super::transport::Transport;

/// Where converted requests go besides (or instead of) the Collector.
pub type RequestSink = Arc<dyn Fn(&ExportMetricsServiceRequest) + Send + Sync>;

/// Running totals, read by the `kube_state_otel.export.*` self-metrics.
#[derive(Debug, Default)]
pub struct ExportStats {
    pub points: AtomicU64,
    pub failures: AtomicU64,
    pub dropped: AtomicU64,
    /// Collection plus conversion of each export (`kube_state_otel.export.duration`).
    pub cycle: CycleClock,
}

struct Shared {
    queue: Mutex<VecDeque<ExportMetricsServiceRequest>>,
    /// Serializes sends so requests leave in order.
    sending: tokio::sync::Mutex<()>,
    /// A background retry loop is running.
    retrying: AtomicBool,
}

/// First and longest wait of the background retry after a failed export.
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Buffers and sends OTLP metric requests.
#[derive(Clone)]
pub struct BufferedExporter {
    transport: Option<Transport>,
    runtime: Option<tokio::runtime::Handle>,
    timeout: Duration,
    max_batches: usize,
    shared: Arc<Shared>,
    stats: Arc<ExportStats>,
    sinks: Vec<RequestSink>,
}

impl BufferedExporter {
    /// `transport` None: requests only go to the sinks (`render`, the Prometheus endpoint alone).
    pub fn new(transport: Option<Transport>, timeout: Duration, max_batches: usize) -> Self {
        BufferedExporter {
            transport,
            runtime: tokio::runtime::Handle::try_current().ok(),
            timeout,
            max_batches: max_batches.max(1),
            shared: Arc::new(Shared {
                queue: Mutex::new(VecDeque::new()),
                sending: tokio::sync::Mutex::new(()),
                retrying: AtomicBool::new(false),
            }),
            stats: Arc::default(),
            sinks: Vec::new(),
        }
    }

    /// Also hands every collected request to `sink`.
    pub fn with_sink(mut self, sink: RequestSink) -> Self {
        self.sinks.push(sink);
        self
    }

    pub fn stats(&self) -> Arc<ExportStats> {
        self.stats.clone()
    }

    /// Requests waiting to be delivered.
    pub fn buffered(&self) -> usize {
        self.shared.queue.lock().len()
    }

    fn enqueue(&self, request: ExportMetricsServiceRequest) {
        let mut queue = self.shared.queue.lock();
        queue.push_back(request);
        let excess = queue.len().saturating_sub(self.max_batches);
        if excess > 0 {
            queue.drain(..excess);
            self.stats.dropped.fetch_add(excess as u64, Ordering::Relaxed);
            tracing::warn!(dropped = excess, "export buffer full; dropped the oldest exports");
        }
    }

    /// Sends queued requests oldest first until one fails or the queue is empty.
    pub async fn flush_queue(&self) -> Result<(), String> {
        let Some(transport) = &self.transport else { return Ok(()) };
        let _order = self.shared.sending.lock().await;
        loop {
            let Some(next) = self.shared.queue.lock().front().cloned() else { return Ok(()) };
            let points = count_points(&next);
            match transport.send(next, self.timeout).await {
                Ok(()) => {
                    self.shared.queue.lock().pop_front();
                    self.stats.points.fetch_add(points, Ordering::Relaxed);
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(e.to_string());
                }
            }
        }
    }

    async fn export_request(&self, request: ExportMetricsServiceRequest) -> OTelSdkResult {
        if let Some(cycle) = self.stats.cycle.finish(count_points(&request)) {
            tracing::debug!(
                points = cycle.points,
                wall_ms = cycle.wall.as_secs_f64() * 1e3,
                cpu_ms = cycle.cpu.as_secs_f64() * 1e3,
                "export collected and converted"
            );
        }
        for sink in &self.sinks {
            sink(&request);
        }
        if self.transport.is_none() {
            return Ok(());
        }
        self.enqueue(request);
        let this = self.clone();
        let result = match &self.runtime {
            // The periodic reader polls us from its own thread; the network I/O needs the runtime.
            Some(rt) => {
                rt.spawn(async move { this.flush_queue().await }).await.unwrap_or_else(|e| Err(e.to_string()))
            }
            None => this.flush_queue().await,
        };
        result.map_err(|e| {
            tracing::warn!(error = %e, buffered = self.buffered(), "export failed; kept for retry");
            self.retry_in_background();
            OTelSdkError::InternalFailure(e)
        })
    }

    /// Retries the queue with exponential backoff until it is empty, so kept exports reach
    /// the Collector soon after it is back rather than only at the next interval.
    fn retry_in_background(&self) {
        let Some(rt) = &self.runtime else { return };
        if self.shared.retrying.swap(true, Ordering::SeqCst) {
            return;
        }
        let this = self.clone();
        rt.spawn(async move {
            let mut wait = RETRY_FIRST;
            loop {
                tokio::time::sleep(wait).await;
                if this.flush_queue().await.is_ok() {
                    break;
                }
                wait = retry_delay(wait);
            }
            this.shared.retrying.store(false, Ordering::SeqCst);
        });
    }
}

/// The next wait after `wait`: doubled, at most `RETRY_MAX`.
fn retry_delay(wait: Duration) -> Duration {
    (wait * 2).min(RETRY_MAX)
}

/// Number of data points in a request (the `export.points` self-metric).
pub fn count_points(request: &ExportMetricsServiceRequest) -> u64 {
    let mut n = 0u64;
    for rm in &request.resource_metrics {
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                n += match &m.data {
                    Some(Data::Gauge(g)) => g.data_points.len(),
                    Some(Data::Sum(s)) => s.data_points.len(),
                    Some(Data::Histogram(h)) => h.data_points.len(),
                    Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
                    Some(Data::Summary(s)) => s.data_points.len(),
                    None => 0,
                } as u64;
            }
        }
    }
    n
}

impl PushMetricExporter for BufferedExporter {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        self.export_request(ExportMetricsServiceRequest::from(metrics)).await
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }

    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_double_up_to_the_cap() {
        let mut wait = RETRY_FIRST;
        let mut seen = vec![wait];
        for _ in 0..8 {
            wait = retry_delay(wait);
            seen.push(wait);
        }
        assert_eq!(seen[1], Duration::from_secs(1));
        assert_eq!(seen[6], Duration::from_secs(30));
        assert_eq!(*seen.last().unwrap(), RETRY_MAX);
    }
}
