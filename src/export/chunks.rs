//! Series straight into encoded OTLP requests of bounded size.
//!
//! An export of a million points is built and sent a chunk at a time, so the agent never holds
//! more than one chunk, and each request stays under the Collector's default 4 MiB gRPC message
//! limit. Points are written once, directly as protobuf (`encode`), their attributes copied as the
//! tables keep them, already encoded, into buffers kept for the whole export; each chunk is then
//! copied once into the buffer it is sent from (`frame`).

use super::encode::{self, EncodedMetric, Shape};
use super::envelope::{Envelope, ExportTimes};
use super::frame::EncodedRequest;
use super::reader::{MetricRef, PointSink, TableReader};
use crate::series::{InstrumentKind, MetricSpec};

/// Points per request: about 2 MiB encoded with typical attributes, half the Collector's
/// default gRPC limit.
pub const MAX_POINTS_PER_REQUEST: usize = 16_384;

/// Points of each metric of the chunk being built, in the order OTLP carries them (grouped by
/// metric). The buffers stay from one chunk to the next of an export, emptied but not freed, so
/// only the first chunk grows them; they are freed with the export's snapshot, so nothing
/// proportional to the objects stays between exports.
pub(super) struct Chunks {
    times: ExportTimes,
    /// By `MetricRef::index`: each metric seen in the read so far, with its points in this chunk.
    metrics: Vec<Option<Staged>>,
    /// The metrics with points in this chunk, in the order their first points came.
    order: Vec<usize>,
    points: usize,
    /// The last request encoded, whose buffer the next one reuses once it was delivered, so
    /// an export maps its send buffer once rather than once per request.
    last: Option<EncodedRequest>,
}

/// One metric and its points in the chunk being built, each written by `encode::put_point`.
struct Staged {
    spec: MetricSpec,
    points: Vec<u8>,
}

impl PointSink for Chunks {
    fn push(&mut self, metric: MetricRef<'_>, value: f64, shared: &[u8], rest: &[u8]) {
        if self.metrics.len() <= metric.index {
            self.metrics.resize_with(metric.index + 1, || None);
        }
        let staged = self.metrics[metric.index]
            .get_or_insert_with(|| Staged { spec: metric.spec.clone(), points: Vec::new() });
        if staged.points.is_empty() {
            self.order.push(metric.index);
            // A chunk's metric is described as its first point there says (tables exporting
            // one name may describe it differently).
            if staged.spec != *metric.spec {
                staged.spec.clone_from(metric.spec);
            }
        }
        let times = (self.times.start_unix_nano, self.times.now_unix_nano);
        encode::put_point(&mut staged.points, shared, rest, times, value);
        self.points += 1;
    }

    fn points(&self) -> usize {
        self.points
    }
}

impl Chunks {
    pub(super) fn new(times: ExportTimes) -> Self {
        Chunks { times, metrics: Vec::new(), order: Vec::new(), points: 0, last: None }
    }

    /// Encodes the rest of `reader` into the next request of about `max_points` points, after
    /// `preamble` (an encoded request of its own, with its points) when there is one; `None`
    /// when there is neither.
    pub(super) fn next(
        &mut self,
        reader: &mut TableReader,
        envelope: &Envelope,
        max_points: usize,
        preamble: Option<(&[u8], u64)>,
    ) -> Option<EncodedRequest> {
        reader.fill(self, max_points.max(1));
        let buffer = self.last.take().and_then(EncodedRequest::into_buffer).unwrap_or_default();
        let request = if self.points == 0 {
            let (bytes, points) = preamble?;
            EncodedRequest::write(buffer, bytes.len(), points, |buf| buf.extend_from_slice(bytes))
        } else {
            let (preamble, preamble_points) = preamble.unwrap_or_default();
            let metrics: Vec<EncodedMetric> =
                self.order.iter().filter_map(|&i| self.metrics[i].as_ref()).map(Staged::encoded).collect();
            let (resource, scope) = (envelope.resource_bytes(), envelope.scope_bytes());
            let len = encode::request_len(resource, scope, &metrics);
            let points = preamble_points + self.points as u64;
            EncodedRequest::write(buffer, preamble.len() + len.request, points, |buf| {
                buf.extend_from_slice(preamble);
                encode::put_request(buf, len, resource, scope, &metrics);
            })
        };
        for &i in &self.order {
            if let Some(staged) = &mut self.metrics[i] {
                staged.points.clear();
            }
        }
        self.order.clear();
        self.points = 0;
        self.last = Some(request.clone());
        Some(request)
    }
}

impl Staged {
    fn encoded(&self) -> EncodedMetric<'_> {
        EncodedMetric {
            name: &self.spec.name,
            description: &self.spec.description,
            unit: &self.spec.unit,
            shape: match self.spec.kind {
                InstrumentKind::Gauge => Shape::Gauge,
                InstrumentKind::Counter => Shape::Sum { monotonic: true },
                InstrumentKind::UpDownCounter => Shape::Sum { monotonic: false },
            },
            points: &self.points,
        }
    }
}
