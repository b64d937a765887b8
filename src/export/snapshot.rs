//! One read of everything an export carries: the agent's own metrics, collected once, and the
//! series tables, read as the consumer asks. The OTLP push takes it as encoded chunks; a
//! `/metrics` scrape and `render` take it as one request.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::{ResourceMetrics, ScopeMetrics};
use prost::Message;

use super::chunks::{Chunks, MAX_POINTS_PER_REQUEST};
use super::envelope::{Envelope, ExportTimes};
use super::frame::EncodedRequest;
use super::reader::TableReader;
use super::whole::WholeMetrics;
use crate::series::MetricsRegistry;

/// The agent's own metrics and the series tables as of one moment.
pub struct Snapshot {
    /// The agent's own metrics; `None` where there are none (`render`).
    own: Option<ExportMetricsServiceRequest>,
    series: TableReader,
    /// The buffers the series are encoded in, kept from one request to the next.
    chunks: Chunks,
    times: ExportTimes,
    envelope: Arc<Envelope>,
    max_points: usize,
}

impl Snapshot {
    /// Starts reading `registry`'s tables now; `own` is the agent's own metrics collected now.
    pub fn new(
        registry: &MetricsRegistry,
        own: Option<ExportMetricsServiceRequest>,
        envelope: Arc<Envelope>,
        times: ExportTimes,
    ) -> Self {
        Snapshot {
            own,
            series: TableReader::new(registry),
            chunks: Chunks::new(times),
            times,
            envelope,
            max_points: MAX_POINTS_PER_REQUEST,
        }
    }

    /// Requests of at most about `max_points` points each (tests and benches use small ones).
    pub fn with_max_points(mut self, max_points: usize) -> Self {
        self.max_points = max_points;
        self
    }

    /// The next request to send, `None` when all was taken. The agent's own metrics travel
    /// with the first series chunk (written in front of it: protobuf appends the repeated
    /// `resource_metrics` of concatenated requests), so a small export is one request and every
    /// request with the self-metrics also has series.
    pub fn next_request(&mut self) -> Option<EncodedRequest> {
        let own = self.own.take().map(|own| (own.encode_to_vec(), count_points(&own)));
        let preamble = own.as_ref().map(|(bytes, points)| (&bytes[..], *points));
        self.chunks.next(&mut self.series, &self.envelope, self.max_points, preamble)
    }

    /// Whether every request has been taken.
    pub fn is_done(&self) -> bool {
        self.own.is_none() && self.series.is_done()
    }

    /// Everything as one request: the series join the first scope of the agent's own metrics
    /// (same resource and scope), one OTLP metric per name.
    pub fn into_request(mut self) -> ExportMetricsServiceRequest {
        let mut whole = WholeMetrics::new(self.times);
        self.series.fill(&mut whole, usize::MAX);
        let mut request = self.own.take().unwrap_or_default();
        if request.resource_metrics.is_empty() {
            request.resource_metrics.push(ResourceMetrics {
                resource: Some(self.envelope.resource().clone()),
                ..Default::default()
            });
        }
        let first = &mut request.resource_metrics[0];
        if first.scope_metrics.is_empty() {
            first
                .scope_metrics
                .push(ScopeMetrics { scope: Some(self.envelope.scope().clone()), ..Default::default() });
        }
        first.scope_metrics[0].metrics.extend(whole.into_metrics());
        request
    }
}

/// Number of data points in a request (the `export.points` self-metric).
pub fn count_points(request: &ExportMetricsServiceRequest) -> u64 {
    let metrics = request.resource_metrics.iter().flat_map(|rm| &rm.scope_metrics).flat_map(|sm| &sm.metrics);
    metrics
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            Some(Data::Histogram(h)) => h.data_points.len(),
            Some(Data::ExponentialHistogram(h)) => h.data_points.len(),
            Some(Data::Summary(s)) => s.data_points.len(),
            None => 0,
        } as u64)
        .sum()
}
