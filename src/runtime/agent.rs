//! `kube-state-otel run`: wires config, Kubernetes client, export pipeline, health endpoints and
//! collectors together, and shuts them down in order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use tokio_util::sync::CancellationToken;

use super::config_watch::ConfigWatch;
use super::election::Election;
use super::health::{self, Health};
use super::prometheus_endpoint;
use super::reload::Reloader;
use super::supervisor::Supervisor;
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
    run_agent(config, env, stop, None).await
}

/// Like [`run`], and applies changes of the config file at `path` while running (`config` is
/// what was loaded from it).
pub async fn run_watching(
    path: PathBuf,
    config: Config,
    env: Env,
    stop: CancellationToken,
) -> Result<(), RunError> {
    run_agent(config, env, stop, Some(path)).await
}

async fn run_agent(
    config: Config,
    env: Env,
    stop: CancellationToken,
    watch: Option<PathBuf>,
) -> Result<(), RunError> {
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
    let scrape = export.prometheus.enabled.then(|| telemetry::ScrapeReader::with_series_of(exporter.clone()));
    let provider = telemetry::meter_provider_with_scrape(
        exporter.clone(),
        telemetry::resource::resource(&attributes),
        export.interval.get(),
        export.cardinality_limit,
        scrape.clone(),
    );
    let meter = provider.meter("kube-state-otel");
    let registry = exporter.registry();
    let self_metrics = SelfMetrics::new(&meter);
    let board: StatusBoard = Arc::default();
    let election = match &kube {
        Some(client) if config.leader_election.enabled => Some(Election::start(
            client,
            &config.leader_election,
            telemetry::resource::instance_id(&env),
            &env,
        )),
        _ => None,
    };
    // Without leader election every replica runs everything, so each acts as leader.
    let leader = Arc::new(AtomicBool::new(election.is_none()));
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
        election: election.is_some(),
        shutting_down: shutting_down.clone(),
    };
    let server_stop = CancellationToken::new();
    let _servers_stop_on_return = server_stop.clone().drop_guard();
    let metrics_routes =
        prometheus_endpoint::start(&export.prometheus, &config.server.listen, scrape, server_stop.clone())
            .await?;
    let addr = health::serve(&config.server.listen, health, metrics_routes, server_stop.clone())
        .await
        .map_err(|source| RunError::Listen { listen: config.server.listen.clone(), source })?;
    tracing::info!(%addr, "health endpoints listening");

    // Not a child of `stop`: the registry must be frozen before the collectors see the
    // cancellation, or their series could be missing from the last export.
    let collectors_stop = CancellationToken::new();
    let base = CollectorContext {
        name: String::new(),
        cancel: collectors_stop.clone(),
        registry: registry.clone(),
        status: Default::default(),
        self_metrics: self_metrics.clone(),
        kube,
    };
    let mut supervisor = Supervisor::new(base, board.clone(), election.is_none());
    let started = supervisor.apply(collectors::plans(&config.collectors)).await.started;
    tracing::info!(collectors = ?started, interval = %export.interval, "agent started");

    let mut leadership = election.as_ref().map(|e| e.leader.clone());
    let mut reload = watch.and_then(|path| match ConfigWatch::start(&path) {
        Ok(watch) => Some((watch, Reloader { path, env: env.clone(), exporter: exporter.clone(), self_metrics })),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot watch the config file; changes need a restart");
            None
        }
    });
    let mut current = config;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            Some(()) = config_change(&mut reload) => {
                if let Some((_, reloader)) = &reload {
                    reloader.reload(&mut current, &mut supervisor).await;
                }
            }
            Some(is_leader) = leadership_change(&mut leadership) => {
                leader.store(is_leader, Ordering::Relaxed);
                let changes = supervisor.set_leader(is_leader).await;
                if !changes.is_empty() {
                    tracing::info!(leader = is_leader, started = ?changes.started, stopped = ?changes.stopped, "leader-only collectors follow the Lease");
                }
            }
        }
    }
    let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
    shutting_down.store(true, Ordering::Relaxed);
    registry.freeze();
    collectors_stop.cancel();
    if tokio::time::timeout(Duration::from_secs(3), supervisor.stop()).await.is_err() {
        tracing::warn!("collectors did not stop within 3s; exporting anyway");
    }
    // The provider's shutdown collects and exports once more; whatever is still buffered after
    // that gets the rest of the deadline.
    let last_export =
        tokio::time::timeout_at(deadline - Duration::from_secs(2), telemetry::shutdown(provider));
    if last_export.await.is_err() {
        tracing::warn!("final export did not finish in time");
    }
    // Released after the last export, so the next holder's series never overlap ours.
    if let Some(election) = election {
        if tokio::time::timeout_at(deadline - Duration::from_secs(1), election.release()).await.is_err() {
            tracing::warn!("the Lease was not released in time; it expires on its own");
        }
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

/// The next debounced change of the config file; `None` forever without a watch.
async fn config_change(reload: &mut Option<(ConfigWatch, Reloader)>) -> Option<()> {
    match reload {
        Some((watch, _)) => watch.changed().await,
        None => std::future::pending().await,
    }
}

/// The next leadership value; `None` forever without an election.
async fn leadership_change(receiver: &mut Option<tokio::sync::watch::Receiver<bool>>) -> Option<bool> {
    if let Some(rx) = receiver {
        if rx.changed().await.is_ok() {
            return Some(*rx.borrow_and_update());
        }
    }
    std::future::pending().await
}
