//! Starting the enabled collectors, each in its own task with its own status.

use tokio::task::JoinHandle;

use super::context::CollectorContext;
use super::{crds, etcd, nodes};
use crate::config::CollectorsConfig;
use crate::telemetry::StatusBoard;

/// The enabled collectors that need the Kubernetes API (`collectors.<name>`), in config order.
pub fn need_kubernetes(config: &CollectorsConfig) -> Vec<&'static str> {
    [("crds", config.crds.enabled), ("nodes", config.nodes.enabled)]
        .into_iter()
        .filter_map(|(name, enabled)| enabled.then_some(name))
        .collect()
}

/// Spawns every enabled collector; each appears on `board` under its name.
pub fn spawn_all(
    config: &CollectorsConfig,
    base: &CollectorContext,
    board: &StatusBoard,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let start = |name: &str| {
        let ctx = CollectorContext { name: name.to_owned(), status: Default::default(), ..base.clone() };
        board.write().push((name.to_owned(), ctx.status.clone()));
        ctx
    };
    if config.crds.enabled {
        // The config was validated at load, so compiling again cannot fail here.
        match crds::compile_crds(&config.crds) {
            Ok(resources) => {
                let ctx = start("crds");
                tasks.push(tokio::spawn(crds::run(resources, ctx)));
            }
            Err(issues) => tracing::error!(%issues, "collectors.crds does not compile; not started"),
        }
    }
    if config.nodes.enabled {
        let ctx = start("nodes");
        tasks.push(tokio::spawn(nodes::run(config.nodes.clone(), ctx)));
    }
    if config.etcd.enabled {
        let ctx = start("etcd");
        tasks.push(tokio::spawn(etcd::run(config.etcd.clone(), ctx)));
    }
    tasks
}
