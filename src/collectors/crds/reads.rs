//! Every path [`super::extract::extract`] reads of an object, for [`super::needed`]: a metric,
//! label or field added there must be listed here, or the watch would not decode what it reads
//! (the end-to-end tests of every metric type run through the watch and would show it).

use super::aggregate::AggregationFilter;
use super::path::Path;
use super::plan::{CompiledResource, LabelPath, LabelSource, MetricKind};

/// What extraction reads of each object of a resource.
pub enum Reads<'a> {
    /// Paths that cannot be told in advance: CEL over `object`, kube-state-metrics families.
    Whole,
    Paths(Vec<Read<'a>>),
}

/// One path extraction reads: all of its value, or only some members of it (of each element,
/// for a list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Read<'a> {
    pub path: &'a Path,
    pub only: Option<&'static [&'static str]>,
}

/// What a `conditions` metric reads of each condition.
const CONDITION_MEMBERS: &[&str] = &["type", "status", "reason"];

/// The paths extraction reads for `resource`.
pub fn object_paths<'a>(resource: &'a CompiledResource) -> Reads<'a> {
    let fields = &resource.fields;
    let cel_reads_object = fields.computed.iter().any(|c| c.expression.uses_object())
        || resource
            .aggregations
            .iter()
            .any(|a| matches!(&a.filter, Some(AggregationFilter::Cel(e)) if e.uses_object()));
    let ksm = resource.metrics.iter().any(|m| matches!(m.kind, MetricKind::Ksm(_)));
    if cel_reads_object || ksm {
        return Reads::Whole;
    }
    let whole = |path| Read { path, only: None };
    let mut paths: Vec<Read> = fields.declared.iter().map(|f| whole(&f.path)).collect();
    let label_path = |label: &'a LabelPath| match &label.source {
        LabelSource::Path(path) => Some(whole(path)),
        LabelSource::Field(..) => None,
    };
    paths.extend(resource.common_labels.iter().filter_map(label_path));
    for metric in &resource.metrics {
        paths.extend(metric.labels.iter().filter_map(label_path));
        match &metric.kind {
            MetricKind::Info | MetricKind::FieldGauge { .. } | MetricKind::Ksm(_) => {}
            MetricKind::State { path, .. }
            | MetricKind::Gauge { path, .. }
            | MetricKind::Count { path, .. }
            | MetricKind::MapState { path, .. }
            | MetricKind::MapGauge { path, .. } => paths.push(whole(path)),
            MetricKind::Conditions { path, .. } => paths.push(Read { path, only: Some(CONDITION_MEMBERS) }),
        }
    }
    Reads::Paths(paths)
}
