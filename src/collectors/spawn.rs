//! The enabled collectors as plans: what the runtime starts, stops when the Lease is lost, and
//! compares on reload to restart only the collectors whose section changed.

use tokio::task::JoinHandle;

use super::context::CollectorContext;
use super::crds::{self, CrdsConfig};
use super::etcd::{self, EtcdConfig};
use super::nodes::{self, NodesConfig};
use crate::config::CollectorsConfig;

/// The enabled collectors that need the Kubernetes API (`collectors.<name>`), in config order.
pub fn need_kubernetes(config: &CollectorsConfig) -> Vec<&'static str> {
    [("crds", config.crds.enabled), ("nodes", config.nodes.enabled)]
        .into_iter()
        .filter_map(|(name, enabled)| enabled.then_some(name))
        .collect()
}

/// One collector's config section.
#[derive(Debug, Clone, PartialEq)]
enum Section {
    Crds(CrdsConfig),
    Nodes(NodesConfig),
    Etcd(EtcdConfig),
}

/// An enabled collector, ready to be started (again). Two plans are equal when the collector's
/// whole section is, so a reload that leaves a section alone leaves its collector running.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectorPlan {
    /// `crds`, `nodes`, `etcd`: the status board and self-metrics key.
    pub name: &'static str,
    /// Runs only on the Lease holder (`leaderElection: true`).
    pub leader_only: bool,
    section: Section,
}

/// The enabled collectors of `config`, in a fixed order.
pub fn plans(config: &CollectorsConfig) -> Vec<CollectorPlan> {
    let mut plans = Vec::new();
    if config.crds.enabled {
        plans.push(CollectorPlan {
            name: "crds",
            leader_only: config.crds.leader_election,
            section: Section::Crds(config.crds.clone()),
        });
    }
    if config.nodes.enabled {
        plans.push(CollectorPlan {
            name: "nodes",
            leader_only: config.nodes.leader_election,
            section: Section::Nodes(config.nodes.clone()),
        });
    }
    if config.etcd.enabled {
        plans.push(CollectorPlan {
            name: "etcd",
            leader_only: config.etcd.leader_election,
            section: Section::Etcd(config.etcd.clone()),
        });
    }
    plans
}

impl CollectorPlan {
    /// Starts the collector in its own task; it runs until `ctx.cancel` fires.
    pub fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        match &self.section {
            // The config was validated at load, so compiling again cannot fail here.
            Section::Crds(config) => match crds::compile_crds(config) {
                Ok(resources) => tokio::spawn(crds::run(resources, ctx)),
                Err(issues) => {
                    tracing::error!(%issues, "collectors.crds does not compile; not started");
                    ctx.status.set_detail("config", Some(issues.to_string()));
                    tokio::spawn(async {})
                }
            },
            Section::Nodes(config) => tokio::spawn(nodes::run(config.clone(), ctx)),
            Section::Etcd(config) => tokio::spawn(etcd::run(config.clone(), ctx)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_enabled_collectors_are_planned_with_their_election_setting() {
        let mut config = CollectorsConfig::default();
        let names = |config: &CollectorsConfig| -> Vec<_> {
            plans(config).iter().map(|p| (p.name, p.leader_only)).collect()
        };
        assert_eq!(names(&config), [("nodes", true)], "nodes is on by default");
        config.nodes.enabled = false;
        assert!(plans(&config).is_empty());
        config.etcd.enabled = true;
        config.etcd.leader_election = false;
        config.crds.enabled = true;
        config.nodes.enabled = true;
        let planned = plans(&config);
        assert_eq!(names(&config), [("crds", true), ("nodes", true), ("etcd", false)]);

        let mut changed = config.clone();
        changed.etcd.interval = crate::config::Duration::from_secs(1);
        let after = plans(&changed);
        assert_eq!(after[..2], planned[..2]);
        assert_ne!(after[2], planned[2]);
    }
}
