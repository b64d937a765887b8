//! An OTLP metrics receiver for tests, built on `opentelemetry-proto`'s generated gRPC server
//! and an HTTP `/v1/metrics` handler. It records every request and can be told to refuse.
//! Its gRPC port also takes spans (the trace service), recorded apart and never refused.
//! For big exports (the scale harness) it can keep only some metrics of each request, plus
//! when each request arrived and how many points it had.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{any_value, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point, Metric};
use parking_lot::Mutex;
use prost::Message;
use tokio_util::sync::CancellationToken;

use crate::counted_io::CountedIo;

/// One request as received, with the metadata/headers that came with it.
#[derive(Debug, Clone)]
pub struct Received {
    pub request: ExportMetricsServiceRequest,
    pub headers: Vec<(String, String)>,
}

/// When a request arrived and its size.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub at: std::time::Instant,
    pub points: u64,
    pub encoded_bytes: usize,
    /// Metrics left after the filter (all of them without one).
    pub kept_metrics: usize,
}

/// Which metrics of each request are kept in [`OtlpReceiver::received`].
pub type MetricFilter = fn(&Metric) -> bool;

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    spans: Mutex<Vec<ExportTraceServiceRequest>>,
    arrivals: Mutex<Vec<Arrival>>,
    keep: Option<MetricFilter>,
    refuse: AtomicBool,
    /// Requests kept in `received` (0: all).
    keep_last: AtomicUsize,
    notify: tokio::sync::Notify,
    /// Bytes read from the gRPC connections.
    grpc_wire_bytes: Arc<AtomicU64>,
}

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    state: Arc<State>,
    grpc_addr: SocketAddr,
    http_addr: SocketAddr,
    stop: CancellationToken,
}

/// A data point found in the recorded requests.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundPoint {
    pub value: f64,
    pub attributes: Vec<(String, String)>,
    pub time_unix_nano: u64,
    pub start_time_unix_nano: u64,
}

impl OtlpReceiver {
    /// Starts gRPC and HTTP listeners on free loopback ports.
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Like [`OtlpReceiver::start`], keeping only the metrics `keep` accepts (all if `None`).
    /// gRPC requests of any size are accepted; a compressed request is answered compressed the
    /// same way, as the Collector (grpc-go) answers.
    pub async fn start_with(keep: Option<MetricFilter>) -> Self {
        let state = Arc::new(State { keep, ..State::default() });
        let stop = CancellationToken::new();
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let grpc_addr = grpc.local_addr().expect("addr");
        let service = MetricsServiceServer::new(GrpcService(state.clone()))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd)
            .send_compressed(tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(tonic::codec::CompressionEncoding::Zstd)
            .max_decoding_message_size(usize::MAX);
        let traces = TraceServiceServer::new(GrpcService(state.clone()))
            .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
            .accept_compressed(tonic::codec::CompressionEncoding::Zstd);
        let s = stop.clone();
        let counter = state.grpc_wire_bytes.clone();
        tokio::spawn(async move {
            let incoming = tokio_stream::StreamExt::map(
                tokio_stream::wrappers::TcpListenerStream::new(grpc),
                move |connection| connection.map(|io| CountedIo::new(io, counter.clone())),
            );
            let _ = tonic::transport::Server::builder()
                .add_service(service)
                .add_service(traces)
                .serve_with_incoming_shutdown(incoming, s.cancelled_owned())
                .await;
        });
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let http_addr = http.local_addr().expect("addr");
        let app = axum::Router::new()
            .route("/v1/metrics", axum::routing::post(http_export))
            .with_state(state.clone());
        let s = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(http, app).with_graceful_shutdown(s.cancelled_owned()).await;
        });
        OtlpReceiver { state, grpc_addr, http_addr, stop }
    }

    /// Base URL for `protocol: grpc`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_addr)
    }

    /// Base URL for `protocol: http/protobuf` (the exporter appends `/v1/metrics`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_addr)
    }

    /// Bytes received on the gRPC port so far, as sent on the wire: compressed payloads with
    /// their HTTP/2 and gRPC framing.
    pub fn grpc_wire_bytes(&self) -> u64 {
        self.state.grpc_wire_bytes.load(Ordering::Relaxed)
    }

    /// While true, every export is answered with UNAVAILABLE / HTTP 503 and not recorded.
    pub fn set_refuse(&self, refuse: bool) {
        self.state.refuse.store(refuse, Ordering::SeqCst);
    }

    /// Keeps only the newest `n` requests in [`OtlpReceiver::received`] from now on, for tests
    /// that export many big requests and look only at the latest.
    pub fn keep_only_last(&self, n: usize) {
        self.state.keep_last.store(n, Ordering::SeqCst);
    }

    /// The newest accepted request.
    pub fn latest(&self) -> Option<Received> {
        self.state.received.lock().last().cloned()
    }

    /// Waits until `check` holds (checked at each request received), or panics after
    /// `timeout`; unlike [`OtlpReceiver::wait_for`] it copies nothing.
    pub async fn wait_until(&self, timeout: Duration, what: &str, check: impl Fn() -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.notify.notified();
            if check() {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("timed out after {timeout:?} waiting for {what}");
            }
        }
    }

    /// Every accepted request so far.
    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().clone()
    }

    /// Arrival time and size of every accepted request so far, in the order of
    /// [`OtlpReceiver::received`] (the same index is the same request while nothing is dropped
    /// by [`OtlpReceiver::keep_only_last`]).
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.state.arrivals.lock().clone()
    }

    /// Every span export received so far (gRPC).
    pub fn spans(&self) -> Vec<ExportTraceServiceRequest> {
        self.state.spans.lock().clone()
    }

    pub fn requests(&self) -> Vec<ExportMetricsServiceRequest> {
        self.received().into_iter().map(|r| r.request).collect()
    }

    /// Waits until `check` holds for the recorded requests, or panics after `timeout`.
    pub async fn wait_for(&self, timeout: Duration, what: &str, check: impl Fn(&[Received]) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.notify.notified();
            // A snapshot, so `check` may call back into the receiver.
            if check(&self.received()) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; received {} requests",
                    self.received().len()
                );
            }
        }
    }

    /// Waits for a request containing the metric `name`, then returns the latest such metric.
    pub async fn wait_for_metric(&self, name: &str, timeout: Duration) -> Metric {
        self.wait_for(timeout, name, |r| r.iter().any(|r| find_metric(&r.request, name).is_some())).await;
        self.latest_metric(name).expect("metric present")
    }

    /// The metric `name` from the most recent request that has it.
    pub fn latest_metric(&self, name: &str) -> Option<Metric> {
        self.received().iter().rev().find_map(|r| find_metric(&r.request, name).cloned())
    }

    /// Resource attributes of the most recent request.
    pub fn latest_resource(&self) -> Vec<(String, String)> {
        self.received()
            .last()
            .and_then(|r| r.request.resource_metrics.first().cloned())
            .and_then(|rm| rm.resource)
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default()
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// The metric `name` in a request.
pub fn find_metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> Option<&'a Metric> {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .find(|m| m.name == name)
}

/// Attributes as sorted text pairs.
pub fn attributes(kvs: &[KeyValue]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = kvs
        .iter()
        .map(|kv| (kv.key.clone(), any_to_string(kv.value.as_ref().and_then(|v| v.value.as_ref()))))
        .collect();
    out.sort();
    out
}

fn any_to_string(v: Option<&any_value::Value>) -> String {
    match v {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

/// All number data points of a gauge or sum metric.
pub fn points(metric: &Metric) -> Vec<FoundPoint> {
    let dps = match &metric.data {
        Some(metric::Data::Gauge(g)) => &g.data_points,
        Some(metric::Data::Sum(s)) => &s.data_points,
        _ => return Vec::new(),
    };
    dps.iter()
        .map(|p| FoundPoint {
            value: match p.value {
                Some(number_data_point::Value::AsDouble(d)) => d,
                Some(number_data_point::Value::AsInt(i)) => i as f64,
                None => f64::NAN,
            },
            attributes: attributes(&p.attributes),
            time_unix_nano: p.time_unix_nano,
            start_time_unix_nano: p.start_time_unix_nano,
        })
        .collect()
}

/// The value of the point whose attributes include every `(key, value)` in `wanted`.
pub fn value_where(metric: &Metric, wanted: &[(&str, &str)]) -> Option<f64> {
    points(metric)
        .into_iter()
        .find(|p| wanted.iter().all(|(k, v)| p.attributes.iter().any(|(pk, pv)| pk == k && pv == v)))
        .map(|p| p.value)
}

struct GrpcService(Arc<State>);

#[tonic::async_trait]
impl MetricsService for GrpcService {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        if self.0.refuse.load(Ordering::SeqCst) {
            return Err(tonic::Status::unavailable("receiver told to refuse"));
        }
        let headers = request
            .metadata()
            .iter()
            .filter_map(|kv| match kv {
                tonic::metadata::KeyAndValueRef::Ascii(k, v) => {
                    Some((k.to_string(), v.to_str().unwrap_or("").to_owned()))
                }
                _ => None,
            })
            .collect();
        record(&self.0, Received { request: request.into_inner(), headers });
        Ok(tonic::Response::new(ExportMetricsServiceResponse { partial_success: None }))
    }
}

#[tonic::async_trait]
impl TraceService for GrpcService {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.spans.lock().push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse { partial_success: None }))
    }
}

/// Data points in a request, over resource_metrics → scope_metrics → metrics, for every data
/// kind. The kit's own copy of the agent's count, so that the kit does not depend on the agent.
pub fn count_points(request: &ExportMetricsServiceRequest) -> u64 {
    let mut n = 0u64;
    for sm in request.resource_metrics.iter().flat_map(|rm| &rm.scope_metrics) {
        for m in &sm.metrics {
            n += match &m.data {
                Some(metric::Data::Gauge(g)) => g.data_points.len(),
                Some(metric::Data::Sum(s)) => s.data_points.len(),
                Some(metric::Data::Histogram(h)) => h.data_points.len(),
                Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
                Some(metric::Data::Summary(s)) => s.data_points.len(),
                None => 0,
            } as u64;
        }
    }
    n
}

fn record(state: &State, mut received: Received) {
    let at = std::time::Instant::now();
    let points = count_points(&received.request);
    let encoded_bytes = received.request.encoded_len();
    let mut kept_metrics = 0;
    for sm in received.request.resource_metrics.iter_mut().flat_map(|rm| &mut rm.scope_metrics) {
        if let Some(keep) = state.keep {
            sm.metrics.retain(keep);
        }
        kept_metrics += sm.metrics.len();
    }
    // Both pushed under the `received` lock, so a request has the same index in both.
    let mut kept = state.received.lock();
    state.arrivals.lock().push(Arrival { at, points, encoded_bytes, kept_metrics });
    kept.push(received);
    let keep_last = state.keep_last.load(Ordering::SeqCst);
    if keep_last > 0 && kept.len() > keep_last {
        let excess = kept.len() - keep_last;
        kept.drain(..excess);
    }
    drop(kept);
    state.notify.notify_waiters();
}

async fn http_export(
    axum::extract::State(state): axum::extract::State<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Vec<u8>) {
    if state.refuse.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, b"receiver told to refuse".to_vec());
    }
    let encoding = headers.get("content-encoding").map(|v| v.as_bytes());
    let raw = match encoding {
        Some(b"gzip") => {
            let mut out = Vec::new();
            if std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut out).is_err() {
                return (StatusCode::BAD_REQUEST, b"bad gzip".to_vec());
            }
            out
        }
        Some(b"zstd") => match zstd::decode_all(&body[..]) {
            Ok(out) => out,
            Err(_) => return (StatusCode::BAD_REQUEST, b"bad zstd".to_vec()),
        },
        Some(b"identity") | None => body.to_vec(),
        Some(_) => return (StatusCode::UNSUPPORTED_MEDIA_TYPE, b"unsupported content-encoding".to_vec()),
    };
    let Ok(request) = ExportMetricsServiceRequest::decode(&raw[..]) else {
        return (StatusCode::BAD_REQUEST, b"not an ExportMetricsServiceRequest".to_vec());
    };
    let headers = headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
    record(&state, Received { request, headers });
    (StatusCode::OK, ExportMetricsServiceResponse { partial_success: None }.encode_to_vec())
}
