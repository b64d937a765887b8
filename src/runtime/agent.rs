//! `kube-state-otel run`: the agent's life in stages, each a function of its own: connect to
//! the cluster, set up the export, open the endpoints, start the collectors, follow config and
//! Lease changes until told to stop, then shut down in order.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::config_watch::ConfigWatch;
use super::election::Election;
use super::health::{self, Health};
use super::observed;
use super::prometheus_endpoint;
use super::reload::Reloader;
use super::supervisor::Supervisor;
use crate::collectors::{self, CollectorContext, StatusBoard};
use crate::config::{Config, Env, Plan};
use crate::export::{self, Envelope, Exporter, OwnMetrics, Pusher, Transport};
use crate::series::MetricsRegistry;
use crate::telemetry::SelfMetrics;

/// Everything the whole shutdown must fit in (SPEC §8).
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(10);

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("collectors {} need the Kubernetes API: {source}", .collectors.join(", "))]
    Kubernetes { collectors: Vec<&'static str>, source: crate::kubernetes::ClientError },
    #[error("cannot start the OTLP exporter: {0}")]
    Transport(#[from] export::TransportError),
    #[error("cannot listen on {listen}: {source}")]
    Listen { listen: String, source: std::io::Error },
    #[error("{0}")]
    Sharding(String),
    #[error("cannot serve /metrics over TLS: {0}")]
    Tls(String),
}

/// Runs `plan` until `stop` is cancelled (by a signal, or by a test), then shuts down.
pub async fn run(plan: Plan, env: Env, stop: CancellationToken) -> Result<(), RunError> {
    run_agent(plan, env, stop, None).await
}

/// Like [`run`], and applies changes of the config file at `path` while running (`plan` is
/// what was loaded from it).
pub async fn run_watching(
    path: PathBuf,
    plan: Plan,
    env: Env,
    stop: CancellationToken,
) -> Result<(), RunError> {
    run_agent(plan, env, stop, Some(path)).await
}

async fn run_agent(
    plan: Plan,
    env: Env,
    stop: CancellationToken,
    watch: Option<PathBuf>,
) -> Result<(), RunError> {
    let config = &plan.config;
    let shard = this_shard(config, &env)?;
    let cluster = connect(&plan).await?;
    let pipeline = Pipeline::start(config, &env, cluster.uid.as_deref())?;
    let election = match &cluster.client {
        Some(client) if config.leader_election.enabled => {
            // Each shard elects its own holder, on its own Lease.
            let mut lease = config.leader_election.clone();
            if let Some(shard) = shard {
                lease.lease_name = format!("{}-{}", lease.lease_name, shard.index);
            }
            Some(Election::start(client, &lease, export::resource::instance_id(&env), &env))
        }
        _ => None,
    };
    // Without leader election every replica runs everything, so each acts as leader.
    let leader = Arc::new(AtomicBool::new(election.is_none()));
    let board = StatusBoard::default();
    let meter = pipeline.exporter.own_metrics().meter();
    observed::register(&meter, board.clone(), pipeline.registry.clone(), leader.clone(), &pipeline.pusher);
    let shutting_down = Arc::new(AtomicBool::new(false));
    let health = Health {
        board: board.clone(),
        leader: leader.clone(),
        election: election.is_some(),
        shutting_down: shutting_down.clone(),
    };
    let servers_stop = CancellationToken::new();
    let _servers_stop_on_return = servers_stop.clone().drop_guard();
    serve_endpoints(config, health, &pipeline.exporter, &servers_stop).await?;

    // Not a child of `stop`: the registry must be frozen before the collectors see the
    // cancellation, or their series could be missing from the last export.
    let collectors_stop = CancellationToken::new();
    let base = CollectorContext {
        name: String::new(),
        cancel: collectors_stop.clone(),
        registry: pipeline.registry.clone(),
        status: Default::default(),
        self_metrics: pipeline.self_metrics.clone(),
        kube: cluster.client,
        shard,
    };
    let mut supervisor = Supervisor::new(base, board, election.is_none());
    let started = supervisor.apply(plan.collectors.clone()).await.started;
    tracing::info!(collectors = ?started, interval = %config.export.interval, "agent started");

    let export_stop = CancellationToken::new();
    let timer = {
        let (exporter, interval, stop) =
            (pipeline.exporter.clone(), config.export.interval.get(), export_stop.clone());
        tokio::spawn(async move { exporter.run(interval, stop).await })
    };
    let referenced = plan.config.collectors.referenced_files();
    let reload = watch.and_then(|path| watch_config(path, &referenced, &env, &pipeline));
    follow_changes(plan, &stop, reload, election.as_ref(), &leader, &mut supervisor).await;

    shutting_down.store(true, Ordering::Relaxed);
    // An export still waiting on an unreachable Collector would eat the shutdown deadline; its
    // requests stay queued (a send is only dequeued once accepted) for the last export below.
    export_stop.cancel();
    timer.abort();
    let _ = timer.await;
    shut_down(pipeline, collectors_stop, supervisor, election).await;
    servers_stop.cancel();
    tracing::info!("stopped");
    Ok(())
}

/// This replica's shard; `None` without sharding or with a single shard (which adds no shard
/// attribute).
fn this_shard(config: &Config, env: &Env) -> Result<Option<collectors::Shard>, RunError> {
    let Some(sharding) = &config.sharding else { return Ok(None) };
    let shard = sharding.resolve(&export::resource::instance_id(env)).map_err(RunError::Sharding)?;
    if shard.total > 1 {
        tracing::info!(shard = shard.index, total = shard.total, "sharding: collecting this shard's objects");
    }
    Ok((shard.total > 1).then_some(shard))
}

/// The Kubernetes client, when one is configured, and the cluster's UID.
struct Cluster {
    client: Option<kube::Client>,
    uid: Option<String>,
}

/// Connects to the cluster; fails only when an enabled collector needs it.
async fn connect(plan: &Plan) -> Result<Cluster, RunError> {
    let needs_cluster = collectors::need_kubernetes(&plan.collectors);
    let client = match crate::kubernetes::client(&plan.config.kubernetes).await {
        Ok(client) => client,
        Err(source) if !needs_cluster.is_empty() => {
            return Err(RunError::Kubernetes { collectors: needs_cluster, source })
        }
        Err(e) => {
            tracing::info!(reason = %e, "no Kubernetes cluster configured; running without one");
            return Ok(Cluster { client: None, uid: None });
        }
    };
    let uid = match crate::kubernetes::cluster_uid(&client).await {
        Ok(uid) => Some(uid),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the kube-system namespace; k8s.cluster.uid left out");
            None
        }
    };
    Ok(Cluster { client: Some(client), uid })
}

/// The series registry the collectors write to, and the export that reads it.
struct Pipeline {
    registry: MetricsRegistry,
    self_metrics: SelfMetrics,
    pusher: Pusher,
    exporter: Exporter,
}

impl Pipeline {
    fn start(config: &Config, env: &Env, cluster_uid: Option<&str>) -> Result<Pipeline, RunError> {
        let export = &config.export;
        let attributes = export::resource::attributes(config, env, cluster_uid);
        let transport = if export.otlp.enabled {
            Some(Transport::new(&export.otlp, export.timeout.get())?)
        } else {
            None
        };
        let pusher = Pusher::new(transport, export.timeout.get(), export.otlp.buffer.max_batches);
        let own = OwnMetrics::new(&attributes, export.cardinality_limit);
        let self_metrics = SelfMetrics::new(&own.meter());
        let registry = MetricsRegistry::new();
        let exporter = Exporter::new(registry.clone(), own, Envelope::new(&attributes), pusher.clone());
        Ok(Pipeline { registry, self_metrics, pusher, exporter })
    }
}

/// Starts the health endpoints and, when enabled, the Prometheus endpoint.
async fn serve_endpoints(
    config: &Config,
    health: Health,
    exporter: &Exporter,
    stop: &CancellationToken,
) -> Result<(), RunError> {
    let scrapes = config.export.prometheus.enabled.then(|| exporter.clone());
    let metrics_routes =
        prometheus_endpoint::start(&config.export.prometheus, &config.server.listen, scrapes, stop.clone())
            .await?;
    let addr = health::serve(&config.server.listen, health, metrics_routes, stop.clone())
        .await
        .map_err(|source| RunError::Listen { listen: config.server.listen.clone(), source })?;
    tracing::info!(%addr, "health endpoints listening");
    Ok(())
}

/// Watches the config file at `path` and the files it refers to; `None` (logged) when it
/// cannot be watched.
fn watch_config(
    path: PathBuf,
    referenced: &[PathBuf],
    env: &Env,
    pipeline: &Pipeline,
) -> Option<(ConfigWatch, Reloader)> {
    match ConfigWatch::start(&path, referenced) {
        Ok(watch) => Some((
            watch,
            Reloader {
                path,
                env: env.clone(),
                pusher: pipeline.pusher.clone(),
                self_metrics: pipeline.self_metrics.clone(),
            },
        )),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error, "cannot watch the config file; changes need a restart");
            None
        }
    }
}

/// The event loop: applies config changes and Lease changes until `stop` fires.
async fn follow_changes(
    mut current: Plan,
    stop: &CancellationToken,
    mut reload: Option<(ConfigWatch, Reloader)>,
    election: Option<&Election>,
    leader: &AtomicBool,
    supervisor: &mut Supervisor,
) {
    let mut leadership = election.map(|e| e.leader.clone());
    // The watch saw the file only once it started: an edit made after the file was loaded
    // and before then would otherwise wait for the next edit.
    if let Some((_, reloader)) = &reload {
        reloader.reload(&mut current, supervisor).await;
    }
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            Some(()) = config_change(&mut reload) => {
                let referenced = current.config.collectors.referenced_files();
                if let Some((_, reloader)) = &reload {
                    reloader.reload(&mut current, supervisor).await;
                }
                rewatch_if_referenced_changed(&mut reload, &referenced, &current);
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
}

/// Stops the collectors, exports once more, releases the Lease and delivers what is buffered,
/// all within [`SHUTDOWN_DEADLINE`].
async fn shut_down(
    pipeline: Pipeline,
    collectors_stop: CancellationToken,
    mut supervisor: Supervisor,
    election: Option<Election>,
) {
    let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE;
    pipeline.registry.freeze();
    collectors_stop.cancel();
    if tokio::time::timeout(Duration::from_secs(3), supervisor.stop()).await.is_err() {
        tracing::warn!("collectors did not stop within 3s; exporting anyway");
    }
    let last_export =
        tokio::time::timeout_at(deadline - Duration::from_secs(2), pipeline.exporter.export_once());
    if last_export.await.is_err() {
        tracing::warn!("final export did not finish in time");
    }
    pipeline.exporter.own_metrics().shutdown();
    // Released after the last export, so the next holder's series never overlap ours.
    if let Some(election) = election {
        if tokio::time::timeout_at(deadline - Duration::from_secs(1), election.release()).await.is_err() {
            tracing::warn!("the Lease was not released in time; it expires on its own");
        }
    }
    let pusher = &pipeline.pusher;
    if pusher.buffered() > 0 {
        match tokio::time::timeout_at(deadline - Duration::from_millis(500), pusher.flush_queue()).await {
            Ok(Ok(())) => tracing::info!("buffered exports delivered"),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, lost = pusher.buffered(), "buffered exports not delivered")
            }
            Err(_) => tracing::warn!(lost = pusher.buffered(), "buffered exports not delivered in time"),
        }
    }
}

/// A reload that refers to other files than before (a kube-state-metrics `configFile` added,
/// moved or removed) needs a watch of the new set.
fn rewatch_if_referenced_changed(
    reload: &mut Option<(ConfigWatch, Reloader)>,
    before: &[PathBuf],
    current: &Plan,
) {
    let now = current.config.collectors.referenced_files();
    let Some((watch, reloader)) = reload.as_mut() else { return };
    if now == before {
        return;
    }
    match ConfigWatch::start(&reloader.path, &now) {
        Ok(new) => *watch = new,
        Err(error) => tracing::warn!(%error, files = ?now, "cannot watch the files the config refers to"),
    }
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
