//! `type: Gauge`: a number per value found at `path` (each entry of a map, each element of a
//! list, or the value itself), kube-state-metrics' `compiledGauge`.

use serde_json::Value;

use super::family::FamilyValue;
use super::labels::PathLabels;
use super::path::KsmPath;
use super::values::to_float;

/// A compiled `each.gauge`.
#[derive(Debug, Clone, PartialEq)]
pub struct GaugeEach {
    pub path: KsmPath,
    pub labels: PathLabels,
    pub label_from_key: String,
    pub value_from: KsmPath,
    pub nil_is_zero: bool,
}

impl GaugeEach {
    /// The values of what `path` found (`at`), with the problems kube-state-metrics reports.
    pub fn values(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let GaugeEach { path, labels, label_from_key, value_from, nil_is_zero } = self;
        let gauge = GaugeRule { value_from, nil_is_zero: *nil_is_zero };
        let mut out = Vec::new();
        match at {
            Some(Value::Object(map)) => {
                // A one-segment `valueFrom` naming a key of this map takes that entry itself.
                let own_key = value_from.single_segment();
                for (key, entry) in map {
                    let mut value = if own_key == Some(key.as_str()) {
                        match to_float(Some(entry), *nil_is_zero) {
                            Ok(v) => FamilyValue::bare(v),
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
                return Ok(Some(FamilyValue::bare(0.0)));
            }
            return match element {
                None => Err("got nil while resolving path".into()),
                Some(_) => Ok(None),
            };
        };
        to_float(Some(found), self.nil_is_zero)
            .map(|value| Some(FamilyValue::bare(value)))
            .map_err(|e| format!("{}: {e}", self.value_from))
    }
}
