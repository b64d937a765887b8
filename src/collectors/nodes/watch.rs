//! The watch loop: nodes and pods, one task, one state.

use futures::{stream, StreamExt};
use kube::runtime::watcher::{self, Event};

use kube::Api;

use super::config::NodesConfig;
use super::metrics::NodeMetric;
use super::state::NodesState;
use super::watched_node::WatchedNode as Node;
use super::watched_pod::WatchedPod as Pod;
use crate::collectors::shared::watch_backoff::backed_off;
use crate::collectors::CollectorContext;
use crate::kubernetes::list_watch;
use crate::telemetry::WatchEventKind;

const PAGE_SIZE: u32 = 500;

// Each update is moved once, from the stream to the match, and dropped there: boxing would
// only add an allocation per event.
#[allow(clippy::large_enum_variant)]
enum Update {
    Node(Result<Event<Node>, watcher::Error>),
    Pod(Result<Event<Pod>, watcher::Error>),
}

/// Runs until `ctx.cancel` fires. Ready once both watchers have listed everything once.
pub async fn run(config: NodesConfig, ctx: CollectorContext) {
    let Some(client) = ctx.kube.clone() else {
        ctx.status.set_detail("kubernetes", Some("no Kubernetes client configured".into()));
        return;
    };
    let table = ctx.registry.table_after_list(ctx.name.clone(), NodeMetric::specs());
    let mut state = NodesState::new(config).deferring_first_pod_list();
    let watch_config = watcher::Config::default().page_size(PAGE_SIZE);
    let nodes =
        backed_off(list_watch(Api::<Node>::all(client.clone()), watch_config.clone())).map(Update::Node);
    let pods = backed_off(list_watch(Api::<Pod>::all(client), watch_config)).map(Update::Pod);
    let mut updates = std::pin::pin!(stream::select(nodes, pods));
    // Which watcher last failed, so a recovered one clears its detail once, not per event.
    let (mut nodes_failing, mut pods_failing) = (false, false);
    ctx.status.set_up(true);
    loop {
        let update = tokio::select! {
            _ = ctx.cancel.cancelled() => break,
            next = updates.next() => match next { Some(u) => u, None => break },
        };
        match update {
            Update::Node(Ok(event)) => {
                ctx.self_metrics.watch_event(&ctx.name, WatchEventKind::of(&event));
                for metric in state.node_event(event, &table) {
                    ctx.self_metrics.extract_error(metric);
                }
                recovered(&ctx, "nodes", &mut nodes_failing);
            }
            Update::Pod(Ok(event)) => {
                ctx.self_metrics.watch_event(&ctx.name, WatchEventKind::of(&event));
                state.pod_event(event, &table);
                recovered(&ctx, "pods", &mut pods_failing);
            }
            Update::Node(Err(e)) => {
                report(&ctx, "nodes", &e, &mut nodes_failing);
            }
            Update::Pod(Err(e)) => {
                report(&ctx, "pods", &e, &mut pods_failing);
            }
        }
        if state.is_listed() {
            table.mark_listed();
        }
        ctx.status.set_ready(state.is_listed());
    }
    ctx.status.set_up(false);
    ctx.status.set_ready(false);
}

fn recovered(ctx: &CollectorContext, part: &str, failing: &mut bool) {
    if std::mem::take(failing) {
        ctx.status.set_detail(part, None);
    }
}

fn report(ctx: &CollectorContext, part: &str, error: &watcher::Error, failing: &mut bool) {
    *failing = true;
    ctx.self_metrics.watch_event(&ctx.name, WatchEventKind::Error);
    tracing::warn!(collector = %ctx.name, %part, %error, "watch failed; retrying with backoff");
    ctx.status.set_detail(part, Some(format!("watch failed: {error}")));
}
