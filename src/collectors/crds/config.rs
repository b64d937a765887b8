//! The `collectors.crds` section (SPEC §4). These doc comments are the reference documentation.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::config_fields::{AggregationConfig, ComputedConfig, FieldConfig, DEFAULT_CEL_COST_LIMIT};
use super::config_select::SelectConfig;
use super::ksm::KsmSource;
pub use super::sources::MetricSourcesConfig;
use crate::config_parts::Duration;

/// Metrics from custom resources, described in YAML.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrdsConfig {
    /// Whether the collector runs. Default: on when `resources` lists any or
    /// `kubeStateMetrics` is set, off otherwise. The
    /// section is checked either way.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Only the leader-election lease holder runs the collector (true) or every replica does
    /// (false). Default: true.
    #[serde(default = "default_leader_election")]
    pub leader_election: bool,
    /// First part of every metric name (`sealos` in `sealos.kubeblocks_cluster.phase`); may be
    /// empty. Default: empty.
    #[serde(default)]
    pub metrics_namespace: String,
    /// The custom resources to watch and the metrics made from each.
    #[serde(default)]
    pub resources: Vec<ResourceConfig>,
    /// A kube-state-metrics custom-resource-state document, run with kube-state-metrics'
    /// meaning and metric names beside `resources` (SPEC §4.3, docs/kube-state-metrics.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_state_metrics: Option<KsmSource>,
    /// Resources described by teams as `MetricSource` and `ClusterMetricSource` objects
    /// (SPEC §4.4).
    #[serde(default)]
    pub metric_sources: MetricSourcesConfig,
}

impl CrdsConfig {
    /// Whether it runs: as `enabled` says, or when it lists resources, has a
    /// kube-state-metrics document or reads metric sources.
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(
            !self.resources.is_empty() || self.kube_state_metrics.is_some() || self.metric_sources.enabled,
        )
    }
}

impl CrdsConfig {
    /// The kube-state-metrics document's file, when it has one.
    pub fn referenced_files(&self) -> Vec<std::path::PathBuf> {
        self.kube_state_metrics.iter().filter_map(|k| k.file()).map(Into::into).collect()
    }
}

impl Default for CrdsConfig {
    fn default() -> Self {
        CrdsConfig {
            enabled: None,
            leader_election: default_leader_election(),
            metrics_namespace: String::new(),
            resources: Vec::new(),
            kube_state_metrics: None,
            metric_sources: MetricSourcesConfig::default(),
        }
    }
}

fn default_leader_election() -> bool {
    true
}

/// One watched resource type.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceConfig {
    /// Second part of the metric names (`-` becomes `_`); unique among resources. Required.
    #[serde(default)]
    pub name: String,
    /// Which API resource to watch, by its plural. Give `gvr` or `gvk`, not both.
    #[serde(default)]
    pub gvr: GvrConfig,
    /// Which API resource to watch, by its kind; resolved to the plural through discovery at
    /// run time. Give `gvr` or `gvk`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gvk: Option<GvkConfig>,
    /// Many API types by group and kind (names or globs), found through discovery and followed
    /// as CRDs come and go. Give `select`, `gvr` or `gvk`, only one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<SelectConfig>,
    /// Namespaces to watch: exact names, globs (`prod-*`, `team-?`) and exclusions starting
    /// with `!` (`!kube-*`); with exclusions only, every other namespace. Exact names only: one
    /// watch per namespace; any glob or exclusion: one cluster-wide watch filtered in the
    /// agent. Empty: all namespaces. Ignored for cluster-scoped resources.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Namespaces (names or globs) left out, the same as `!` entries in `namespaces`.
    #[serde(default)]
    pub exclude_namespaces: Vec<String>,
    /// Label selector on Namespace objects (`team=payments,tier!=test`): only objects in
    /// namespaces whose labels match are read, followed as namespace labels change. With
    /// `namespaces`, both must admit a namespace. Empty: no namespace label condition.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace_selector: String,
    /// Server-side label selector, e.g. `app=db,tier!=test`; empty: every object. Checked at
    /// load; `render` applies it too.
    #[serde(default)]
    pub label_selector: String,
    /// Server-side field selector, e.g. `metadata.name!=x`; empty: every object. Checked at
    /// load; `render` applies it too (`metadata.name`, `metadata.namespace`, any other field by
    /// its dotted path on the object).
    #[serde(default)]
    pub field_selector: String,
    /// How often the full list is fetched again to correct drift. Default: `10m`.
    #[serde(default = "default_resync_period")]
    pub resync_period: Duration,
    /// Attributes on every per-object metric of this resource (not on `count`): attribute name
    /// → path, or `field:<name>` for a field or computed field. Order is kept. Absent:
    /// `{name: metadata.name, namespace: metadata.namespace}` (objects without a namespace, as
    /// cluster-scoped ones, get no `namespace`); `{}`: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub common_labels: Option<LabelPaths>,
    /// Most points one object may hold; the rest are dropped and counted. Default: 1000.
    #[serde(default = "default_max_series_per_object")]
    pub max_series_per_object: usize,
    /// Most points the resource may hold across its objects; the rest are dropped and counted.
    /// Default: 100000.
    #[serde(default = "default_max_series")]
    pub max_series: usize,
    /// Typed fields read from each object, in order (SPEC §4.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldConfig>,
    /// CEL expressions over the fields and `object`, in order; later ones may use earlier ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub computed: Vec<ComputedConfig>,
    /// Most (estimated) cost of one CEL evaluation; a costlier one is not run and leaves its
    /// computed field absent (or its object out of a filtered aggregation). Default: 1000000.
    #[serde(default = "default_cel_cost_limit")]
    pub cel_cost_limit: u64,
    /// The metrics made from each object.
    #[serde(default)]
    pub metrics: Vec<MetricConfig>,
    /// Gauges computed over all objects of the resource at each export.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregations: Vec<AggregationConfig>,
}

pub(super) fn default_resync_period() -> Duration {
    Duration::from_secs(600)
}

pub(super) fn default_max_series_per_object() -> usize {
    1000
}

pub(super) fn default_max_series() -> usize {
    100_000
}

/// Group, version and kind of the watched API resource (`kind` in CamelCase, as in objects).
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GvkConfig {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version, e.g. `v1`. Required.
    #[serde(default)]
    pub version: String,
    /// Kind, e.g. `PersistentVolumeClaim`. Required.
    #[serde(default)]
    pub kind: String,
}

fn default_cel_cost_limit() -> u64 {
    DEFAULT_CEL_COST_LIMIT
}

/// Group, version and resource (plural) of the watched API resource.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GvrConfig {
    /// API group; empty for the core group.
    #[serde(default)]
    pub group: String,
    /// API version, e.g. `v1alpha1`. Required.
    #[serde(default)]
    pub version: String,
    /// Resource name: the lowercase plural (`clusters`). Required.
    #[serde(default)]
    pub resource: String,
    /// Optional kind (`Cluster`). Only `render` uses it, to match objects read from files
    /// whose plural is irregular; when absent the plural is guessed from the objects' kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// `<group>/<version> <resource>`, the core group written `core`.
impl fmt::Display for GvrConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = if self.group.is_empty() { "core" } else { &self.group };
        write!(f, "{group}/{} {}", self.version, self.resource)
    }
}

/// One metric. Which fields apply depends on `type`; the others are config errors.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricConfig {
    /// `info`, `state` (alias `string_state`), `gauge`, `count`, `map_state`, `map_gauge` or
    /// `conditions`. Required.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Last part of the metric name (`-` becomes `_`); unique within the resource. Required.
    #[serde(default)]
    pub name: String,
    /// The OpenTelemetry description.
    #[serde(default)]
    pub help: String,
    /// The OpenTelemetry unit (UCUM, e.g. `By`, `s`, `{replica}`); ASCII, at most 63 characters.
    #[serde(default)]
    pub unit: String,
    /// Where the value is: required by every type except `info`, which does not use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// For `gauge`, instead of `path`: the field or computed field whose value it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Extra attributes of this metric: attribute name → path, or `field:<name>` for a field or
    /// computed field. Not with `count`.
    #[serde(default)]
    pub labels: LabelPaths,
    /// Attribute holding the value: `state`, `count` (default `value`) and `map_state`
    /// (default `state`; `state` defaults to `state` too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_label: Option<String>,
    /// Attribute holding the entry key of `map_state` and `map_gauge`. Default: `key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_label: Option<String>,
    /// For `map_state` and `map_gauge` over a list: path (relative to each element) of its key.
    /// Default: the element's index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// For `map_state` and `map_gauge`: path of the value relative to each entry; default: the
    /// entry itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_path: Option<String>,
    /// For `state`: the possible states; one point per state, 1 for the current one, 0 for
    /// the others. Default: one point for the current state only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub states: Option<Vec<String>>,
    /// For `gauge` and `map_gauge`: a missing value gives 0 instead of no point. Default: false.
    #[serde(default)]
    pub nil_is_zero: bool,
    /// For `conditions`: attribute holding the condition type. Default: `type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_label: Option<String>,
    /// For `conditions`: attribute holding the condition status. Default: `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_label: Option<String>,
    /// For `conditions`: attribute holding the condition reason (left out when the condition
    /// has none). Default: `reason`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_label: Option<String>,
}

/// Attribute name → path, in the order written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelPaths(pub Vec<(String, String)>);

impl LabelPaths {
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for LabelPaths {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = LabelPaths;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of attribute name to path")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelPaths, A::Error> {
                let mut pairs: Vec<(String, String)> = Vec::new();
                while let Some((key, path)) = map.next_entry::<String, String>()? {
                    if pairs.iter().any(|(k, _)| *k == key) {
                        return Err(serde::de::Error::custom(format!("duplicate attribute name {key:?}")));
                    }
                    pairs.push((key, path));
                }
                Ok(LabelPaths(pairs))
            }
        }
        d.deserialize_map(Ordered)
    }
}

impl Serialize for LabelPaths {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_spec_example_with_defaults() {
        let yaml = r#"
enabled: true
metricsNamespace: sealos
resources:
  - name: kubeblocks-cluster
    gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
    labelSelector: "app=db"
    commonLabels:
      namespace: metadata.namespace
      cluster: metadata.name
    metrics:
      - {type: state, name: phase, help: "Cluster phase", path: status.phase}
      - {type: conditions, name: condition, path: status.conditions, reasonLabel: why}
"#;
        let config: CrdsConfig = serde_saphyr::from_str(yaml).unwrap();
        assert!(config.is_enabled());
        assert!(config.leader_election);
        let resource = &config.resources[0];
        assert_eq!(resource.resync_period, Duration::from_secs(600));
        assert!(resource.namespaces.is_empty());
        assert_eq!(resource.gvr.kind, None);
        // Order as written, not alphabetical.
        let labels: Vec<_> = resource.common_labels.as_ref().unwrap().iter().collect();
        assert_eq!(labels, [("namespace", "metadata.namespace"), ("cluster", "metadata.name")]);
        assert_eq!(resource.metrics[0].kind, "state");
        assert_eq!(resource.metrics[0].path.as_deref(), Some("status.phase"));
        assert_eq!(resource.metrics[1].reason_label.as_deref(), Some("why"));
        assert!(!resource.metrics[1].nil_is_zero);

        assert_eq!((resource.max_series_per_object, resource.max_series), (1000, 100_000));

        let empty: CrdsConfig = serde_saphyr::from_str("{}").unwrap();
        assert_eq!(empty, CrdsConfig::default());
        assert!(!empty.is_enabled());
        let listed: CrdsConfig = serde_saphyr::from_str("resources: [{name: a}]").unwrap();
        assert!(listed.is_enabled(), "resources without `enabled` turn it on");
        let off: CrdsConfig = serde_saphyr::from_str("enabled: false\nresources: [{name: a}]").unwrap();
        assert!(!off.is_enabled());
    }

    #[test]
    fn rejects_unknown_keys() {
        let yaml = "resources:\n  - name: x\n    metrics:\n      - {type: gauge, name: a, pth: spec.x}\n";
        let err = serde_saphyr::from_str::<CrdsConfig>(yaml).unwrap_err().to_string();
        assert!(err.contains("pth"), "{err}");
    }

    #[test]
    fn round_trips_through_serialization() {
        let yaml = "resources:\n  - name: x\n    commonLabels: {b: spec.b, a: spec.a}\n";
        let config: CrdsConfig = serde_saphyr::from_str(yaml).unwrap();
        let json = serde_json::to_string(&config).unwrap();
        assert!(json.contains(r#""commonLabels":{"b":"spec.b","a":"spec.a"}"#), "{json}");
        let back: CrdsConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
    }

    #[test]
    fn tells_absent_common_labels_from_empty_ones() {
        let config: CrdsConfig =
            serde_saphyr::from_str("resources:\n  - name: a\n  - name: b\n    commonLabels: {}\n").unwrap();
        assert_eq!(config.resources[0].common_labels, None);
        assert_eq!(config.resources[1].common_labels, Some(LabelPaths::default()));
    }
}
