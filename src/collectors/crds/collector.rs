//! The live custom-resource collector: one watch task per configured resource, each writing
//! the points it extracts into that resource's series table.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::plan::CompiledResource;
use super::watch::watch_resource;
use crate::collectors::CollectorContext;
use crate::series::SeriesTable;

/// Runs until `ctx.cancel` fires. Ready once every resource has finished its first list; a
/// resource whose CRD is missing keeps it not ready, with the reason in the status details.
pub async fn run(resources: Vec<CompiledResource>, ctx: CollectorContext) {
    let Some(client) = ctx.kube.clone() else {
        ctx.status.set_detail("kubernetes", Some("no Kubernetes client configured".into()));
        return;
    };
    ctx.status.set_up(true);
    let remaining = Arc::new(AtomicUsize::new(resources.len()));
    ctx.status.set_ready(resources.is_empty());
    let mut tasks = JoinSet::new();
    let mut tables = Vec::new();
    for resource in resources {
        let owner = format!("crds/{}", resource.name);
        let tags = ctx.shard.iter().map(|shard| shard.attribute()).collect();
        let table = SeriesTable::new(owner, resource.specs.clone()).awaiting_list().tagging_aggregates(tags);
        let table = ctx.registry.attach(Arc::new(table));
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
