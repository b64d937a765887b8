//! One metric of a resource: its type, name, paths and attribute names, checked together.

use std::sync::Arc;

use opentelemetry::Key;

use super::compile::{compile_label_paths, key_path};
use super::compile_fields::resolve_field;
use super::config::MetricConfig;
use super::names::metric_name;
use super::object_fields::{FieldIndex, FieldPlan};
use super::path::Path;
use super::plan::{CompiledMetric, LabelPath, MetricKind};
use crate::collectors::shared::instrument::{validate_instrument_name, validate_name_part, validate_unit};
use crate::config_parts::{index, join, ConfigIssues};
use crate::series::{MetricId, MetricSpec};

/// The metric types, as written in the config.
pub const METRIC_TYPES: [&str; 8] =
    ["info", "state", "string_state", "gauge", "count", "map_state", "map_gauge", "conditions"];

/// What a metric is compiled against: its resource's name prefix and commonLabels.
pub(super) struct MetricScope<'a> {
    pub namespace: &'a str,
    pub resource: &'a str,
    pub prefix: &'a str,
    pub common: &'a [LabelPath],
    pub fields: &'a FieldPlan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Info,
    State,
    Gauge,
    Count,
    MapState,
    MapGauge,
    Conditions,
}

impl Type {
    fn parse(text: &str) -> Option<Type> {
        Some(match text {
            "info" => Type::Info,
            "state" | "string_state" => Type::State,
            "gauge" => Type::Gauge,
            "count" => Type::Count,
            "map_state" => Type::MapState,
            "map_gauge" => Type::MapGauge,
            "conditions" => Type::Conditions,
            _ => return None,
        })
    }
}

/// Compiles one metric at YAML path `at`; `None` (with issues recorded) when it has problems.
/// The id is set by the caller.
pub(super) fn compile_metric(
    metric: &MetricConfig,
    scope: &MetricScope<'_>,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<(CompiledMetric, MetricSpec)> {
    let before = issues.len();
    let ty = parse_type(&metric.kind, at, issues);
    let name = compile_name(metric, scope, at, issues);
    if let Err(e) = validate_unit(&metric.unit) {
        issues.push(join(at, "unit"), e);
    }
    let labels = compile_label_paths(&metric.labels, &join(at, "labels"), scope.fields, issues);
    let field = metric_field(metric, scope.fields, at, issues);
    let path = metric.path.as_deref().and_then(|p| compile_path(p, &join(at, "path"), issues));
    let key_path = metric.key_path.as_deref().and_then(|p| compile_path(p, &join(at, "keyPath"), issues));
    let value_path =
        metric.value_path.as_deref().and_then(|p| compile_path(p, &join(at, "valuePath"), issues));
    let ty = ty?;
    check_fields_apply(metric, ty, at, issues);
    if ty == Type::Info {
        if metric.path.is_some() {
            issues.push(join(at, "path"), "not used by info metrics (their attributes come from labels)");
        }
    } else if metric.field.is_some() && ty != Type::Gauge {
        issues.push(join(at, "field"), format!("only gauge metrics take field:, not {}", metric.kind));
    } else if metric.path.is_none() && metric.field.is_none() {
        issues.push(join(at, "path"), format!("required for {} metrics", metric.kind));
    }
    if ty == Type::Count && !labels.is_empty() {
        issues.push(
            join(at, "labels"),
            "count metrics carry only their valueLabel attribute; labels are not allowed",
        );
    }
    let own = own_attributes(metric, ty);
    check_attribute_names(scope, ty, &labels, &own, at, issues);
    let states = metric.states.as_ref().map(|s| compile_states(s, &join(at, "states"), issues));
    if issues.len() > before {
        return None;
    }
    let name = name?;
    let key = |i: usize| Key::from(Arc::<str>::from(own[i].1.as_str()));
    let kind = match ty {
        Type::Info => MetricKind::Info,
        Type::State => MetricKind::State { path: path?, value_label: key(0), states },
        Type::Gauge => match field {
            Some(field) => MetricKind::FieldGauge { field, nil_is_zero: metric.nil_is_zero },
            None => MetricKind::Gauge { path: path?, nil_is_zero: metric.nil_is_zero },
        },
        Type::Count => MetricKind::Count { path: path?, value_label: key(0) },
        Type::MapState => {
            MetricKind::MapState { path: path?, key_label: key(0), value_label: key(1), key_path, value_path }
        }
        Type::MapGauge => MetricKind::MapGauge {
            path: path?,
            key_label: key(0),
            key_path,
            value_path,
            nil_is_zero: metric.nil_is_zero,
        },
        Type::Conditions => MetricKind::Conditions {
            path: path?,
            type_label: key(0),
            status_label: key(1),
            reason_label: key(2),
        },
    };
    let mut spec = MetricSpec::gauge(name.clone(), metric.unit.clone(), metric.help.clone());
    if ty == Type::Count {
        spec = spec.summed();
    }
    Some((CompiledMetric { id: MetricId(0), name, labels, kind }, spec))
}

/// The field a gauge's `field:` names; both `path` and `field` is an error.
fn metric_field(
    metric: &MetricConfig,
    fields: &FieldPlan,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<FieldIndex> {
    let name = metric.field.as_deref()?;
    if metric.path.is_some() {
        issues.push(join(at, "field"), "set path or field, not both");
        return None;
    }
    resolve_field(fields, name, &join(at, "field"), issues)
}

fn parse_type(text: &str, at: &str, issues: &mut ConfigIssues) -> Option<Type> {
    let parsed = Type::parse(text);
    if parsed.is_none() {
        let valid = METRIC_TYPES.join(", ");
        let message = if text.is_empty() {
            format!("required: the metric type, one of {valid}")
        } else {
            format!("unknown metric type {text:?}; expected one of {valid}")
        };
        issues.push(join(at, "type"), message);
    }
    parsed
}

/// The full name, when the metric's own part is valid.
fn compile_name(
    metric: &MetricConfig,
    scope: &MetricScope<'_>,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<String> {
    let at = join(at, "name");
    if metric.name.is_empty() {
        issues.push(at, "required: the metric's name, the last part of its full name");
        return None;
    }
    let own = metric.name.replace('-', "_");
    if let Err(e) = validate_name_part(&own, false) {
        issues.push(at, e);
        return None;
    }
    let full = metric_name(scope.namespace, scope.resource, &metric.name);
    // The prefix is checked (and reported) with the resource; only the length is left here.
    if scope.resource.is_empty() || validate_instrument_name(scope.prefix).is_err() {
        return Some(full);
    }
    match validate_instrument_name(&full) {
        Ok(()) => Some(full),
        Err(e) => {
            issues.push(at, e);
            None
        }
    }
}

fn compile_path(source: &str, at: &str, issues: &mut ConfigIssues) -> Option<Path> {
    Path::compile(source).map_err(|e| issues.push(at, e)).ok()
}

/// Fields set on a metric whose type does not use them are errors, so typos in intent surface.
fn check_fields_apply(metric: &MetricConfig, ty: Type, at: &str, issues: &mut ConfigIssues) {
    use Type::*;
    let fields: [(&str, bool, &[Type]); 9] = [
        ("states", metric.states.is_some(), &[State]),
        ("valueLabel", metric.value_label.is_some(), &[State, Count, MapState]),
        ("keyLabel", metric.key_label.is_some(), &[MapState, MapGauge]),
        ("keyPath", metric.key_path.is_some(), &[MapState, MapGauge]),
        ("valuePath", metric.value_path.is_some(), &[MapState, MapGauge]),
        ("nilIsZero", metric.nil_is_zero, &[Gauge, MapGauge]),
        ("typeLabel", metric.type_label.is_some(), &[Conditions]),
        ("statusLabel", metric.status_label.is_some(), &[Conditions]),
        ("reasonLabel", metric.reason_label.is_some(), &[Conditions]),
    ];
    for (field, set, types) in fields {
        if set && !types.contains(&ty) {
            let names: Vec<&str> = types.iter().map(|t| type_name(*t)).collect();
            issues.push(
                join(at, field),
                format!("only used by {} metrics, not by {}", names.join(" and "), metric.kind),
            );
        }
    }
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Info => "info",
        Type::State => "state",
        Type::Gauge => "gauge",
        Type::Count => "count",
        Type::MapState => "map_state",
        Type::MapGauge => "map_gauge",
        Type::Conditions => "conditions",
    }
}

/// The attributes a type adds itself: (config field, attribute name), with defaults applied.
fn own_attributes(metric: &MetricConfig, ty: Type) -> Vec<(&'static str, String)> {
    let or = |v: &Option<String>, d: &str| v.clone().unwrap_or_else(|| d.to_owned());
    match ty {
        Type::Info | Type::Gauge => vec![],
        Type::State => vec![("valueLabel", or(&metric.value_label, "state"))],
        Type::Count => vec![("valueLabel", or(&metric.value_label, "value"))],
        Type::MapState => {
            vec![("keyLabel", or(&metric.key_label, "key")), ("valueLabel", or(&metric.value_label, "state"))]
        }
        Type::MapGauge => vec![("keyLabel", or(&metric.key_label, "key"))],
        Type::Conditions => vec![
            ("typeLabel", or(&metric.type_label, "type")),
            ("statusLabel", or(&metric.status_label, "status")),
            ("reasonLabel", or(&metric.reason_label, "reason")),
        ],
    }
}

/// Every attribute of a point must have a distinct, non-empty name.
fn check_attribute_names(
    scope: &MetricScope<'_>,
    ty: Type,
    labels: &[LabelPath],
    own: &[(&'static str, String)],
    at: &str,
    issues: &mut ConfigIssues,
) {
    let common: &[LabelPath] = if ty == Type::Count { &[] } else { scope.common };
    let clashes_with_common = |name: &str| common.iter().any(|c| c.name.as_str() == name);
    for label in labels {
        if clashes_with_common(label.name.as_str()) {
            issues.push(
                key_path(&join(at, "labels"), label.name.as_str()),
                format!("attribute {:?} is already set by the resource's commonLabels", label.name.as_str()),
            );
        }
    }
    for (i, (field, name)) in own.iter().enumerate() {
        let field_at = join(at, field);
        if name.trim().is_empty() {
            issues.push(field_at, "empty attribute name");
        } else if clashes_with_common(name) {
            issues
                .push(field_at, format!("attribute {name:?} is already set by the resource's commonLabels"));
        } else if labels.iter().any(|l| l.name.as_str() == name) {
            issues.push(field_at, format!("attribute {name:?} is already set by this metric's labels"));
        } else if let Some((other, _)) = own[..i].iter().find(|(_, n)| n == name) {
            issues.push(field_at, format!("attribute {name:?} is already used by {other}"));
        }
    }
}

fn compile_states(states: &[String], at: &str, issues: &mut ConfigIssues) -> Vec<Arc<str>> {
    if states.is_empty() {
        issues.push(at, "list at least one state, or leave states out");
    }
    for (i, state) in states.iter().enumerate() {
        if states[..i].contains(state) {
            issues.push(index(at, i), format!("duplicate state {state:?}"));
        }
    }
    states.iter().map(|s| Arc::from(s.as_str())).collect()
}
