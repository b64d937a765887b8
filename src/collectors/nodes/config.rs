//! The `collectors.nodes` section.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config::{index, join, ConfigIssues};

/// Node and per-node pod figures (SPEC §5).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodesConfig {
    /// Whether the nodes collector runs (on by default).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Whether only the replica holding the leader Lease watches (one set of series for the
    /// fleet); `false` makes every replica watch.
    #[serde(default = "default_leader_election")]
    pub leader_election: bool,
    /// Node condition types reported by `k8s.node.condition.status` (`Ready`,
    /// `MemoryPressure`, ...); empty reports every condition the node has.
    #[serde(default)]
    pub conditions: Vec<String>,
}

fn default_enabled() -> bool {
    true
}

fn default_leader_election() -> bool {
    true
}

impl Default for NodesConfig {
    fn default() -> Self {
        NodesConfig {
            enabled: default_enabled(),
            leader_election: default_leader_election(),
            conditions: Vec::new(),
        }
    }
}

impl NodesConfig {
    /// Checks the condition list; `path` is `collectors.nodes`.
    pub fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        let mut seen = HashSet::new();
        for (i, condition) in self.conditions.iter().enumerate() {
            let at = index(&join(path, "conditions"), i);
            if condition.trim().is_empty() {
                issues.push(at, "condition type must not be empty");
            } else if !seen.insert(condition.as_str()) {
                issues.push(at, format!("condition type {condition:?} is listed twice"));
            }
        }
    }

    /// Whether a condition type is reported.
    pub fn reports_condition(&self, condition_type: &str) -> bool {
        self.conditions.is_empty() || self.conditions.iter().any(|c| c == condition_type)
    }
}
