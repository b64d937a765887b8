//! One compiled kube-state-metrics metric family and what it makes of an object: the family's
//! labels around the values its `each` finds (`gauge`, `state_set`, `info`), as
//! kube-state-metrics' `registry_factory.go` does.

use serde_json::Value;

use super::gauge::GaugeEach;
use super::info::InfoEach;
use super::labels::{fill_defaults, LabelSet, PathLabels};
use super::state_set::StateSetEach;

/// A family: its full name, labels and how each object's values are found.
#[derive(Debug, Clone, PartialEq)]
pub struct KsmFamily {
    /// The Prometheus (and OpenTelemetry) name, e.g. `kube_customresource_uptime`.
    pub name: String,
    /// `commonLabels` of the resource and the metric merged, with `customresource_group`,
    /// `customresource_version` and `customresource_kind`; names as written.
    pub common: LabelSet,
    /// The names the metric's own `commonLabels` set.
    pub metric_common: Vec<String>,
    /// `labelsFromPath` of the resource and the metric merged, read from the object's root.
    pub labels: PathLabels,
    pub each: EachKind,
    /// `errorLogV` is 0: problems are reported (kube-state-metrics logs them at its default
    /// verbosity); otherwise they are dropped.
    pub report_errors: bool,
}

/// The `each` of a family.
#[derive(Debug, Clone, PartialEq)]
pub enum EachKind {
    Gauge(GaugeEach),
    StateSet(StateSetEach),
    Info(InfoEach),
}

/// One series of a family for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyValue {
    pub labels: LabelSet,
    pub value: f64,
}

impl FamilyValue {
    /// A value without labels yet.
    pub fn bare(value: f64) -> Self {
        FamilyValue { labels: LabelSet::new(), value }
    }
}

impl KsmFamily {
    /// The series of `object`, and the problems found (empty when `errorLogV` silences them).
    pub fn values(&self, object: &Value) -> (Vec<FamilyValue>, Vec<String>) {
        let mut base = self.common.clone();
        self.labels.add(Some(object), &mut base);
        let mut errors = Vec::new();
        let mut values = match &self.each {
            EachKind::Gauge(each) => each.values(each.path.get(object), &mut errors),
            EachKind::StateSet(each) => each.values(each.path.get(object), &mut errors),
            EachKind::Info(each) => each.values(each.path.get(object), &mut errors),
        };
        for value in &mut values {
            fill_defaults(&mut value.labels, &base);
        }
        if !self.report_errors {
            errors.clear();
        }
        (values, errors)
    }
}
