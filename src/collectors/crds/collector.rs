//! The live custom-resource collector: one watch task per configured resource, each writing
//! the points it extracts into that resource's series table (a `select` entry: one task that
//! follows discovery and runs one such watch per matching type), and with `namespaceSelector`
//! one watch on namespaces.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::namespace_gate::NamespaceGate;
use super::namespace_watch::watch_namespaces;
use super::plan::CompiledResource;
use super::watch::watch_resource;
use super::watch_select::watch_selected;
use crate::collectors::CollectorContext;

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
    let resources = with_namespace_gates(resources, &client, &ctx, &mut tasks);
    let (selecting, resources): (Vec<_>, Vec<_>) =
        resources.into_iter().partition(|r| r.discovery.types.is_some());
    for entry in selecting {
        let Some(selection) = entry.discovery.types.clone() else { continue };
        let synced = last_one_readies(remaining.clone(), ctx.status.clone());
        tasks.spawn(watch_selected(Arc::new(entry), selection, client.clone(), ctx.clone(), synced));
    }
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

/// Called once per resource when it has listed: the last call makes the collector ready.
fn last_one_readies(
    remaining: Arc<AtomicUsize>,
    status: crate::collectors::CollectorStatus,
) -> impl FnOnce() + Send + 'static {
    move || {
        if remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            status.set_ready(true);
        }
    }
}

/// With any `namespaceSelector`, starts the one watch on namespaces (in `tasks`) and gives each
/// resource with a selector its gate.
fn with_namespace_gates(
    mut resources: Vec<CompiledResource>,
    client: &kube::Client,
    ctx: &CollectorContext,
    tasks: &mut JoinSet<()>,
) -> Vec<CompiledResource> {
    if resources.iter().all(|r| r.discovery.namespace_selector.is_none()) {
        return resources;
    }
    let (labels, watched) = tokio::sync::watch::channel(None);
    tasks.spawn(watch_namespaces(client.clone(), labels, ctx.cancel.clone()));
    for resource in &mut resources {
        if let Some(selector) = &resource.discovery.namespace_selector {
            resource.discovery.gate = Some(NamespaceGate::new(selector.selector.clone(), watched.clone()));
        }
    }
    resources
}
