//! Series tables straight into OTLP metrics, in chunks of bounded size.
//!
//! An export of a million points is built and sent a chunk at a time, so the agent never holds
//! more than one chunk, and each request stays under the Collector's default 4 MiB gRPC message
//! limit. Chunks are encoded directly (`series::encode`); table locks are held only while one
//! batch of rows is encoded.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::metrics::v1::{metric::Data, Metric, NumberDataPoint};

use super::encode::{self, EncodedMetric, Shape};
use super::registry::MetricsRegistry;
use super::spec::{Aggregation, InstrumentKind, MetricSpec};
use super::table::SeriesTable;

/// Points per request: about 2 MiB encoded with typical attributes, half the Collector's
/// default gRPC limit.
pub const MAX_POINTS_PER_REQUEST: usize = 16_384;

/// Rows copied per table lock.
const ROWS_PER_LOCK: usize = 256;

/// Timestamps of one export: counters' start (the agent's start) and the collection time.
#[derive(Clone, Copy, Debug)]
pub struct ExportTimes {
    pub start_unix_nano: u64,
    pub now_unix_nano: u64,
}

/// What every request of an export carries besides its metrics: the encoded `Resource` and
/// `InstrumentationScope`.
#[derive(Clone, Debug, Default)]
pub struct Envelope {
    pub resource: Vec<u8>,
    pub scope: Vec<u8>,
}

/// One table being read: its key snapshot and how far the export got.
struct Cursor {
    table: Arc<SeriesTable>,
    specs: Vec<MetricSpec>,
    keys: Option<Vec<String>>,
    next_key: usize,
}

/// An encoded `ExportMetricsServiceRequest` and its number of points.
#[derive(Clone, Debug)]
pub struct EncodedRequest {
    pub bytes: bytes::Bytes,
    pub points: u64,
}

/// Produces the registry's series as encoded requests of at most about `max_points` points.
pub struct SeriesChunks {
    cursors: Vec<Cursor>,
    times: ExportTimes,
    envelope: Envelope,
    max_points: usize,
}

impl SeriesChunks {
    /// Starts reading every table attached to `registry` now.
    pub fn new(
        registry: &MetricsRegistry,
        times: ExportTimes,
        envelope: Envelope,
        max_points: usize,
    ) -> Self {
        let mut cursors: Vec<Cursor> = registry
            .tables()
            .into_iter()
            .map(|table| {
                let specs = table.specs().iter().map(|s| registry.exported_spec(s)).collect();
                Cursor { table, specs, keys: None, next_key: 0 }
            })
            .collect();
        cursors.reverse();
        SeriesChunks { cursors, times, envelope, max_points: max_points.max(1) }
    }

    /// The next request, `None` when every table has been read. A request may exceed
    /// `max_points` by one batch of rows (or a summed metric's series).
    pub fn next_chunk(&mut self) -> Option<EncodedRequest> {
        let mut chunk = Chunk::new(self.times);
        while chunk.points < self.max_points {
            let Some(cursor) = self.cursors.last_mut() else { break };
            if cursor.keys.is_none() {
                // Summed metrics first, whole: they have few series.
                for (i, spec) in cursor.specs.iter().enumerate() {
                    if cursor.table.spec(metric_id(i)).aggregation == Aggregation::SumAcrossObjects {
                        cursor.table.observe(metric_id(i), |value, attributes| {
                            chunk.push(spec, value, attributes, &[])
                        });
                    }
                }
                cursor.keys = Some(cursor.table.keys());
                continue;
            }
            let keys = cursor.keys.as_deref().unwrap_or_default();
            if cursor.next_key >= keys.len() {
                self.cursors.pop();
                continue;
            }
            let end = (cursor.next_key + ROWS_PER_LOCK).min(keys.len());
            let (table, specs) = (&cursor.table, &cursor.specs);
            table.visit_rows(&keys[cursor.next_key..end], |metric, value, shared, rest| {
                chunk.push(&specs[metric.0 as usize], value, shared, rest);
            });
            cursor.next_key = end;
        }
        (chunk.points > 0).then(|| chunk.encode(&self.envelope))
    }
}

fn metric_id(i: usize) -> super::MetricId {
    super::MetricId(i as u32)
}

/// Encoded points of each metric of one request.
struct Chunk {
    times: ExportTimes,
    metrics: Vec<(MetricSpec, Vec<u8>)>,
    index: HashMap<String, usize>,
    points: usize,
}

impl Chunk {
    fn new(times: ExportTimes) -> Self {
        Chunk { times, metrics: Vec::new(), index: HashMap::new(), points: 0 }
    }

    /// Adds a point whose attributes are `shared` then `rest`.
    fn push(
        &mut self,
        spec: &MetricSpec,
        value: f64,
        shared: &[opentelemetry::KeyValue],
        rest: &[opentelemetry::KeyValue],
    ) {
        let i = match self.index.get(&spec.name) {
            Some(i) => *i,
            None => {
                self.metrics.push((spec.clone(), Vec::new()));
                self.index.insert(spec.name.clone(), self.metrics.len() - 1);
                self.metrics.len() - 1
            }
        };
        let times = (self.times.start_unix_nano, self.times.now_unix_nano);
        encode::put_point(&mut self.metrics[i].1, shared, rest, times, value);
        self.points += 1;
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
        let bytes = encode::request(&envelope.resource, &envelope.scope, &metrics);
        EncodedRequest { bytes: bytes.into(), points: self.points as u64 }
    }
}

fn data_points(metric: &mut Metric) -> Option<&mut Vec<NumberDataPoint>> {
    match &mut metric.data {
        Some(Data::Gauge(g)) => Some(&mut g.data_points),
        Some(Data::Sum(s)) => Some(&mut s.data_points),
        _ => None,
    }
}

/// Appends `chunk` to `into`, merging each metric into the last one of the same name, so
/// a consumer that needs whole metrics (render, the Prometheus text) gets one per name.
pub fn merge_metrics(into: &mut Vec<Metric>, chunk: Vec<Metric>) {
    for mut metric in chunk {
        let existing = into.iter_mut().position(|m| m.name == metric.name);
        match existing {
            Some(i) => {
                if let (Some(target), Some(points)) = (data_points(&mut into[i]), data_points(&mut metric)) {
                    target.append(points);
                }
            }
            None => into.push(metric),
        }
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;
    use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
    use opentelemetry_proto::tonic::metrics::v1::{number_data_point, AggregationTemporality};

    use super::*;
    use crate::series::{MetricId, Point};

    const TIMES: ExportTimes = ExportTimes { start_unix_nano: 10, now_unix_nano: 20 };

    fn registry_with_rows(rows: usize) -> (MetricsRegistry, crate::series::TableHandle) {
        let registry = MetricsRegistry::new();
        let specs = vec![
            MetricSpec::gauge("t.phase", "1", "phase"),
            MetricSpec::counter("t.restarts", "{restart}", "restarts"),
            MetricSpec::gauge("t.by_phase", "{object}", "objects per phase").summed(),
        ];
        let table = registry.table("t", specs);
        for i in 0..rows {
            let name = KeyValue::new("name", format!("o{i}"));
            table.replace(
                &format!("uid-{i}"),
                vec![
                    Point::new(MetricId(0), vec![name.clone(), KeyValue::new("phase", "Running")], 1.0),
                    Point::new(MetricId(0), vec![name.clone(), KeyValue::new("phase", "Failed")], 0.0),
                    Point::new(MetricId(1), vec![name], i as f64),
                    Point::new(MetricId(2), vec![KeyValue::new("phase", "Running")], 1.0),
                ],
            );
        }
        (registry, table)
    }

    fn decoded(chunk: EncodedRequest) -> Vec<Metric> {
        use prost::Message;
        let request =
            opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest::decode(
                chunk.bytes,
            )
            .unwrap();
        let metrics =
            request.resource_metrics.into_iter().flat_map(|rm| rm.scope_metrics).flat_map(|sm| sm.metrics);
        metrics.collect()
    }

    fn points_of(metrics: &[Metric], name: &str) -> usize {
        metrics
            .iter()
            .filter(|m| m.name == name)
            .map(|m| match &m.data {
                Some(Data::Gauge(g)) => g.data_points.len(),
                Some(Data::Sum(s)) => s.data_points.len(),
                _ => 0,
            })
            .sum()
    }

    #[test]
    fn chunks_are_bounded_and_carry_every_point_once() {
        let (registry, _table) = registry_with_rows(1000);
        let mut chunks = SeriesChunks::new(&registry, TIMES, Envelope::default(), 700);
        let all: Vec<Vec<Metric>> = std::iter::from_fn(|| chunks.next_chunk()).map(decoded).collect();
        assert!(all.len() >= 4, "{} chunks", all.len());
        for chunk in &all {
            let n: usize = ["t.phase", "t.restarts", "t.by_phase"].iter().map(|m| points_of(chunk, m)).sum();
            assert!(n <= 700 + ROWS_PER_LOCK * 3, "{n} points in a chunk");
        }
        let mut merged = Vec::new();
        for chunk in all {
            merge_metrics(&mut merged, chunk);
        }
        assert_eq!(merged.len(), 3, "one metric per name once merged");
        assert_eq!(points_of(&merged, "t.phase"), 2000);
        assert_eq!(points_of(&merged, "t.restarts"), 1000);
        assert_eq!(points_of(&merged, "t.by_phase"), 1, "summed across objects");
    }

    #[test]
    fn kinds_values_and_times_follow_the_specs() {
        let (registry, _table) = registry_with_rows(3);
        let metrics =
            decoded(SeriesChunks::new(&registry, TIMES, Envelope::default(), 1000).next_chunk().unwrap());
        let find = |name: &str| metrics.iter().find(|m| m.name == name).unwrap();
        let Some(Data::Sum(restarts)) = &find("t.restarts").data else { panic!("counter is a sum") };
        assert!(restarts.is_monotonic);
        assert_eq!(restarts.aggregation_temporality, AggregationTemporality::Cumulative as i32);
        assert_eq!(find("t.restarts").unit, "{restart}");
        let Some(Data::Gauge(by_phase)) = &find("t.by_phase").data else { panic!("gauge") };
        let point = &by_phase.data_points[0];
        assert_eq!(point.value, Some(number_data_point::Value::AsDouble(3.0)));
        assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (10, 20));
        assert_eq!(point.attributes[0].key, "phase");
        assert_eq!(
            point.attributes[0].value,
            Some(AnyValue { value: Some(any_value::Value::StringValue("Running".into())) })
        );
    }

    #[test]
    fn a_detached_table_is_not_exported() {
        let (registry, table) = registry_with_rows(3);
        drop(table);
        assert!(SeriesChunks::new(&registry, TIMES, Envelope::default(), 1000).next_chunk().is_none());
    }
}
