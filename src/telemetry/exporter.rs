//! The metric exporter the SDK's periodic reader calls: each collection becomes an OTLP request
//! at once (so it keeps its original timestamps), joins a bounded queue, and the queue is sent
//! oldest first. A failed send leaves the request queued for the next attempt; when the queue is
//! full the oldest request is dropped and counted.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, ResourceMetrics as ProtoResourceMetrics, ScopeMetrics,
};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::Temporality;
use parking_lot::Mutex;
use prost::Message;

use super::cycle::CycleClock;
use super::transport::Transport;
use crate::series::otlp::{
    merge_metrics, EncodedRequest, Envelope, ExportTimes, SeriesChunks, MAX_POINTS_PER_REQUEST,
};
use crate::series::MetricsRegistry;

/// Where converted requests go besides (or instead of) the Collector. A sink gets each
/// export whole, as one request.
pub type RequestSink = Arc<dyn Fn(&ExportMetricsServiceRequest) + Send + Sync>;

/// Running totals, read by the `kube_state_otel.export.*` self-metrics.
#[derive(Debug, Default)]
pub struct ExportStats {
    pub points: AtomicU64,
    pub failures: AtomicU64,
    pub dropped: AtomicU64,
    /// Collection plus encoding of each export (`kube_state_otel.export.duration`).
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
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Buffers and sends OTLP metric requests.
#[derive(Clone)]
pub struct BufferedExporter {
    runtime: Option<tokio::runtime::Handle>,
    shared: Arc<Shared>,
    stats: Arc<ExportStats>,
    sinks: Vec<RequestSink>,
    registry: MetricsRegistry,
    /// Start time of the cumulative series.
    started_unix_nano: u64,
}

fn unix_nano(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

impl BufferedExporter {
    /// `transport` None: requests only go to the sinks (`render`, the Prometheus endpoint alone).
    /// `max_batches` is the number of exports kept while the Collector is unreachable.
    pub fn new(transport: Option<Transport>, timeout: Duration, max_batches: usize) -> Self {
        BufferedExporter {
            runtime: tokio::runtime::Handle::try_current().ok(),
            shared: Arc::new(Shared {
                settings: Mutex::new(Settings { transport, timeout, max_batches: max_batches.max(1) }),
                queue: Mutex::new(VecDeque::new()),
                sending: tokio::sync::Mutex::new(()),
                retrying: AtomicBool::new(false),
            }),
            stats: Arc::default(),
            sinks: Vec::new(),
            registry: MetricsRegistry::new(),
            started_unix_nano: unix_nano(SystemTime::now()),
        }
    }

    /// Also hands every export, whole, to `sink`.
    pub fn with_sink(mut self, sink: RequestSink) -> Self {
        self.sinks.push(sink);
        self
    }

    /// Sends from now on through `transport` (None: OTLP off), with this deadline and buffer
    /// size (a config reload). Requests already buffered are sent through the new transport.
    pub fn reconfigure(&self, transport: Option<Transport>, timeout: Duration, max_batches: usize) {
        *self.shared.settings.lock() = Settings { transport, timeout, max_batches: max_batches.max(1) };
    }

    /// The series tables this exporter sends with each export, besides the SDK's metrics.
    pub fn registry(&self) -> MetricsRegistry {
        self.registry.clone()
    }

    /// Adds every series table's points, as of now, to `request` (a Prometheus scrape: one
    /// whole request, not chunks).
    pub fn append_series(&self, request: &mut ExportMetricsServiceRequest) -> Result<(), String> {
        let mut chunks = self.series_chunks(request);
        while let Some(chunk) = chunks.next_chunk() {
            merge_chunk(request, &chunk)?;
        }
        Ok(())
    }

    /// The series tables as of now, chunked, under the resource and scope of `request`.
    fn series_chunks(&self, request: &mut ExportMetricsServiceRequest) -> SeriesChunks {
        let times = ExportTimes {
            start_unix_nano: self.started_unix_nano,
            now_unix_nano: unix_nano(SystemTime::now()),
        };
        SeriesChunks::new(&self.registry, times, envelope_of(request), MAX_POINTS_PER_REQUEST)
    }

    pub fn stats(&self) -> Arc<ExportStats> {
        self.stats.clone()
    }

    /// Exports waiting to be delivered (whole or in part).
    pub fn buffered(&self) -> usize {
        self.shared.queue.lock().iter().filter(|b| !b.is_empty()).count()
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
    pub async fn flush_queue(&self) -> Result<(), String> {
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
            match transport.send(next.bytes, timeout).await {
                Ok(()) => {
                    if let Some(front) = self.shared.queue.lock().front_mut() {
                        front.pop_front();
                    }
                    self.stats.points.fetch_add(next.points, Ordering::Relaxed);
                }
                Err(e) => {
                    self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    return Err(e.to_string());
                }
            }
        }
    }

    /// Flushes the queue on the runtime (the periodic reader polls us from its own thread;
    /// the network I/O needs the runtime).
    async fn flush_on_runtime(&self) -> Result<(), String> {
        let this = self.clone();
        match &self.runtime {
            Some(rt) => {
                rt.spawn(async move { this.flush_queue().await }).await.unwrap_or_else(|e| Err(e.to_string()))
            }
            None => this.flush_queue().await,
        }
    }

    /// Builds the export a chunk at a time (the SDK's metrics and the series tables) and sends
    /// each chunk before building the next, so only one is held while the Collector keeps up.
    async fn export_metrics(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let mut first = ExportMetricsServiceRequest::from(metrics);
        let mut chunks = self.series_chunks(&mut first);
        let mut whole = (!self.sinks.is_empty()).then(|| first.clone());
        let own = EncodedRequest { points: count_points(&first), bytes: first.encode_to_vec().into() };
        drop(first);
        // The agent's own metrics travel with the first series chunk, so a small export is one
        // request and every request with the self-metrics also has series.
        let encoded = match chunks.next_chunk() {
            Some(chunk) => {
                if let Some(whole) = &mut whole {
                    merge_chunk(whole, &chunk).map_err(OTelSdkError::InternalFailure)?;
                }
                joined(&own, &chunk)
            }
            None => own,
        };
        let sending = self.shared.settings.lock().transport.is_some();
        if sending {
            self.begin_batch();
        }
        let (mut points, mut waited, mut failure) = (0u64, Duration::ZERO, None);
        let mut next = Some(encoded);
        while let Some(request) = next.take() {
            points += request.points;
            if sending {
                self.enqueue(request);
                if failure.is_none() {
                    let flush_started = Instant::now();
                    failure = self.flush_on_runtime().await.err();
                    waited += flush_started.elapsed();
                }
            }
            next = chunks.next_chunk();
            if let (Some(whole), Some(chunk)) = (&mut whole, &next) {
                merge_chunk(whole, chunk).map_err(OTelSdkError::InternalFailure)?;
            }
        }
        if let Some(cycle) = self.stats.cycle.finish(points, waited) {
            tracing::debug!(
                points = cycle.points,
                wall_ms = cycle.wall.as_secs_f64() * 1e3,
                cpu_ms = cycle.cpu.as_secs_f64() * 1e3,
                "export collected and encoded"
            );
        }
        if let Some(whole) = &whole {
            for sink in &self.sinks {
                sink(whole);
            }
        }
        match failure {
            None => Ok(()),
            Some(e) => {
                tracing::warn!(error = %e, buffered = self.buffered(), "export failed; kept for retry");
                self.retry_in_background();
                Err(OTelSdkError::InternalFailure(e))
            }
        }
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

/// One request made of two: protobuf appends the repeated `resource_metrics` of concatenated
/// messages, so the result carries both (each with its resource and scope).
fn joined(first: &EncodedRequest, second: &EncodedRequest) -> EncodedRequest {
    let mut bytes = Vec::with_capacity(first.bytes.len() + second.bytes.len());
    bytes.extend_from_slice(&first.bytes);
    bytes.extend_from_slice(&second.bytes);
    EncodedRequest { bytes: bytes.into(), points: first.points + second.points }
}

/// Adds the metrics of an encoded chunk to `whole` (for sinks and scrapes, which want one
/// request).
fn merge_chunk(whole: &mut ExportMetricsServiceRequest, chunk: &EncodedRequest) -> Result<(), String> {
    let decoded = ExportMetricsServiceRequest::decode(chunk.bytes.clone()).map_err(|e| e.to_string())?;
    let metrics = decoded.resource_metrics.into_iter().flat_map(|rm| rm.scope_metrics);
    merge_metrics(scope_metrics_of(whole), metrics.flat_map(|sm| sm.metrics).collect());
    Ok(())
}

/// The metrics of the request's first scope (created if the SDK had none).
fn scope_metrics_of(request: &mut ExportMetricsServiceRequest) -> &mut Vec<Metric> {
    if request.resource_metrics.is_empty() {
        request.resource_metrics.push(ProtoResourceMetrics::default());
    }
    let rm = &mut request.resource_metrics[0];
    if rm.scope_metrics.is_empty() {
        rm.scope_metrics.push(ScopeMetrics::default());
    }
    &mut rm.scope_metrics[0].metrics
}

/// The first request's resource and scope, encoded, for the series chunks.
fn envelope_of(request: &mut ExportMetricsServiceRequest) -> Envelope {
    scope_metrics_of(request);
    let rm = &request.resource_metrics[0];
    Envelope {
        resource: rm.resource.as_ref().map(Message::encode_to_vec).unwrap_or_default(),
        scope: rm.scope_metrics[0].scope.as_ref().map(Message::encode_to_vec).unwrap_or_default(),
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
        self.export_metrics(metrics).await
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

    #[test]
    fn joined_requests_decode_as_one_with_both_resource_metrics() {
        use opentelemetry_proto::tonic::metrics::v1::{Gauge, NumberDataPoint};
        let request = |name: &str| ExportMetricsServiceRequest {
            resource_metrics: vec![ProtoResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: name.into(),
                        data: Some(Data::Gauge(Gauge { data_points: vec![NumberDataPoint::default()] })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let encode =
            |r: ExportMetricsServiceRequest| EncodedRequest { points: 1, bytes: r.encode_to_vec().into() };
        let both = joined(&encode(request("own")), &encode(request("series")));
        assert_eq!(both.points, 2);
        let decoded = ExportMetricsServiceRequest::decode(both.bytes).unwrap();
        let names: Vec<&str> = decoded
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.name.as_str())
            .collect();
        assert_eq!(names, ["own", "series"]);
    }
}
