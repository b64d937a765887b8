//! The agent's own telemetry vocabulary: the self-metrics counted as events happen, recorded
//! through one typed place by every part of the agent.

mod self_metrics;

pub use self_metrics::{ReloadResult, SelfMetrics, WatchEventKind};

/// Selects `ring` as the process's rustls provider (both kube and reqwest use rustls; no second
/// crypto library is built). Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
