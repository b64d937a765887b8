//! The kube-state-metrics `CustomResourceStateMetrics` document as kube-state-metrics reads
//! it: unknown keys are ignored (its decoder is not strict), `type` is case-insensitive and
//! `metricNamePrefix` tells absent (the default prefix) from empty (no prefix).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The whole document; `kind` and `apiVersion` are not checked, as kube-state-metrics does not.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct Document {
    #[serde(default)]
    pub spec: DocumentSpec,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
pub struct DocumentSpec {
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
    #[serde(flatten)]
    pub labels: Labels,
    /// Absent: `kube_customresource`; empty: metric names are the metrics' own names.
    #[serde(default)]
    pub metric_name_prefix: Option<String>,
    #[serde(default)]
    pub group_version_kind: GroupVersionKind,
    /// The plural; absent: resolved through discovery from the kind.
    #[serde(default)]
    pub resource_plural: String,
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
    #[serde(default)]
    pub group: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub kind: String,
}

/// One metric family.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Generator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub help: String,
    #[serde(default)]
    pub each: Each,
    #[serde(flatten)]
    pub labels: Labels,
    #[serde(default)]
    pub error_log_v: i32,
}

/// What each object gives: `type` picks one of `gauge`, `stateSet`, `info`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Each {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub gauge: Option<Gauge>,
    #[serde(default)]
    pub state_set: Option<StateSet>,
    #[serde(default)]
    pub info: Option<Info>,
}

/// `path` and `labelsFromPath`, shared by the three types.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricMeta {
    #[serde(default)]
    pub labels_from_path: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub path: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gauge {
    #[serde(flatten)]
    pub meta: MetricMeta,
    #[serde(default)]
    pub label_from_key: String,
    #[serde(default)]
    pub value_from: Vec<String>,
    #[serde(default)]
    pub nil_is_zero: bool,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSet {
    #[serde(flatten)]
    pub meta: MetricMeta,
    #[serde(default)]
    pub list: Vec<String>,
    #[serde(default)]
    pub label_name: String,
    #[serde(default)]
    pub value_from: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    #[serde(flatten)]
    pub meta: MetricMeta,
    #[serde(default)]
    pub label_from_key: String,
}
