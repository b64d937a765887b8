//! The `collectors` section: one entry per collector, each defined beside its collector.

use serde::{Deserialize, Serialize};

use super::{join, ConfigIssues};
use crate::collectors::crds::{self, CrdsConfig};
use crate::collectors::etcd::EtcdConfig;
use crate::collectors::nodes::NodesConfig;

/// Settings of every collector.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectorsConfig {
    /// Metrics from custom resources, described in YAML (SPEC §4).
    #[serde(default)]
    pub crds: CrdsConfig,
    /// Node metrics, per-node pod figures and cluster totals (SPEC §5); on by default.
    #[serde(default)]
    pub nodes: NodesConfig,
    /// etcd cluster inspection (SPEC §6).
    #[serde(default)]
    pub etcd: EtcdConfig,
}

impl CollectorsConfig {
    /// Validates each collector's section; `path` is `collectors`.
    pub fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        if self.crds.enabled {
            crds::compile(&self.crds, &join(path, "crds"), issues);
        }
        if self.nodes.enabled {
            self.nodes.validate(&join(path, "nodes"), issues);
        }
        if self.etcd.enabled {
            self.etcd.validate(&join(path, "etcd"), issues);
        }
    }

    /// One line per enabled collector, for `check`.
    pub fn summary(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let election = |on: bool| if on { "leader only" } else { "every replica" };
        if self.crds.enabled {
            for r in &self.crds.resources {
                let names: Vec<String> = r
                    .metrics
                    .iter()
                    .map(|m| crds::metric_name(&self.crds.metrics_namespace, &r.name, &m.name))
                    .collect();
                lines.push(format!(
                    "crds/{} ({}/{} {}; {}): {}",
                    r.name,
                    r.gvr.group,
                    r.gvr.version,
                    r.gvr.resource,
                    election(self.crds.leader_election),
                    names.join(", ")
                ));
            }
        }
        if self.nodes.enabled {
            let conditions = if self.nodes.conditions.is_empty() {
                "all".to_owned()
            } else {
                self.nodes.conditions.join(", ")
            };
            lines.push(format!(
                "nodes (nodes and pods; conditions: {conditions}; {})",
                election(self.nodes.leader_election)
            ));
        }
        if self.etcd.enabled {
            for c in &self.etcd.clusters {
                lines.push(format!(
                    "etcd/{} ({} members every {}; {})",
                    c.name,
                    c.endpoints.len(),
                    self.etcd.interval,
                    election(self.etcd.leader_election)
                ));
            }
        }
        lines
    }
}
