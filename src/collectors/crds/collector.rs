//! The live custom-resource collector: one watch task per configured resource, each writing
//! the points it extracts into that resource's series table (a `select` entry: one task that
//! follows discovery and runs one such watch per matching type; kube-state-metrics resources
//! with a `*` first resolve to theirs through discovery, without holding up the others), and
//! with `namespaceSelector` one watch on namespaces.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::task::JoinSet;

use super::ksm::KsmResource;
use super::namespace_gate::NamespaceGate;
use super::namespace_watch::watch_namespaces;
use super::plan::CompiledResource;
use super::watch::watch_resource;
use super::watch_select::watch_selected;
use super::watch_wildcard::resolve_wildcard;
use crate::collectors::{CollectorContext, CollectorStatus};
use crate::series::{SeriesTable, TableHandle};

/// Runs until `ctx.cancel` fires. Ready once every resource has finished its first list (and
/// every wildcard has resolved); a resource whose CRD is missing keeps it not ready, with the
/// reason in the status details.
pub async fn run(resources: Vec<CompiledResource>, wildcards: Vec<Arc<KsmResource>>, ctx: CollectorContext) {
    let Some(client) = ctx.kube.clone() else {
        ctx.status.set_detail("kubernetes", Some("no Kubernetes client configured".into()));
        return;
    };
    ctx.status.set_up(true);
    let pending = Pending::new(ctx.status.clone(), resources.len() + wildcards.len());
    let mut tasks = JoinSet::new();
    tasks.spawn(watch_all(resources, client.clone(), ctx.clone(), pending.clone()));
    for wildcard in wildcards {
        let (client, ctx, pending) = (client.clone(), ctx.clone(), pending.clone());
        tasks.spawn(async move {
            let Some(found) = resolve_wildcard(&wildcard, &client, &ctx).await else { return };
            // Its resources are pending before the wildcard itself is done, so readiness
            // cannot pass in between.
            pending.add(found.len());
            pending.done();
            watch_all(found, client, ctx, pending).await;
        });
    }
    while let Some(result) = tasks.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "a custom-resource watch task failed");
        }
    }
    ctx.status.set_up(false);
}

/// Watches `resources`, each into its own table, until `ctx.cancel` fires.
async fn watch_all(
    resources: Vec<CompiledResource>,
    client: kube::Client,
    ctx: CollectorContext,
    pending: Pending,
) {
    let mut tasks = JoinSet::new();
    let mut tables = Vec::new();
    let resources = with_namespace_gates(resources, &client, &ctx, &mut tasks);
    let (selecting, resources): (Vec<_>, Vec<_>) =
        resources.into_iter().partition(|r| r.discovery.types.is_some());
    for entry in selecting {
        let Some(selection) = entry.discovery.types.clone() else { continue };
        let pending = pending.clone();
        let synced = move || pending.done();
        tasks.spawn(watch_selected(Arc::new(entry), selection, client.clone(), ctx.clone(), synced));
    }
    for resource in resources {
        let table = resource_table(&ctx, &resource);
        let pending = pending.clone();
        let synced = move || pending.done();
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
    // The handles keep the tables attached to the export for as long as the watches run.
    drop(tables);
}

/// `resource`'s table `crds/<name>`, exported once its first list is complete, its aggregate
/// points tagged with this replica's shard when sharded.
pub(super) fn resource_table(ctx: &CollectorContext, resource: &CompiledResource) -> TableHandle {
    let owner = format!("crds/{}", resource.name);
    let tags = ctx.shard.iter().map(|shard| shard.attribute()).collect();
    let table = SeriesTable::new(owner, resource.specs.clone()).awaiting_list().tagging_aggregates(tags);
    ctx.registry.attach(Arc::new(table))
}

/// What the collector still waits for before it is ready: first lists and wildcards.
#[derive(Clone)]
struct Pending {
    count: Arc<AtomicUsize>,
    status: CollectorStatus,
}

impl Pending {
    fn new(status: CollectorStatus, count: usize) -> Self {
        status.set_ready(count == 0);
        Pending { count: Arc::new(AtomicUsize::new(count)), status }
    }

    fn add(&self, more: usize) {
        self.count.fetch_add(more, Ordering::AcqRel);
    }

    fn done(&self) {
        if self.count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.status.set_ready(true);
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
