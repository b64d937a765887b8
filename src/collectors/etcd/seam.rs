//! The etcd collector as the agent sees it: `collectors.etcd` compiled once into the plan that
//! `check` and the runtime use. It needs no cluster and works on no objects.

use tokio::task::JoinHandle;

use super::config::EtcdConfig;
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled};
use crate::config_parts::ConfigIssues;

/// The plan of `section` (found at `path`), checked whether it is enabled or not.
pub fn plan(section: &EtcdConfig, path: &str, issues: &mut ConfigIssues) -> CollectorPlan {
    section.validate(path, issues);
    let configured = !section.clusters.is_empty();
    let etcd = Etcd(section.clone());
    CollectorPlan::new("etcd", section.is_enabled(), configured, section.leader_election, section, etcd)
}

struct Etcd(EtcdConfig);

impl Compiled for Etcd {
    fn summary(&self, election: &str) -> Vec<String> {
        self.0
            .clusters
            .iter()
            .map(|c| {
                let interval = c.interval.unwrap_or(self.0.interval);
                let auth =
                    c.auth.as_ref().map(|a| format!(" as etcd user {}", a.username)).unwrap_or_default();
                format!("etcd/{} ({} members every {interval}{auth}; {election})", c.name, c.endpoints.len())
            })
            .collect()
    }

    fn needs_kubernetes(&self) -> bool {
        false
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        tokio::spawn(super::poller::run(self.0.clone(), ctx))
    }
}
