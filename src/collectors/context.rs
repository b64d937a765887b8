//! What a running collector is given.

use tokio_util::sync::CancellationToken;

use super::shared::shard::Shard;
use super::status::CollectorStatus;
use crate::series::MetricsRegistry;
use crate::telemetry::SelfMetrics;

/// Everything a collector needs to run; it returns when `cancel` fires.
#[derive(Clone)]
pub struct CollectorContext {
    /// Collector name (`crds`, `nodes`, `etcd`), used in self-metrics and logs.
    pub name: String,
    pub cancel: CancellationToken,
    /// Where the collector creates its series tables.
    pub registry: MetricsRegistry,
    pub status: CollectorStatus,
    pub self_metrics: SelfMetrics,
    /// The Kubernetes client, when a cluster is configured.
    pub kube: Option<kube::Client>,
    /// This replica's shard when `sharding` is configured: collectors that split their
    /// objects keep only this shard's and tag their aggregate points with it.
    pub shard: Option<Shard>,
}
