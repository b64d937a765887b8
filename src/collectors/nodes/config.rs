//! The `collectors.nodes` section.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::config_parts::{index, join, ConfigIssues};

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

#[cfg(test)]
mod tests {
    use crate::config::{load_str, Env};

    #[test]
    fn on_by_default_with_every_condition() {
        let plan = load_str("{}", &Env::from_pairs::<&str, &str>([])).unwrap();
        let nodes = &plan.config.collectors.nodes;
        assert!(nodes.enabled && nodes.leader_election && nodes.conditions.is_empty());
        assert!(nodes.reports_condition("PIDPressure"));
        let lines: Vec<String> = plan.collectors.iter().flat_map(|c| c.summary()).collect();
        assert!(
            lines.contains(&"nodes (nodes and pods; conditions: all; leader only)".to_owned()),
            "{lines:?}"
        );
    }

    #[test]
    fn conditions_are_checked_with_their_paths() {
        let yaml = "collectors:\n  nodes:\n    leaderElection: false\n    conditions: [Ready, '', Ready]\n";
        let issues = load_str(yaml, &Env::from_pairs::<&str, &str>([])).unwrap_err();
        let found: Vec<(String, String)> =
            issues.iter().map(|i| (i.path.clone(), i.message.clone())).collect();
        assert_eq!(
            found,
            vec![
                ("collectors.nodes.conditions[1]".to_owned(), "condition type must not be empty".to_owned()),
                (
                    "collectors.nodes.conditions[2]".to_owned(),
                    "condition type \"Ready\" is listed twice".to_owned()
                ),
            ]
        );
        let unknown = load_str("collectors:\n  nodes:\n    labels: {}\n", &Env::from_pairs::<&str, &str>([]));
        assert!(unknown.is_err(), "unknown keys are errors");
        let off =
            load_str("collectors:\n  nodes: {enabled: false}\n", &Env::from_pairs::<&str, &str>([])).unwrap();
        assert!(!off.config.collectors.nodes.enabled);
        assert!(crate::collectors::need_kubernetes(&off.collectors).is_empty());
    }
}
