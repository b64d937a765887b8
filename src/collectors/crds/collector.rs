//! The live custom-resource collector: one watch task per configured resource, each writing
//! the points it extracts into that resource's series table.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::ksm::{from_discovery, KsmResource};
use super::plan::CompiledResource;
use super::watch::watch_resource;
use super::watch_limits::DISCOVERY;
use crate::backoff::Attempts;
use crate::collectors::CollectorContext;

/// Runs until `ctx.cancel` fires. Ready once every resource has finished its first list; a
/// resource whose CRD is missing keeps it not ready, with the reason in the status details.
pub async fn run(
    mut resources: Vec<CompiledResource>,
    wildcards: Vec<Arc<KsmResource>>,
    ctx: CollectorContext,
) {
    let Some(client) = ctx.kube.clone() else {
        ctx.status.set_detail("kubernetes", Some("no Kubernetes client configured".into()));
        return;
    };
    for wildcard in &wildcards {
        let Some(found) = resolve_wildcard(wildcard, &client, &ctx).await else { return };
        resources.extend(found);
    }
    ctx.status.set_up(true);
    let remaining = Arc::new(AtomicUsize::new(resources.len()));
    ctx.status.set_ready(resources.is_empty());
    let mut tasks = JoinSet::new();
    let mut tables = Vec::new();
    for resource in resources {
        let table = ctx.registry.table_after_list(format!("crds/{}", resource.name), resource.specs.clone());
        let (remaining, status) = (remaining.clone(), ctx.status.clone());
        let synced = move || {
            if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
                status.set_ready(true);
            }
        };
        let task =
            watch_resource(Arc::new(resource), client.clone(), table.table().clone(), ctx.clone(), synced);
        tasks.spawn(task);
        tables.push(table);
    }
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "a custom-resource watch task failed");
        }
    }
    ctx.status.set_up(false);
    // The handles keep the tables attached to the export for as long as the watches run.
    drop(tables);
}

/// The concrete resources a kube-state-metrics `*` stands for, once discovery answers (retried
/// until it does, or `None` when `ctx.cancel` fires first). Resolved when the collector starts:
/// a CRD installed later is picked up by the next restart or config reload.
async fn resolve_wildcard(
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
