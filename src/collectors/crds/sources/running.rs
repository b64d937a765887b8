//! One accepted source's watch: its own series table (`crds/<source>`) and watch task, stopped
//! by its own cancel token; dropping it detaches the table, so its series are gone from the
//! next export.

use std::sync::Arc;

use kube::discovery::Scope;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::kinds::{SourceKind, SourceRef};
use super::reconcile::Running;
use crate::collectors::crds::collector::resource_table;
use crate::collectors::crds::plan::CompiledResource;
use crate::collectors::crds::watch::watch_resource;
use crate::collectors::crds::watch_discovery::resolve;
use crate::collectors::CollectorContext;
use crate::config_parts::ConfigIssues;
use crate::series::TableHandle;

/// How long a MetricSource waits before asking discovery again for a resource not served yet.
const DISCOVERY_RETRY: std::time::Duration = std::time::Duration::from_secs(2);

/// A source refused at run time: a MetricSource whose resource turns out cluster-scoped.
#[derive(Debug)]
pub struct Refusal {
    pub source: SourceRef,
    pub uid: String,
    pub generation: i64,
    pub issues: ConfigIssues,
}

/// A running source.
pub struct SourceTask {
    pub running: Running,
    cancel: CancellationToken,
    task: JoinHandle<()>,
    _table: TableHandle,
}

impl SourceTask {
    /// Starts `running` of `source` on a child of `ctx.cancel`.
    pub fn start(
        source: &SourceRef,
        running: Running,
        client: kube::Client,
        ctx: &CollectorContext,
        refusals: mpsc::UnboundedSender<Refusal>,
    ) -> SourceTask {
        let resource = Arc::new(running.compiled.resource.clone());
        let table = resource_table(ctx, &resource);
        let cancel = ctx.cancel.child_token();
        let ctx = CollectorContext { cancel: cancel.clone(), ..ctx.clone() };
        let refusal = (source.kind == SourceKind::Namespaced).then(|| Refusal {
            source: source.clone(),
            uid: running.uid.clone(),
            generation: running.generation,
            issues: ConfigIssues::new(),
        });
        let table_ref = table.table().clone();
        let task = tokio::spawn(async move {
            if let Some(refusal) = refusal {
                if !namespaced(&resource, &client, &ctx, refusal, &refusals).await {
                    return;
                }
            }
            watch_resource(resource, client, table_ref, ctx, || {}).await;
        });
        tracing::info!(source = %source, generation = running.generation, "metric source running");
        SourceTask { running, cancel, task, _table: table }
    }

    /// Stops the watch; the table goes with `self`.
    pub fn stop(self, ctx: &CollectorContext) {
        self.cancel.cancel();
        self.task.abort();
        ctx.status.set_detail(&self.running.compiled.resource.name, None);
    }
}

/// Waits until discovery serves the resource; false (and a refusal sent) when it is
/// cluster-scoped, since a MetricSource reads objects of its own namespace only.
async fn namespaced(
    resource: &CompiledResource,
    client: &kube::Client,
    ctx: &CollectorContext,
    mut refusal: Refusal,
    refusals: &mpsc::UnboundedSender<Refusal>,
) -> bool {
    loop {
        match resolve(client, &resource.gvr, resource.by_kind).await {
            Ok((_, Scope::Namespaced)) => return true,
            Ok((ar, Scope::Cluster)) => {
                let at = if resource.by_kind { "spec.gvk" } else { "spec.gvr" };
                refusal.issues.push(
                    at,
                    format!(
                        "{} {} is cluster-scoped: a MetricSource reads only objects of its own \
                         namespace (a ClusterMetricSource may read it)",
                        ar.api_version, ar.plural
                    ),
                );
                let _ = refusals.send(refusal);
                return false;
            }
            Err(error) => ctx.status.set_detail(&resource.name, Some(format!("{error}; retrying"))),
        }
        tokio::select! {
            _ = ctx.cancel.cancelled() => return false,
            _ = tokio::time::sleep(DISCOVERY_RETRY) => {}
        }
    }
}
