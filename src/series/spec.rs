//! Static description of a metric and of one data point.

use opentelemetry::KeyValue;

use super::aggregates::Reduction;

/// Which OpenTelemetry instrument carries a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstrumentKind {
    /// Observable gauge: the latest value.
    Gauge,
    /// Observable monotonic counter: a cumulative total the collector maintains.
    Counter,
    /// Observable non-monotonic sum.
    UpDownCounter,
}

/// How points of one metric from different objects combine at export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Each object's point is its own series (attributes identify the object).
    PerObject,
    /// Points with equal attributes across all objects are summed into one series
    /// (the `count` type: one series per distinct value, vanishing at 0).
    SumAcrossObjects,
    /// Each object's point is an input of an aggregation, computed at each read.
    Reduce(Reduction),
}

/// A metric a collector produces.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSpec {
    pub name: String,
    pub description: String,
    pub unit: String,
    pub kind: InstrumentKind,
    pub aggregation: Aggregation,
}

impl MetricSpec {
    /// A per-object gauge, the most common case.
    pub fn gauge(name: impl Into<String>, unit: impl Into<String>, description: impl Into<String>) -> Self {
        MetricSpec {
            name: name.into(),
            description: description.into(),
            unit: unit.into(),
            kind: InstrumentKind::Gauge,
            aggregation: Aggregation::PerObject,
        }
    }

    /// A per-object monotonic counter.
    pub fn counter(name: impl Into<String>, unit: impl Into<String>, description: impl Into<String>) -> Self {
        MetricSpec { kind: InstrumentKind::Counter, ..Self::gauge(name, unit, description) }
    }

    /// Same metric, computed by `reduction` from its objects' input points.
    pub fn reduced(mut self, reduction: Reduction) -> Self {
        self.aggregation = Aggregation::Reduce(reduction);
        self
    }

    /// Same metric, with points summed across objects.
    pub fn summed(mut self) -> Self {
        self.aggregation = Aggregation::SumAcrossObjects;
        self
    }
}

/// Index of a metric inside its table's spec list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MetricId(pub u32);

/// One extracted data point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub metric: MetricId,
    pub attributes: Vec<KeyValue>,
    pub value: f64,
}

impl Point {
    /// A point of `metric` (a [`MetricId`], or a collector's declared metric).
    pub fn new(metric: impl Into<MetricId>, attributes: Vec<KeyValue>, value: f64) -> Self {
        Point { metric: metric.into(), attributes, value }
    }
}
