//! Series as OTLP messages, all in one request, for the consumers that want whole metrics: a
//! `/metrics` scrape and `render`. Built from the tables; each point's attributes are decoded
//! from the protobuf the tables keep them in.

use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint, Sum,
};
use prost::Message;

use super::envelope::ExportTimes;
use super::reader::{MetricRef, PointSink};
use crate::series::{InstrumentKind, MetricSpec};

/// One OTLP metric per name, in the order their first points came.
pub(super) struct WholeMetrics {
    times: ExportTimes,
    metrics: Vec<Metric>,
    /// Where each metric of the read (by `MetricRef::index`) is in `metrics`, if it is yet.
    slots: Vec<Option<usize>>,
    points: usize,
}

impl WholeMetrics {
    pub(super) fn new(times: ExportTimes) -> Self {
        WholeMetrics { times, metrics: Vec::new(), slots: Vec::new(), points: 0 }
    }

    pub(super) fn into_metrics(self) -> Vec<Metric> {
        self.metrics
    }

    fn metric(&mut self, metric: MetricRef<'_>) -> &mut Vec<NumberDataPoint> {
        if self.slots.len() <= metric.index {
            self.slots.resize(metric.index + 1, None);
        }
        let i = match self.slots[metric.index] {
            Some(i) => i,
            None => {
                self.metrics.push(empty_metric(metric.spec));
                self.slots[metric.index] = Some(self.metrics.len() - 1);
                self.metrics.len() - 1
            }
        };
        match &mut self.metrics[i].data {
            Some(Data::Gauge(g)) => &mut g.data_points,
            Some(Data::Sum(s)) => &mut s.data_points,
            _ => unreachable!("empty_metric makes a gauge or a sum"),
        }
    }
}

impl PointSink for WholeMetrics {
    fn push(&mut self, metric: MetricRef<'_>, value: f64, shared: &[u8], rest: &[u8]) {
        let mut point = NumberDataPoint {
            start_time_unix_nano: self.times.start_unix_nano,
            time_unix_nano: self.times.now_unix_nano,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        };
        // The encoded attributes are `NumberDataPoint.attributes` fields: merged, they are the
        // point's attributes, in order.
        for part in [shared, rest] {
            point.merge(part).expect("the tables keep valid encoded attributes");
        }
        self.metric(metric).push(point);
        self.points += 1;
    }

    fn points(&self) -> usize {
        self.points
    }
}

fn empty_metric(spec: &MetricSpec) -> Metric {
    let sum = |is_monotonic| {
        Data::Sum(Sum {
            data_points: Vec::new(),
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic,
        })
    };
    let data = match spec.kind {
        InstrumentKind::Gauge => Data::Gauge(Gauge { data_points: Vec::new() }),
        InstrumentKind::Counter => sum(true),
        InstrumentKind::UpDownCounter => sum(false),
    };
    Metric {
        name: spec.name.clone(),
        description: spec.description.clone(),
        unit: spec.unit.clone(),
        metadata: Vec::new(),
        data: Some(data),
    }
}
