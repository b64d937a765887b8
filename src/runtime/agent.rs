//! `kube-state-otel run`: wires config, Kubernetes client, export pipeline, health endpoints and
//! collectors together, and shuts them down in order.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use tokio_util::sync::CancellationToken;

use super::health::{self, Health};
use crate::collectors::{self, CollectorContext};
use crate::config::{Config, Env};
use crate::telemetry::{self, BufferedExporter, SelfMetrics, StatusBoard, Transport};

/// Everything the whole shutdown must fit in (SPEC §8).
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("collectors {} need the Kubernetes API: {source}", .collectors.join(", "))]
    Kubernetes { collectors: Vec<&'static str>, source: crate::kubernetes::ClientError },
    #[error("cannot start the OTLP exporter: {0}")]
    Transport(#[from] telemetry::TransportError),
    #[error("cannot listen on {listen}: {source}")]
    Listen { listen: String, source: std::io::Error },
}

/// Runs until `stop` is cancelled (by a signal, or by a test), then shuts down.
pub async fn run(config: Config, env: Env, stop: CancellationToken) -> Result<(), RunError> {
    let needs_cluster = collectors::need_kubernetes(&config.collectors);
    let kube = match crate::kubernetes::client(&config.kubernetes).await {
        Ok(client) => Some(client),
        Err(source) if !needs_cluster.is_empty() => {
            return Err(RunError::Kubernetes { collectors: needs_cluster, source })
        }
        Err(e) => {
            tracing::info!(reason = %e, "no Kubernetes cluster configured; running without one");
            None
        }
    };
    let cluster_uid = match &kube {
        Some(client) => match crate::kubernetes::cluster_uid(client).await {
            Ok(uid) => Some(uid),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the kube-system namespace; k8s.cluster.uid left out");
                None
            }
        },
        None => None,
    };
    let attributes = telemetry::resource::attributes(&config, &env, cluster_uid.as_deref());

    let export = &config.export;
    let transport =
        if export.otlp.enabled { Some(Transport::new(&export.otlp, export.timeout.get())?) } else { None };
    let exporter = BufferedExporter::new(transport, export.timeout.get(), export.otlp.buffer.max_batches);
    let provider = telemetry::meter_provider(
        exporter.clone(),
        telemetry::resource::resource(&attributes),
        export.interval.get(),
        export.cardinality_limit,
    );
    let meter = provider.meter("kube-state-otel");
    let registry = exporter.registry();
    let self_metrics = SelfMetrics::new(&meter);
    let board: StatusBoard = Arc::default();
    // Without leader election every replica runs everything, so each acts as leader.
    let leader = Arc::new(AtomicBool::new(true));
    telemetry::register_observed(
        &meter,
        board.clone(),
        registry.clone(),
        leader.clone(),
        Some(exporter.clone()),
    );

    let shutting_down = Arc::new(AtomicBool::new(false));
    let health = Health {
        board: board.clone(),
        leader: leader.clone(),
        election: config.leader_election.enabled && kube.is_some(),
        shutting_down: shutting_down.clone(),
    };
    let server_stop = CancellationToken::new();
    let addr = health::serve(&config.server.listen, health, server_stop.clone())
        .await
        .map_err(|source| RunError::Listen { listen: config.server.listen.clone(), source })?;
    tracing::info!(%addr, "health endpoints listening");

    let collectors_stop = stop.child_token();
    let base = CollectorContext {
        name: String::new(),
        cancel: collectors_stop.clone(),
        registry: registry.clone(),
        status: Default::default(),
        self_metrics,
        kube,
    };
    let tasks = collectors::spawn_all(&config.collectors, &base, &board);
    tracing::info!(collectors = tasks.len(), interval = %export.interval, "agent started");

    stop.cancelled().await;
    let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
    shutting_down.store(true, Ordering::Relaxed);
    registry.freeze();
    collectors_stop.cancel();
    let collectors_done = futures::future::join_all(tasks);
    if tokio::time::timeout(Duration::from_secs(3), collectors_done).await.is_err() {
        tracing::warn!("collectors did not stop within 3s; exporting anyway");
    }
    // The provider's shutdown collects and exports once more; whatever is still buffered after
    // that gets the rest of the deadline.
    let last_export =
        tokio::time::timeout_at(deadline - Duration::from_secs(2), telemetry::shutdown(provider));
    if last_export.await.is_err() {
        tracing::warn!("final export did not finish in time");
    }
    if exporter.buffered() > 0 {
        match tokio::time::timeout_at(deadline - Duration::from_millis(500), exporter.flush_queue()).await {
            Ok(Ok(())) => tracing::info!("buffered exports delivered"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, lost = exporter.buffered(), "buffered exports not delivered")
            }
            Err(_) => tracing::warn!(lost = exporter.buffered(), "buffered exports not delivered in time"),
        }
    }
    server_stop.cancel();
    tracing::info!("stopped");
    Ok(())
}
