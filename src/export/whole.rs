//! Series as OTLP messages, all in one request, for the consumers that want whole metrics: a
//! `/metrics` scrape and `render`. Built directly from the tables (no encoding and decoding).

use std::collections::HashMap;

use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint, Sum,
};

use super::envelope::ExportTimes;
use super::reader::PointSink;
use crate::series::{InstrumentKind, MetricSpec};

/// One OTLP metric per name, in the order their first points came.
pub(super) struct WholeMetrics {
    times: ExportTimes,
    metrics: Vec<Metric>,
    index: HashMap<String, usize>,
    points: usize,
}

impl WholeMetrics {
    pub(super) fn new(times: ExportTimes) -> Self {
        WholeMetrics { times, metrics: Vec::new(), index: HashMap::new(), points: 0 }
    }

    pub(super) fn into_metrics(self) -> Vec<Metric> {
        self.metrics
    }

    fn metric(&mut self, spec: &MetricSpec) -> &mut Vec<NumberDataPoint> {
        let i = match self.index.get(&spec.name) {
            Some(i) => *i,
            None => {
                self.metrics.push(empty_metric(spec));
                self.index.insert(spec.name.clone(), self.metrics.len() - 1);
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
    fn push(&mut self, spec: &MetricSpec, value: f64, shared: &[KeyValue], rest: &[KeyValue]) {
        let point = NumberDataPoint {
            attributes: shared.iter().chain(rest).map(proto_key_value).collect(),
            start_time_unix_nano: self.times.start_unix_nano,
            time_unix_nano: self.times.now_unix_nano,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        };
        self.metric(spec).push(point);
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

fn proto_key_value(kv: &KeyValue) -> ProtoKeyValue {
    ProtoKeyValue {
        key: kv.key.as_str().to_owned(),
        value: Some(AnyValue::from(kv.value.clone())),
        ..Default::default()
    }
}
