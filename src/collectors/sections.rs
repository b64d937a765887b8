//! The `collectors:` section of the config file: one entry per collector, each defined and
//! compiled in its collector's folder. This is the one list of collectors: adding one is a
//! field here, its line in [`CollectorsConfig::compile`] and, when it declares fixed metrics,
//! in [`declared_metrics`].

use serde::{Deserialize, Serialize};

use super::declare::MetricDeclaration;
use super::plan::CollectorPlan;
use super::{crds, etcd, nodes};
use crate::config_parts::{join, ConfigIssues};

/// Settings of every collector.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectorsConfig {
    /// Metrics from custom resources, described in YAML (SPEC §4).
    #[serde(default)]
    pub crds: crds::CrdsConfig,
    /// Node metrics, per-node pod figures and cluster totals (SPEC §5); on by default.
    #[serde(default)]
    pub nodes: nodes::NodesConfig,
    /// etcd cluster inspection (SPEC §6).
    #[serde(default)]
    pub etcd: etcd::EtcdConfig,
}

impl CollectorsConfig {
    /// Compiles every section, enabled or not, into its plan, in a fixed order; `path` is
    /// `collectors`. Every problem goes into `issues`; a plan is only meant to run when there
    /// are none, and only when it is enabled.
    pub fn compile(&self, path: &str, issues: &mut ConfigIssues) -> Vec<CollectorPlan> {
        vec![
            crds::plan(&self.crds, &join(path, "crds"), issues),
            nodes::plan(&self.nodes, &join(path, "nodes"), issues),
            etcd::plan(&self.etcd, &join(path, "etcd"), issues),
        ]
    }
}

impl CollectorsConfig {
    /// Files whose content is part of the config (a kube-state-metrics document): watched
    /// like the config file, so a change of one is a config change.
    pub fn referenced_files(&self) -> Vec<std::path::PathBuf> {
        self.crds.referenced_files()
    }
}

/// The metrics each collector declares, by collector name. The crds collector declares none:
/// its metrics are the ones the configuration describes.
pub fn declared_metrics() -> Vec<(&'static str, &'static [MetricDeclaration])> {
    vec![("nodes", nodes::NodeMetric::DECLARATIONS), ("etcd", etcd::EtcdMetric::DECLARATIONS)]
}
