//! One resource's life: wait until its CRD is served, then watch it (one stream per configured
//! namespace, merged, when `namespaces` are exact names; else one cluster-wide stream whose
//! objects `ResourceEvents` filters), restarting the watch every `resyncPeriod` so it lists afresh.

use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, BoxStream, StreamExt};
use kube::api::Api;
use kube::core::ApiResource;
use kube::discovery::Scope;
use kube::runtime::watcher;

use super::namespace_gate::{selection_changed, selection_listed};
use super::namespaces::WatchMode;
use super::needed::Needed;
use super::plan::CompiledResource;
use super::watch_discovery::{resolve, DiscoveryError};
use super::watch_events::ResourceEvents;
use super::watch_limits::DISCOVERY;
use super::watched::{Keeping, Pruning, WatchedObject};
use crate::backoff::Attempts;
use crate::collectors::shared::watch_backoff::backed_off;
use crate::collectors::CollectorContext;
use crate::kubernetes::list_watch;
use crate::series::SeriesTable;

/// Objects per list page, so a relist of a big resource does not arrive in one piece.
pub const LIST_PAGE_SIZE: u32 = 500;

type Events = BoxStream<'static, (usize, Result<watcher::Event<WatchedObject>, watcher::Error>)>;

/// Watches `resource` until `ctx.cancel` fires; `synced` is called once its first list is done.
pub async fn watch_resource(
    resource: Arc<CompiledResource>,
    client: kube::Client,
    table: Arc<SeriesTable>,
    ctx: CollectorContext,
    synced: impl FnOnce(),
) {
    let Some((ar, scope)) = discover(&resource, &client, &ctx).await else { return };
    let apis = apis(&resource, &client, &ar, &scope);
    let mut events =
        ResourceEvents::new(resource.clone(), table, ctx.self_metrics.clone(), apis.len(), ctx.shard);
    let mut synced = Some(synced);
    let config = watch_config(&resource);
    let keep = Keeping { needed: Arc::new(Needed::of_resource(&resource)), shard: ctx.shard };
    let mut gate = resource.discovery.gate.clone();
    tokio::select! {
        _ = ctx.cancel.cancelled() => return,
        _ = selection_listed(&mut gate) => {}
    }
    loop {
        let mut stream = merged(&apis, &config, &keep);
        let resync = tokio::time::sleep(resource.resync_period.get());
        tokio::pin!(resync);
        loop {
            let next = tokio::select! {
                _ = ctx.cancel.cancelled() => return,
                _ = &mut resync => break,
                selected = selection_changed(&mut gate) => {
                    tracing::info!(resource = %resource.name, ?selected, "namespaces selected by label changed; listing afresh");
                    break;
                }
                next = stream.next() => next,
            };
            match next {
                Some((i, Ok(event))) => events.handle(i, event, Instant::now()),
                Some((i, Err(error))) => {
                    events.error();
                    tracing::warn!(resource = %resource.name, stream = i, %error, "watch error; retrying");
                }
                None => break,
            }
            if events.is_synced() {
                if let Some(synced) = synced.take() {
                    synced();
                }
            }
        }
        tracing::debug!(resource = %resource.name, "restarting the watch to list afresh");
    }
}

/// Retries discovery ([`DISCOVERY`]) until the resource is served or `cancel` fires.
async fn discover(
    resource: &CompiledResource,
    client: &kube::Client,
    ctx: &CollectorContext,
) -> Option<(ApiResource, Scope)> {
    let mut logged = false;
    let mut failures = Attempts::default();
    loop {
        let error = match resolve(client, &resource.gvr, resource.by_kind).await {
            Ok(found) => {
                if resource.by_kind {
                    tracing::info!(resource = %resource.name, plural = %found.0.plural, "kind resolved");
                }
                if logged {
                    tracing::info!(resource = %resource.name, "CRD {} is now served", resource.gvr);
                }
                ctx.status.set_detail(&resource.name, None);
                return Some(found);
            }
            Err(error) => error,
        };
        let detail = match &error {
            DiscoveryError::NotInstalled(gvr) => format!("CRD {gvr} not installed; retrying"),
            DiscoveryError::Failed { .. } | DiscoveryError::NotWatchable { .. } => {
                format!("{error}; retrying")
            }
        };
        if !logged {
            tracing::warn!(resource = %resource.name, "{detail}");
            logged = true;
        }
        ctx.status.set_detail(&resource.name, Some(detail));
        tokio::select! {
            _ = ctx.cancel.cancelled() => return None,
            _ = tokio::time::sleep(failures.next_delay(&DISCOVERY)) => {}
        }
    }
}

fn apis(
    resource: &CompiledResource,
    client: &kube::Client,
    ar: &ApiResource,
    scope: &Scope,
) -> Vec<Api<WatchedObject>> {
    match scope {
        Scope::Namespaced if !resource.namespaces.exact().is_empty() => resource
            .namespaces
            .exact()
            .iter()
            .map(|ns| Api::namespaced_with(client.clone(), ns, ar))
            .collect(),
        Scope::Cluster if resource.namespaces.mode() != WatchMode::All => {
            tracing::warn!(resource = %resource.name, "cluster-scoped resource; `namespaces` ignored");
            vec![Api::all_with(client.clone(), ar)]
        }
        _ => vec![Api::all_with(client.clone(), ar)],
    }
}

fn watch_config(resource: &CompiledResource) -> watcher::Config {
    let mut config = watcher::Config::default().page_size(LIST_PAGE_SIZE);
    if let Some(selector) = &resource.label_selector {
        config = config.labels(selector);
    }
    if let Some(selector) = &resource.field_selector {
        config = config.fields(selector);
    }
    config
}

/// Every namespace's watch in one stream, each event tagged with its stream's index, decoding
/// only what `keep` says.
fn merged(apis: &[Api<WatchedObject>], config: &watcher::Config, keep: &Keeping) -> Events {
    let streams = apis.iter().enumerate().map(|(i, api)| {
        backed_off(list_watch(api.clone(), config.clone())).map(move |event| (i, event)).boxed()
    });
    Pruning::new(stream::select_all(streams), keep.clone()).boxed()
}
