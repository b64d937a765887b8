//! The kube-state-metrics `CustomResourceStateMetrics` document as kube-state-metrics reads
//! it: unknown keys are ignored (its decoder is not strict), `type` is case-insensitive and
//! `metricNamePrefix` tells absent (the default prefix) from empty (no prefix).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole document; `kind` and `apiVersion` are not checked, as kube-state-metrics does not.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Document {
    /// Holds the resources.
    #[serde(default)]
    pub spec: DocumentSpec,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct DocumentSpec {
    /// The watched resources, each with its metric families.
    #[serde(default)]
    pub resources: Vec<Resource>,
}

/// Labels set on a resource or on one of its metrics; the metric's win on equal names.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Labels {
    /// Label name → fixed value.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Label name → path in the object; a name starting or ending with `*` copies every entry
    /// of the map at the path.
    #[serde(default)]
    pub labels_from_path: BTreeMap<String, Vec<String>>,
}

impl Labels {
    /// `self` overlaid with `other`, kube-state-metrics' `Labels.Merge`.
    pub fn merged(&self, other: &Labels) -> Labels {
        let mut merged = self.clone();
        merged.common_labels.extend(other.common_labels.clone());
        merged.labels_from_path.extend(other.labels_from_path.clone());
        merged
    }
}

/// One watched custom resource.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// `commonLabels` and `labelsFromPath` on every family of the resource.
    #[serde(flatten)]
    pub labels: Labels,
    /// Absent: `kube_customresource`; empty: metric names are the metrics' own names.
    #[serde(default)]
    pub metric_name_prefix: Option<String>,
    /// Which resource: group, version and kind.
    #[serde(default)]
    pub group_version_kind: GroupVersionKind,
    /// The plural; absent: resolved through discovery from the kind.
    #[serde(default)]
    pub resource_plural: String,
    /// The metric families.
    #[serde(default)]
    pub metrics: Vec<Generator>,
    /// kube-state-metrics' log verbosity of extraction errors: 0 logs them.
    #[serde(default)]
    pub error_log_v: i32,
}

/// `group`, `version` and `kind`; `version` and `kind` may be `*`. Not the native `gvk`
/// (`GvkConfig`): that one refuses unknown keys, and this one must ignore them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
pub struct GroupVersionKind {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version, or `*` for every served one.
    #[serde(default)]
    pub version: String,
    /// Kind, or `*` for every kind of the group (and version).
    #[serde(default)]
    pub kind: String,
}

/// One metric family.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    /// Last part of the family's name, after `metricNamePrefix` and `_`.
    #[serde(default)]
    pub name: String,
    /// The family's help text.
    #[serde(default)]
    pub help: String,
    /// How each object's values are found.
    #[serde(default)]
    pub each: Each,
    /// The family's own `commonLabels` and `labelsFromPath`, over the resource's.
    #[serde(flatten)]
    pub labels: Labels,
    /// Log verbosity of this family's errors; 0: the resource's.
    #[serde(default)]
    pub error_log_v: i32,
}

/// What each object gives: `type` picks one of `gauge`, `stateSet`, `info`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Each {
    /// `Gauge`, `StateSet` or `Info`, in any case.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The settings of a `Gauge`.
    #[serde(default)]
    pub gauge: Option<Gauge>,
    /// The settings of a `StateSet`.
    #[serde(default)]
    pub state_set: Option<StateSet>,
    /// The settings of an `Info`.
    #[serde(default)]
    pub info: Option<Info>,
}

/// `path` and `labelsFromPath`, shared by the three types.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricMeta {
    /// Labels read relative to each value found at `path`.
    #[serde(default)]
    pub labels_from_path: BTreeMap<String, Vec<String>>,
    /// Where the values are: a map or a list gives one value per entry.
    #[serde(default)]
    pub path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gauge {
    /// `path` and `labelsFromPath`.
    #[serde(flatten)]
    pub meta: MetricMeta,
    /// Over a map: the label holding each entry's key.
    #[serde(default)]
    pub label_from_key: String,
    /// Where the number is, relative to each value.
    #[serde(default)]
    pub value_from: Vec<String>,
    /// A missing value gives 0 instead of nothing.
    #[serde(default)]
    pub nil_is_zero: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSet {
    /// `path` and `labelsFromPath`.
    #[serde(flatten)]
    pub meta: MetricMeta,
    /// The states: one series each, 1 for the current one.
    #[serde(default)]
    pub list: Vec<String>,
    /// The label holding the state.
    #[serde(default)]
    pub label_name: String,
    /// Where the current state is, relative to each value.
    #[serde(default)]
    pub value_from: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    /// `path` and `labelsFromPath`.
    #[serde(flatten)]
    pub meta: MetricMeta,
    /// Over a map: the label holding each entry's key.
    #[serde(default)]
    pub label_from_key: String,
}
