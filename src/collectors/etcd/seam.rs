//! The etcd collector as the agent sees it: `collectors.etcd` compiled once into the plan that
//! `check` and the runtime use. It needs no cluster and works on no objects.

use tokio::task::JoinHandle;

use super::config::EtcdConfig;
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled};
use crate::config_parts::ConfigIssues;

/// The plan of `section` (found at `path`) when it is enabled.
pub fn plan(section: &EtcdConfig, path: &str, issues: &mut ConfigIssues) -> Option<CollectorPlan> {
    if !section.enabled {
        return None;
    }
    section.validate(path, issues);
    Some(CollectorPlan::new("etcd", true, section.leader_election, section, Etcd(section.clone())))
}

struct Etcd(EtcdConfig);

impl Compiled for Etcd {
    fn summary(&self, election: &str) -> Vec<String> {
        let interval = &self.0.interval;
        self.0
            .clusters
            .iter()
            .map(|c| format!("etcd/{} ({} members every {interval}; {election})", c.name, c.endpoints.len()))
            .collect()
    }

    fn needs_kubernetes(&self) -> bool {
        false
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        tokio::spawn(super::poller::run(self.0.clone(), ctx))
    }
}
