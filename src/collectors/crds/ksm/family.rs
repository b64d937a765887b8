//! One compiled kube-state-metrics metric family and what it makes of an object: the
//! `Gauge`, `StateSet` and `Info` value rules of kube-state-metrics' `registry_factory.go`,
//! followed step by step (including which problems are reported and which are silently
//! skipped), so the series are the ones kube-state-metrics exports.

use serde_json::{Map, Value};

use super::labels::{fill_defaults, LabelSet, PathLabels};
use super::path::KsmPath;
use super::values::to_float;
use crate::objects::json_kind;

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
    Gauge {
        path: KsmPath,
        labels: PathLabels,
        label_from_key: String,
        value_from: KsmPath,
        nil_is_zero: bool,
    },
    StateSet {
        path: KsmPath,
        labels: PathLabels,
        label_name: String,
        value_from: KsmPath,
        list: Vec<String>,
    },
    Info {
        path: KsmPath,
        labels: PathLabels,
        label_from_key: String,
    },
}

impl EachKind {
    /// The `path` every type has.
    fn path(&self) -> &KsmPath {
        match self {
            EachKind::Gauge { path, .. } | EachKind::StateSet { path, .. } | EachKind::Info { path, .. } => {
                path
            }
        }
    }
}

/// One series of a family for one object.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilyValue {
    pub labels: LabelSet,
    pub value: f64,
}

impl KsmFamily {
    /// The series of `object`, and the problems found (empty when `errorLogV` silences them).
    pub fn values(&self, object: &Value) -> (Vec<FamilyValue>, Vec<String>) {
        let mut base = self.common.clone();
        self.labels.add(Some(object), &mut base);
        let mut errors = Vec::new();
        let at = self.each.path().get(object);
        let mut values = match &self.each {
            EachKind::Gauge { .. } => self.gauge(at, &mut errors),
            EachKind::StateSet { .. } => self.state_set(at, &mut errors),
            EachKind::Info { .. } => self.info(at, &mut errors),
        };
        for value in &mut values {
            fill_defaults(&mut value.labels, &base);
        }
        if !self.report_errors {
            errors.clear();
        }
        (values, errors)
    }

    fn gauge(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let EachKind::Gauge { path, labels, label_from_key, value_from, nil_is_zero } = &self.each else {
            return vec![];
        };
        let gauge = GaugeRule { value_from, nil_is_zero: *nil_is_zero };
        let mut out = Vec::new();
        match at {
            Some(Value::Object(map)) => {
                // A one-segment `valueFrom` naming a key of this map takes that entry itself.
                let own_key = value_from.single_segment();
                for (key, entry) in map {
                    let mut value = if own_key == Some(key.as_str()) {
                        match to_float(Some(entry), *nil_is_zero) {
                            Ok(v) => FamilyValue { labels: LabelSet::new(), value: v },
                            Err(e) => {
                                errors.push(format!("{path}: [{key}]: {e}"));
                                continue;
                            }
                        }
                    } else {
                        // kube-state-metrics skips map entries without a value, errors included.
                        match gauge.value(Some(entry)) {
                            Ok(Some(value)) => value,
                            _ => continue,
                        }
                    };
                    if !key.is_empty() && !label_from_key.is_empty() {
                        value.labels.insert(label_from_key.clone(), key.clone());
                    }
                    labels.add(Some(entry), &mut value.labels);
                    labels.add(at, &mut value.labels);
                    out.push(value);
                }
            }
            Some(Value::Array(list)) => {
                for (i, element) in list.iter().enumerate() {
                    let element = (!element.is_null()).then_some(element);
                    match gauge.value(element) {
                        Ok(Some(mut value)) => {
                            labels.add(element, &mut value.labels);
                            out.push(value);
                        }
                        Ok(None) => {}
                        Err(e) => errors.push(format!("{path}: [{i}]: {e}")),
                    }
                }
            }
            other => match gauge.value(other) {
                Ok(Some(mut value)) => {
                    labels.add(other, &mut value.labels);
                    out.push(value);
                }
                Ok(None) => {}
                Err(e) => errors.push(format!("{path}: {e}")),
            },
        }
        out
    }

    fn state_set(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let EachKind::StateSet { path, labels, label_name, value_from, list } = &self.each else {
            return vec![];
        };
        let one = |element: Option<&Value>, errors: &mut Vec<String>| -> Vec<FamilyValue> {
            let Some(current) = element.and_then(|e| value_from.get(e)) else { return vec![] };
            let Value::String(current) = current else {
                errors.push(format!(
                    "{}: expected value for path to be string, got {}",
                    path.joined(value_from),
                    json_kind(current)
                ));
                return vec![];
            };
            list.iter()
                .map(|state| {
                    let mut labels_of = LabelSet::new();
                    labels_of.insert(label_name.clone(), state.clone());
                    labels.add(element, &mut labels_of);
                    FamilyValue { labels: labels_of, value: if state == current { 1.0 } else { 0.0 } }
                })
                .collect()
        };
        match at {
            Some(Value::Array(elements)) => {
                elements.iter().flat_map(|e| one((!e.is_null()).then_some(e), errors)).collect()
            }
            other => one(other, errors),
        }
    }

    fn info(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let EachKind::Info { path, labels, label_from_key } = &self.each else { return vec![] };
        let one = |element: Option<&Value>| -> Option<FamilyValue> {
            let mut found = LabelSet::new();
            labels.add(element, &mut found);
            (!found.is_empty()).then_some(FamilyValue { labels: found, value: 1.0 })
        };
        match at {
            Some(Value::Array(elements)) => elements.iter().filter_map(|e| one(Some(e))).collect(),
            Some(Value::Object(map)) => {
                let whole = one(at);
                if whole.as_ref().is_some_and(|w| w.labels.contains_key(label_from_key)) {
                    errors.push(format!(
                        "{path}: labelFromKey ({label_from_key}) generated labels conflict with labelsFromPath, consider renaming it"
                    ));
                }
                let mut out = entries_info(map, label_from_key, labels);
                out.extend(whole);
                out
            }
            other => one(other).into_iter().collect(),
        }
    }
}

/// An info family over a map: one series per entry that gives any label (its key under
/// `labelFromKey`, and `labelsFromPath` read from the entry).
fn entries_info(map: &Map<String, Value>, label_from_key: &str, labels: &PathLabels) -> Vec<FamilyValue> {
    let mut out = Vec::new();
    for (key, entry) in map {
        let mut found = LabelSet::new();
        if !key.is_empty() && !label_from_key.is_empty() {
            found.insert(label_from_key.to_owned(), key.clone());
        }
        labels.add(Some(entry), &mut found);
        if !found.is_empty() {
            out.push(FamilyValue { labels: found, value: 1.0 });
        }
    }
    out
}

/// A gauge's value rule for one element (kube-state-metrics' `compiledGauge.value`).
struct GaugeRule<'a> {
    value_from: &'a KsmPath,
    nil_is_zero: bool,
}

impl GaugeRule<'_> {
    /// `Ok(None)`: no value and nothing to report.
    fn value(&self, element: Option<&Value>) -> Result<Option<FamilyValue>, String> {
        let found = element.and_then(|e| self.value_from.get(e));
        let Some(found) = found else {
            if self.nil_is_zero {
                return Ok(Some(FamilyValue { labels: LabelSet::new(), value: 0.0 }));
            }
            return match element {
                None => Err("got nil while resolving path".into()),
                Some(_) => Ok(None),
            };
        };
        to_float(Some(found), self.nil_is_zero)
            .map(|value| Some(FamilyValue { labels: LabelSet::new(), value }))
            .map_err(|e| format!("{}: {e}", self.value_from))
    }
}
