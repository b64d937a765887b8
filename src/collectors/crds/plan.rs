//! The compiled form of `collectors.crds`: what extraction and the watch loop run on.

use std::sync::Arc;

use opentelemetry::Key;
use serde_json::Value;

use super::aggregate::CompiledAggregation;
use super::config::GvrConfig;
use super::discovery_plan::DiscoveryPlan;
use super::guards::SeriesLimits;
use super::ksm::KsmFamily;
use super::namespaces::NamespaceSelection;
use super::object_fields::{FieldIndex, FieldPlan};
use super::path::Path;
use super::selectors::{FieldSelector, LabelSelector};
use crate::config_parts::Duration;
use crate::series::{MetricId, MetricSpec};

/// An attribute whose value is read from each object.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelPath {
    pub name: Key,
    pub source: LabelSource,
}

/// Where an attribute's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelSource {
    /// A path in the object.
    Path(Path),
    /// A field or computed field (`field:<name>`), with its name.
    Field(FieldIndex, String),
}

/// One watched resource with its compiled metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledResource {
    /// The resource's `name` in the config.
    pub name: String,
    /// `<namespace>.<resource>` with `-` → `_`: the prefix of its metrics' names, and the
    /// `metric` of extraction errors not tied to one metric (commonLabels).
    pub prefix: String,
    /// From `gvk`: `resource` is the guessed plural and `kind` is set.
    pub gvr: GvrConfig,
    /// Configured by `gvk`: discovery finds the resource by `gvr.kind`, not by the plural.
    pub by_kind: bool,
    pub namespaces: NamespaceSelection,
    /// `None` when the config left it empty.
    pub label_selector: Option<String>,
    /// `None` when the config left it empty.
    pub field_selector: Option<String>,
    /// `label_selector` parsed, for `render`.
    pub label_filter: LabelSelector,
    /// `field_selector` parsed, for `render`.
    pub field_filter: FieldSelector,
    pub limits: SeriesLimits,
    pub resync_period: Duration,
    pub common_labels: Vec<LabelPath>,
    /// In the order of `specs`: `metrics[i]` has `MetricId(i)`.
    pub metrics: Vec<CompiledMetric>,
    /// Typed and computed fields, evaluated per object before the metrics.
    pub fields: FieldPlan,
    /// In the order of `specs`, after the metrics.
    pub aggregations: Vec<CompiledAggregation>,
    /// The specs of this resource's series table.
    pub specs: Vec<MetricSpec>,
    /// `select` and `namespaceSelector`, and what they decide at run time.
    pub discovery: DiscoveryPlan,
}

impl CompiledResource {
    /// Whether an object read from a file (by its `apiVersion` and `kind`) is of this resource.
    pub fn matches(&self, object: &Value) -> bool {
        if let Some(types) = &self.discovery.types {
            return types.matches_object(object);
        }
        crate::objects::is_of_resource(
            object,
            &self.gvr.group,
            &self.gvr.version,
            &self.gvr.resource,
            self.gvr.kind.as_deref(),
        )
    }

    /// Whether `object` passes `namespaces` and both selectors, as the watch would return it.
    pub fn selects(&self, object: &Value) -> bool {
        let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str);
        self.namespaces.admits(namespace)
            && self.discovery.admits_namespace(namespace)
            && self.label_filter.matches(object)
            && self.field_filter.matches(object)
    }
}

/// One compiled metric.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledMetric {
    pub id: MetricId,
    /// The full OpenTelemetry name.
    pub name: String,
    /// The metric's own `labels` (after commonLabels, before the type's attributes).
    pub labels: Vec<LabelPath>,
    pub kind: MetricKind,
}

/// What each metric type needs to extract its points.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricKind {
    /// One point, value 1.
    Info,
    /// `value_label` = the text at `path`, value 1; with `states`, one point per state.
    State { path: Path, value_label: Key, states: Option<Vec<Arc<str>>> },
    /// The number at `path`.
    Gauge { path: Path, nil_is_zero: bool },
    /// The value of a field or computed field, as a number.
    FieldGauge { field: FieldIndex, nil_is_zero: bool },
    /// One point, value 1, attribute `value_label` only; summed across objects.
    Count { path: Path, value_label: Key },
    /// One point per map entry or list element, value 1.
    MapState {
        path: Path,
        key_label: Key,
        value_label: Key,
        key_path: Option<Path>,
        value_path: Option<Path>,
    },
    /// One point per map entry or list element, value = the entry's number.
    MapGauge {
        path: Path,
        key_label: Key,
        key_path: Option<Path>,
        value_path: Option<Path>,
        nil_is_zero: bool,
    },
    /// One point per condition, 1 when its status is `True`.
    Conditions { path: Path, type_label: Key, status_label: Key, reason_label: Key },
    /// A kube-state-metrics family: its own labels and values (SPEC §4.3).
    Ksm(Arc<KsmFamily>),
}
