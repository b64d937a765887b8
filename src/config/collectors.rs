//! The `collectors` section: one entry per collector, each defined beside its collector.

use serde::{Deserialize, Serialize};

use super::ConfigIssues;

/// Settings of every collector.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectorsConfig {}

impl CollectorsConfig {
    /// Validates each collector's section; `path` is `collectors`.
    pub fn validate(&self, _path: &str, _issues: &mut ConfigIssues) {}

    /// One line per enabled collector, for `check`.
    pub fn summary(&self) -> Vec<String> {
        Vec::new()
    }
}
