//! Starting the enabled collectors, each in its own task with its own status.

use tokio::task::JoinHandle;

use super::context::CollectorContext;
use super::{etcd, nodes};
use crate::config::CollectorsConfig;
use crate::telemetry::StatusBoard;

/// Whether any enabled collector needs the Kubernetes API.
pub fn need_kubernetes(config: &CollectorsConfig) -> bool {
    config.crds.enabled || config.nodes.enabled
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
