//! `type: Info`: value 1 for each value found at `path` that gives any label (each element of a
//! list; over a map, each entry and the map itself), kube-state-metrics' `compiledInfo`.

use serde_json::{Map, Value};

use super::family::FamilyValue;
use super::labels::{LabelSet, PathLabels};
use super::path::KsmPath;

/// A compiled `each.info`.
#[derive(Debug, Clone, PartialEq)]
pub struct InfoEach {
    pub path: KsmPath,
    pub labels: PathLabels,
    pub label_from_key: String,
}

impl InfoEach {
    /// The values of what `path` found (`at`).
    pub fn values(&self, at: Option<&Value>, errors: &mut Vec<String>) -> Vec<FamilyValue> {
        let InfoEach { path, labels, label_from_key } = self;
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
