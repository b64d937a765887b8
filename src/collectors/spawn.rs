//! Starting the enabled collectors, each in its own task with its own status.

use tokio::task::JoinHandle;

use super::context::CollectorContext;
use crate::config::CollectorsConfig;
use crate::telemetry::StatusBoard;

/// Whether any enabled collector needs the Kubernetes API.
pub fn need_kubernetes(_config: &CollectorsConfig) -> bool {
    false
}

/// Spawns every enabled collector; each appears on `board` under its name.
pub fn spawn_all(
    _config: &CollectorsConfig,
    _base: &CollectorContext,
    _board: &StatusBoard,
) -> Vec<JoinHandle<()>> {
    Vec::new()
}
