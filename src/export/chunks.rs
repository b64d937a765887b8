//! Series straight into encoded OTLP requests of bounded size.
//!
//! An export of a million points is built and sent a chunk at a time, so the agent never holds
//! more than one chunk, and each request stays under the Collector's default 4 MiB gRPC message
//! limit. Points are written once, directly as protobuf (`encode`), their attributes copied as the
//! tables keep them, already encoded.

use super::encode::{self, EncodedMetric, Shape};
use super::envelope::{Envelope, ExportTimes};
use super::reader::{MetricRef, PointSink, TableReader};
use crate::series::{InstrumentKind, MetricSpec};

/// Points per request: about 2 MiB encoded with typical attributes, half the Collector's
/// default gRPC limit.
pub const MAX_POINTS_PER_REQUEST: usize = 16_384;

/// An encoded `ExportMetricsServiceRequest` and its number of points.
#[derive(Clone, Debug)]
pub struct EncodedRequest {
    pub bytes: bytes::Bytes,
    pub points: u64,
}

impl EncodedRequest {
    /// One request made of two: protobuf appends the repeated `resource_metrics` of
    /// concatenated messages, so the result carries both (each with its resource and scope).
    pub fn joined(&self, second: &EncodedRequest) -> EncodedRequest {
        let mut bytes = Vec::with_capacity(self.bytes.len() + second.bytes.len());
        bytes.extend_from_slice(&self.bytes);
        bytes.extend_from_slice(&second.bytes);
        EncodedRequest { bytes: bytes.into(), points: self.points + second.points }
    }
}

/// Encodes the rest of `reader` into the next request of about `max_points` points; `None`
/// when nothing is left.
pub(super) fn next_chunk(
    reader: &mut TableReader,
    times: ExportTimes,
    envelope: &Envelope,
    max_points: usize,
) -> Option<EncodedRequest> {
    let mut chunk = Chunk::new(times);
    reader.fill(&mut chunk, max_points.max(1));
    (chunk.points > 0).then(|| chunk.encode(envelope))
}

/// Encoded points of each metric of one request.
struct Chunk {
    times: ExportTimes,
    metrics: Vec<(MetricSpec, Vec<u8>)>,
    /// Where each metric of the read (by `MetricRef::index`) is in `metrics`, if it is yet.
    slots: Vec<Option<usize>>,
    points: usize,
}

impl PointSink for Chunk {
    fn push(&mut self, metric: MetricRef<'_>, value: f64, shared: &[u8], rest: &[u8]) {
        if self.slots.len() <= metric.index {
            self.slots.resize(metric.index + 1, None);
        }
        let i = match self.slots[metric.index] {
            Some(i) => i,
            None => {
                self.metrics.push((metric.spec.clone(), Vec::new()));
                self.slots[metric.index] = Some(self.metrics.len() - 1);
                self.metrics.len() - 1
            }
        };
        let times = (self.times.start_unix_nano, self.times.now_unix_nano);
        encode::put_point(&mut self.metrics[i].1, shared, rest, times, value);
        self.points += 1;
    }

    fn points(&self) -> usize {
        self.points
    }
}

impl Chunk {
    fn new(times: ExportTimes) -> Self {
        Chunk { times, metrics: Vec::new(), slots: Vec::new(), points: 0 }
    }

    fn encode(self, envelope: &Envelope) -> EncodedRequest {
        let metrics: Vec<EncodedMetric> = self
            .metrics
            .iter()
            .map(|(spec, points)| EncodedMetric {
                name: &spec.name,
                description: &spec.description,
                unit: &spec.unit,
                shape: match spec.kind {
                    InstrumentKind::Gauge => Shape::Gauge,
                    InstrumentKind::Counter => Shape::Sum { monotonic: true },
                    InstrumentKind::UpDownCounter => Shape::Sum { monotonic: false },
                },
                points,
            })
            .collect();
        let bytes = encode::request(envelope.resource_bytes(), envelope.scope_bytes(), &metrics);
        EncodedRequest { bytes: bytes.into(), points: self.points as u64 }
    }
}
