//! `labelsFromPath` and `commonLabels` applied the way kube-state-metrics applies them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::path::KsmPath;
use super::values::{go_text, sanitize_label_name};

/// Label name → value, kept sorted by name as kube-state-metrics writes them.
pub type LabelSet = BTreeMap<String, String>;

/// Compiled `labelsFromPath`: the `*` entries (sorted, applied first so named ones override
/// them) and the named ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PathLabels {
    /// (name with its `*`, path): `*`, `*1` copy a map's keys as they are; `prefix_*` prefixes them.
    stars: Vec<(String, KsmPath)>,
    named: Vec<(String, KsmPath)>,
}

impl PathLabels {
    /// Compiles `paths`; an error names the label whose path is malformed.
    pub fn compile(paths: &BTreeMap<String, Vec<String>>) -> Result<PathLabels, (String, String)> {
        let mut labels = PathLabels::default();
        for (name, segments) in paths {
            let path = KsmPath::compile(segments).map_err(|e| (name.clone(), e))?;
            if name.starts_with('*') || name.ends_with('*') {
                labels.stars.push((name.clone(), path));
            } else {
                labels.named.push((name.clone(), path));
            }
        }
        // BTreeMap order is the byte order kube-state-metrics sorts the `*` names in.
        Ok(labels)
    }

    pub fn is_empty(&self) -> bool {
        self.stars.is_empty() && self.named.is_empty()
    }

    /// Adds the labels read from `value` to `into`, overwriting equal names (kube-state-metrics'
    /// `addPathLabels`); a missing value adds nothing.
    pub fn add(&self, value: Option<&Value>, into: &mut LabelSet) {
        let Some(value) = value else { return };
        for (star, path) in &self.stars {
            if let Some(Value::Object(map)) = path.get(value) {
                let prefix = star.strip_suffix('*');
                for (key, entry) in map {
                    let name = match prefix {
                        Some(prefix) => format!("{prefix}{key}"),
                        None => key.clone(),
                    };
                    into.insert(sanitize_label_name(&name), go_text(entry));
                }
            }
        }
        for (name, path) in &self.named {
            if let Some(found) = path.get(value) {
                into.insert(sanitize_label_name(name), go_text(found));
            }
        }
    }
}

/// Adds every label of `defaults` that `labels` lacks (kube-state-metrics' `DefaultLabels`).
pub fn fill_defaults(labels: &mut LabelSet, defaults: &LabelSet) {
    for (name, value) in defaults {
        labels.entry(name.clone()).or_insert_with(|| value.clone());
    }
}
