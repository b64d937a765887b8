//! Resolving a kube-state-metrics `*` (version or kind) to the resources the API server serves.

use super::ksm::{from_discovery, KsmResource};
use super::plan::CompiledResource;
use super::watch_limits::DISCOVERY;
use crate::backoff::Attempts;
use crate::collectors::CollectorContext;

/// The concrete resources a kube-state-metrics `*` stands for, once discovery answers (retried
/// until it does, or `None` when `ctx.cancel` fires first). Resolved when the collector starts:
/// a CRD installed later is picked up by the next restart or config reload.
pub async fn resolve_wildcard(
    wildcard: &KsmResource,
    client: &kube::Client,
    ctx: &CollectorContext,
) -> Option<Vec<CompiledResource>> {
    let name = wildcard.display_name();
    let mut failures = Attempts::default();
    loop {
        match from_discovery(client, wildcard).await {
            Ok(found) => {
                let names: Vec<&str> = found.iter().map(|r| r.name.as_str()).collect();
                tracing::info!(resource = %name, resolved = ?names, "kube-state-metrics wildcard resolved");
                let detail = found.is_empty().then(|| "no served resource matches".to_owned());
                ctx.status.set_detail(&name, detail);
                return Some(found);
            }
            Err(error) => {
                tracing::warn!(resource = %name, %error, "discovery failed; retrying");
                ctx.status.set_detail(&name, Some(format!("discovery failed: {error}; retrying")));
            }
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => return None,
            _ = tokio::time::sleep(failures.next_delay(&DISCOVERY)) => {}
        }
    }
}
