//! Pure extraction: one object and one compiled resource in, data points and errors out.
//!
//! A missing field gives no point and no error (unless `nilIsZero`); a value of the wrong kind
//! gives no point and an error. Nothing here panics on odd objects.

use std::sync::Arc;

use opentelemetry::{Key, KeyValue};
use serde_json::Value;

use super::aggregate::aggregation_inputs;
use super::object_fields::ObjectFields;
use super::path::Path;
use super::plan::{CompiledMetric, CompiledResource, LabelPath, LabelSource, MetricKind};
use super::value::{attribute_text, scalar_text, to_number};
use crate::objects::json_kind;
use crate::series::Point;

/// A value that could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractError {
    /// The full metric name, or the resource's name prefix for commonLabels problems.
    pub metric: String,
    pub reason: String,
}

/// What one object yields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub points: Vec<Point>,
    pub errors: Vec<ExtractError>,
}

/// Extracts every metric of `resource` from `object`, and its aggregation inputs.
pub fn extract(resource: &CompiledResource, object: &Value) -> Extracted {
    // Room for the usual number of points, so pushing them rarely grows the list.
    let mut out = Extracted { points: Vec::with_capacity(4 * resource.specs.len()), errors: Vec::new() };
    let mut field_errors = Vec::new();
    let mut fields = resource.fields.evaluate(object, &mut field_errors);
    let prefix_error = |reason| ExtractError { metric: resource.prefix.clone(), reason };
    out.errors.extend(field_errors.into_iter().map(prefix_error));
    let mut common = Vec::with_capacity(resource.common_labels.len());
    for label in &resource.common_labels {
        match read_attribute(label, object, &fields) {
            Ok(Some(kv)) => common.push(kv),
            Ok(None) => {}
            Err(reason) => out.errors.push(ExtractError { metric: resource.prefix.clone(), reason }),
        }
    }
    for metric in &resource.metrics {
        let mut sink = Sink { metric, fields: &fields, out: &mut out };
        if let MetricKind::Count { path, value_label } = &metric.kind {
            if let Some(text) = sink.text_at(path, object) {
                sink.point(vec![KeyValue::new(value_label.clone(), text)], 1.0);
            }
            continue;
        }
        let mut base = common.clone();
        for label in &metric.labels {
            match read_attribute(label, object, &fields) {
                Ok(Some(kv)) => base.push(kv),
                Ok(None) => {}
                Err(reason) => sink.error(reason),
            }
        }
        sink.extract(&base, object);
    }
    aggregation_inputs(&resource.aggregations, &mut fields, &mut out.points, &mut out.errors);
    out
}

/// The attribute of `label` for `object`: none when the field is missing.
fn read_attribute(
    label: &LabelPath,
    object: &Value,
    fields: &ObjectFields<'_>,
) -> Result<Option<KeyValue>, String> {
    let text = match &label.source {
        LabelSource::Path(path) => attribute_text(path.get(object))
            .map_err(|e| format!("label {} (path {path}): {e}", label.name))?,
        LabelSource::Field(index, _) => fields.get(*index).map(ToString::to_string),
    };
    // Shared text: the attribute is cloned into each of the metric's points.
    Ok(text.map(|t| KeyValue::new(label.name.clone(), Arc::<str>::from(t))))
}

/// Collects one metric's points and errors.
struct Sink<'a> {
    metric: &'a CompiledMetric,
    fields: &'a ObjectFields<'a>,
    out: &'a mut Extracted,
}

impl Sink<'_> {
    fn point(&mut self, attributes: Vec<KeyValue>, value: f64) {
        self.out.points.push(Point::new(self.metric.id, attributes, value));
    }

    fn error(&mut self, reason: String) {
        self.out.errors.push(ExtractError { metric: self.metric.name.clone(), reason });
    }

    /// Attributes `base` plus `extra`.
    fn with(base: &[KeyValue], extra: impl IntoIterator<Item = KeyValue>) -> Vec<KeyValue> {
        base.iter().cloned().chain(extra).collect()
    }

    /// The text at `path`; `None` (and an error for lists and objects) when there is none.
    fn text_at(&mut self, path: &Path, object: &Value) -> Option<String> {
        attribute_text(path.get(object)).unwrap_or_else(|e| {
            self.error(format!("path {path}: {e}"));
            None
        })
    }

    /// The number in `value`, following `nilIsZero` for missing values.
    fn number(&mut self, value: Option<&Value>, nil_is_zero: bool, what: &dyn Fn() -> String) -> Option<f64> {
        match value {
            None | Some(Value::Null) => nil_is_zero.then_some(0.0),
            Some(v) => to_number(v).map_err(|e| self.error(format!("{}: {e}", what()))).ok(),
        }
    }

    fn extract(&mut self, base: &[KeyValue], object: &Value) {
        match &self.metric.kind {
            MetricKind::Info => self.point(base.to_vec(), 1.0),
            MetricKind::State { path, value_label, states } => {
                let Some(current) = self.text_at(path, object) else { return };
                match states {
                    None => self.point(Self::with(base, [KeyValue::new(value_label.clone(), current)]), 1.0),
                    Some(states) => {
                        for state in states {
                            let value = if **state == *current { 1.0 } else { 0.0 };
                            let attr = KeyValue::new(value_label.clone(), state.clone());
                            self.point(Self::with(base, [attr]), value);
                        }
                    }
                }
            }
            MetricKind::Gauge { path, nil_is_zero } => {
                if let Some(v) = self.number(path.get(object), *nil_is_zero, &|| format!("path {path}")) {
                    self.point(base.to_vec(), v);
                }
            }
            MetricKind::FieldGauge { field, nil_is_zero } => {
                let value = match self.fields.get(*field) {
                    None => nil_is_zero.then_some(0.0),
                    Some(value) => {
                        let number = value.as_number();
                        if number.is_none() {
                            self.error(format!("field value {:?} is not a number", value.to_string()));
                        }
                        number
                    }
                };
                if let Some(v) = value {
                    self.point(base.to_vec(), v);
                }
            }
            MetricKind::Count { .. } => {}
            MetricKind::MapState { path, key_label, value_label, key_path, value_path } => {
                for (key, entry) in self.entries(path, key_path.as_ref(), object) {
                    let state = match value_path {
                        Some(vp) => vp.get(entry),
                        None => Some(entry),
                    };
                    let state = match attribute_text(state) {
                        Ok(Some(state)) => state,
                        Ok(None) => continue,
                        Err(e) => {
                            self.error(format!("path {path}, entry {key:?}: {e}"));
                            continue;
                        }
                    };
                    let attrs =
                        [KeyValue::new(key_label.clone(), key), KeyValue::new(value_label.clone(), state)];
                    self.point(Self::with(base, attrs), 1.0);
                }
            }
            MetricKind::MapGauge { path, key_label, key_path, value_path, nil_is_zero } => {
                for (key, entry) in self.entries(path, key_path.as_ref(), object) {
                    let value = match value_path {
                        Some(vp) => vp.get(entry),
                        None => Some(entry),
                    };
                    let what = || format!("path {path}, entry {key:?}");
                    if let Some(v) = self.number(value, *nil_is_zero, &what) {
                        self.point(Self::with(base, [KeyValue::new(key_label.clone(), key)]), v);
                    }
                }
            }
            MetricKind::Conditions { path, type_label, status_label, reason_label } => {
                let labels = [type_label, status_label, reason_label];
                self.conditions(base, path, labels, object);
            }
            MetricKind::Ksm(family) => {
                let (values, errors) = family.values(object);
                for reason in errors {
                    self.error(reason);
                }
                for value in values {
                    let labels = value.labels.into_iter().map(|(k, v)| KeyValue::new(k, v));
                    self.point(Self::with(base, labels), value.value);
                }
            }
        }
    }

    /// `(key, entry)` of the map or list at `path`: map keys, or each element's `key_path` text
    /// (its index when `key_path` is unset). Elements without a key are skipped with an error.
    fn entries<'v>(
        &mut self,
        path: &Path,
        key_path: Option<&Path>,
        object: &'v Value,
    ) -> Vec<(String, &'v Value)> {
        match path.get(object) {
            None | Some(Value::Null) => vec![],
            Some(Value::Object(map)) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
            Some(Value::Array(list)) => {
                let mut entries = Vec::with_capacity(list.len());
                for (i, element) in list.iter().enumerate() {
                    let Some(key_path) = key_path else {
                        entries.push((i.to_string(), element));
                        continue;
                    };
                    match key_path.get(element).and_then(scalar_text) {
                        Some(key) => entries.push((key, element)),
                        None => self.error(format!("path {path}[{i}]: no key at {key_path}")),
                    }
                }
                entries
            }
            Some(other) => {
                self.error(format!("path {path}: expected a map or a list, found {}", json_kind(other)));
                vec![]
            }
        }
    }

    fn conditions(&mut self, base: &[KeyValue], path: &Path, labels: [&Key; 3], object: &Value) {
        let list = match path.get(object) {
            None | Some(Value::Null) => return,
            Some(Value::Array(list)) => list,
            Some(other) => {
                self.error(format!("path {path}: expected a list of conditions, found {}", json_kind(other)));
                return;
            }
        };
        let [type_label, status_label, reason_label] = labels;
        for (i, condition) in list.iter().enumerate() {
            let field = |name: &str| condition.get(name).and_then(scalar_text);
            let (Some(ty), Some(status)) = (field("type"), field("status")) else {
                self.error(format!("path {path}[{i}]: a condition needs a type and a status"));
                continue;
            };
            let value = if status.eq_ignore_ascii_case("true") { 1.0 } else { 0.0 };
            let reason = field("reason").map(|reason| KeyValue::new(reason_label.clone(), reason));
            let attrs = Self::with(
                base,
                [KeyValue::new(type_label.clone(), ty), KeyValue::new(status_label.clone(), status)]
                    .into_iter()
                    .chain(reason),
            );
            self.point(attrs, value);
        }
    }
}
