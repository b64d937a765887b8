//! `type: StateSet`: one series per state of `list`, 1 for the current one, per value found at
//! `path` (each element of a list, or the value itself), kube-state-metrics' `compiledStateSet`.

use serde_json::Value;

use super::family::FamilyValue;
use super::labels::{LabelSet, PathLabels};
use super::path::KsmPath;
use crate::objects::json_kind;

/// A compiled `each.stateSet`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateSetEach {
    pub path: KsmPath,
    pub labels: PathLabels,
    pub label_name: String,
    pub value_from: KsmPath,
    pub list: Vec<String>,
}

impl StateSetEach {
    /// The values of what `path` found (`at`); a missing state gives nothing and no error.
    pub fn values(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let StateSetEach { path, labels, label_name, value_from, list } = self;
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
}
