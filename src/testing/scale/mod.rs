//! The scale harness: N synthetic custom resources, nodes and pods on the fake API server, the
//! real agent binary watching them as a child process (so its memory is its own), exporting to
//! the OTLP test receiver. It measures time to ready, peak and steady RSS, bytes per watched
//! object, one export cycle, and a churn phase of continuous modifications. Run it with
//! `cargo build --release --features testing --bins && target/release/scale-harness`.

mod objects;
mod process;
mod report;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use objects::{agent_config, cluster, cluster_resource, node, pod, CRD_RESOURCE};
pub use process::{cpu_time, memory, Memory};
pub use report::{ChurnReport, ExportCycle, ScaleReport};

use self::process::{free_port, Agent};
use crate::telemetry::WatchEventKind;
use crate::testing::fake_apiserver::FakeApiServer;
use crate::testing::otlp_receiver::{find_metric, points, OtlpReceiver};

/// What the harness could not do.
#[derive(Debug, thiserror::Error)]
pub enum ScaleError {
    #[error("agent: {0}")]
    Agent(String),
    #[error("fake API server: {0}")]
    Server(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Sizes and timings of one run.
#[derive(Clone, Debug)]
pub struct ScaleOptions {
    /// The `kube-state-otel` binary to run.
    pub agent: PathBuf,
    pub crs: usize,
    pub nodes: usize,
    pub pods: usize,
    pub export_interval: Duration,
    /// Target modifications per second during the churn phase.
    pub churn_rate: u32,
    pub churn_duration: Duration,
    /// Longest wait for `/readyz` and for exports.
    pub timeout: Duration,
}

impl ScaleOptions {
    pub fn new(agent: PathBuf) -> Self {
        ScaleOptions {
            agent,
            crs: 100_000,
            nodes: 5_000,
            pods: 50_000,
            export_interval: Duration::from_secs(10),
            churn_rate: 1_000,
            churn_duration: Duration::from_secs(30),
            timeout: Duration::from_secs(300),
        }
    }

    fn objects(&self) -> usize {
        self.crs + self.nodes + self.pods
    }
}

/// Keeps only the agent's self-metrics of each (possibly huge) export.
fn self_metric(metric: &opentelemetry_proto::tonic::metrics::v1::Metric) -> bool {
    metric.name.starts_with("kube_state_otel.")
}

/// Runs the whole measurement.
pub async fn run(options: &ScaleOptions) -> Result<ScaleReport, ScaleError> {
    if !options.agent.is_file() {
        return Err(ScaleError::Agent(format!(
            "{} not found; build it first (cargo build --release --features testing --bins)",
            options.agent.display()
        )));
    }
    let server = FakeApiServer::start().await;
    server.register_resource(cluster_resource());
    let dir = tempfile_dir()?;

    let baseline = {
        let receiver = OtlpReceiver::start_with(Some(self_metric)).await;
        let mut agent = start_agent(options, &server, &receiver, &dir, "baseline").await?;
        agent.wait_ready(options.timeout).await?;
        wait_exports(&receiver, &mut agent, 2, options).await?;
        let steady = sample_rss(&mut agent, options.export_interval).await?;
        agent.stop(Duration::from_secs(15)).await?;
        steady
    };

    let loading = Instant::now();
    let sizes = load(&server, options)?;
    let load_time = loading.elapsed();

    let receiver = OtlpReceiver::start_with(Some(self_metric)).await;
    let mut agent = start_agent(options, &server, &receiver, &dir, "agent").await?;
    let time_to_ready = agent.wait_ready(options.timeout).await?;
    let at_ready = agent.memory()?;
    let cpu_to_ready = agent.cpu()?;
    wait_exports(&receiver, &mut agent, 2, options).await?;
    let cpu_before_steady = agent.cpu()?;
    let steady_rss = sample_rss(&mut agent, options.export_interval).await?;
    let cpu_per_interval = agent.cpu()?.saturating_sub(cpu_before_steady);
    let after_exports = agent.memory()?;
    let export = last_cycle(&receiver)
        .ok_or_else(|| ScaleError::Agent("no kube_state_otel.export.duration in the exports".into()))?;

    let churn = churn(&server, &receiver, &mut agent, options).await?;
    agent.stop(Duration::from_secs(30)).await?;
    let _ = std::fs::remove_dir_all(&dir);

    let objects = options.objects();
    Ok(ScaleReport {
        crs: options.crs,
        nodes: options.nodes,
        pods: options.pods,
        sizes,
        load_time,
        export_interval: options.export_interval,
        time_to_ready,
        cpu_to_ready,
        cpu_per_interval,
        peak_rss_initial: at_ready.peak,
        steady_rss,
        peak_rss_overall: after_exports.peak,
        baseline_rss: baseline,
        bytes_per_object: (steady_rss.saturating_sub(baseline)) / objects.max(1) as u64,
        export,
        churn,
    })
}

fn tempfile_dir() -> Result<PathBuf, ScaleError> {
    let dir = std::env::temp_dir().join(format!("kso-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn start_agent(
    options: &ScaleOptions,
    server: &FakeApiServer,
    receiver: &OtlpReceiver,
    dir: &std::path::Path,
    name: &str,
) -> Result<Agent, ScaleError> {
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml())?;
    let port = free_port()?;
    let config = dir.join(format!("{name}.yaml"));
    let interval = options.export_interval.as_millis() as u64;
    let text = agent_config(&kubeconfig.display().to_string(), &receiver.grpc_endpoint(), port, interval);
    std::fs::write(&config, text)?;
    Agent::spawn(&options.agent, &config, port, &dir.join(format!("{name}.log")))
}

/// Average serialized size of each kind, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct ObjectSizes {
    pub cr: usize,
    pub node: usize,
    pub pod: usize,
}

fn load(server: &FakeApiServer, options: &ScaleOptions) -> Result<ObjectSizes, ScaleError> {
    let put = |object: serde_json::Value| -> Result<usize, ScaleError> {
        let size = serde_json::to_vec(&object).map(|b| b.len()).unwrap_or_default();
        server.apply(object).map_err(|e| ScaleError::Server(e.message.clone()))?;
        Ok(size)
    };
    let mean = |total: usize, n: usize| total / n.max(1);
    let mut total = 0;
    for i in 0..options.crs {
        total += put(cluster(i, 0))?;
    }
    let cr = mean(total, options.crs);
    total = 0;
    for i in 0..options.nodes {
        total += put(node(i))?;
    }
    let node = mean(total, options.nodes);
    total = 0;
    for i in 0..options.pods {
        total += put(pod(i, options.nodes))?;
    }
    Ok(ObjectSizes { cr, node, pod: mean(total, options.pods) })
}

/// One export as it arrived: the request with the agent's self-metrics and the chunks of
/// series that followed it.
#[derive(Clone, Copy, Debug)]
struct ArrivedExport {
    /// Index of its first request in the receiver's records.
    first: usize,
    /// When its last request arrived.
    done: Instant,
    points: u64,
    encoded_bytes: usize,
}

/// The exports received so far; the last one may still be arriving.
fn exports(receiver: &OtlpReceiver) -> Vec<ArrivedExport> {
    let mut exports: Vec<ArrivedExport> = Vec::new();
    for (i, a) in receiver.arrivals().into_iter().enumerate() {
        match exports.last_mut() {
            Some(e) if a.kept_metrics == 0 => {
                e.done = a.at;
                e.points += a.points;
                e.encoded_bytes += a.encoded_bytes;
            }
            _ => exports.push(ArrivedExport {
                first: i,
                done: a.at,
                points: a.points,
                encoded_bytes: a.encoded_bytes,
            }),
        }
    }
    exports
}

/// Waits until `n` more exports than now have arrived completely (the next one has started).
async fn wait_exports(
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    n: usize,
    options: &ScaleOptions,
) -> Result<(), ScaleError> {
    let target = exports(receiver).len() + n + 1;
    let deadline = Instant::now() + options.timeout;
    while exports(receiver).len() < target {
        agent.memory()?;
        if Instant::now() > deadline {
            return Err(ScaleError::Agent(format!("fewer than {n} exports in {:?}", options.timeout)));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// The highest RSS seen over `span` (sampled every 100 ms): steady state includes the exports.
async fn sample_rss(agent: &mut Agent, span: Duration) -> Result<u64, ScaleError> {
    let end = Instant::now() + span;
    let mut highest = 0;
    while Instant::now() < end {
        highest = highest.max(agent.memory()?.rss);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(highest)
}

/// The value of a self-metric point in the `k`-th kept request whose attributes include `wanted`.
fn self_value(receiver: &OtlpReceiver, k: usize, name: &str, wanted: &[(&str, &str)]) -> Option<f64> {
    let received = receiver.received();
    let metric = find_metric(&received.get(k)?.request, name)?;
    let matching = points(metric).into_iter().filter(|p| {
        wanted.iter().all(|(key, value)| p.attributes.iter().any(|(pk, pv)| pk == key && pv == value))
    });
    let values: Vec<f64> = matching.map(|p| p.value).collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// Export `j`'s cycle: its points, and the duration the next export reports for it.
fn cycle_of(receiver: &OtlpReceiver, exports: &[ArrivedExport], j: usize) -> Option<ExportCycle> {
    let (this, next) = (exports.get(j)?, exports.get(j + 1)?);
    let name = "kube_state_otel.export.duration";
    Some(ExportCycle {
        points: this.points,
        encoded_bytes: this.encoded_bytes,
        wall: Duration::from_secs_f64(self_value(receiver, next.first, name, &[("clock", "wall")])?),
        cpu: Duration::from_secs_f64(self_value(receiver, next.first, name, &[("clock", "cpu")])?),
    })
}

/// The last export whose duration has been reported.
fn last_cycle(receiver: &OtlpReceiver) -> Option<ExportCycle> {
    let exports = exports(receiver);
    cycle_of(receiver, &exports, exports.len().checked_sub(2)?)
}

/// Watch events of type `apply` the crds collector counted, as of the latest export.
fn crd_applies(receiver: &OtlpReceiver) -> f64 {
    let Some(last) = exports(receiver).last().map(|e| e.first) else { return 0.0 };
    let collector = format!("crds/{CRD_RESOURCE}");
    self_value(
        receiver,
        last,
        "kube_state_otel.watch.events",
        &[("collector", &collector), ("type", WatchEventKind::Apply.as_str())],
    )
    .unwrap_or(0.0)
}

/// Modifies custom resources at `churn_rate` per second for `churn_duration`, then waits
/// until the agent has counted every modification.
async fn churn(
    server: &FakeApiServer,
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    options: &ScaleOptions,
) -> Result<ChurnReport, ScaleError> {
    let counted_before = crd_applies(receiver);
    let rss_before = agent.memory()?.rss;
    let cpu_before = agent.cpu()?;
    let first_export = exports(receiver).len();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut modified = 0u64;
    let mut rss_max = rss_before;
    let mut last_sample = Instant::now();
    let crs = options.crs.max(1) as u64;
    while started.elapsed() < options.churn_duration {
        ticker.tick().await;
        let due = (started.elapsed().as_secs_f64() * options.churn_rate as f64) as u64;
        while modified < due {
            let i = (modified.wrapping_mul(7919) % crs) as usize;
            server.apply(cluster(i, modified + 1)).map_err(|e| ScaleError::Server(e.message.clone()))?;
            modified += 1;
        }
        if last_sample.elapsed() >= Duration::from_millis(250) {
            rss_max = rss_max.max(agent.memory()?.rss);
            last_sample = Instant::now();
        }
    }
    let duration = started.elapsed();
    let cpu_during = agent.cpu()?.saturating_sub(cpu_before);
    let rss_end = agent.memory()?.rss;

    // Every modification is one `apply` event; the exports report the count.
    let deadline = Instant::now() + options.timeout;
    let caught_up_after = loop {
        if crd_applies(receiver) - counted_before >= modified as f64 {
            break Some(started.elapsed().saturating_sub(duration));
        }
        if Instant::now() > deadline {
            break None;
        }
        rss_max = rss_max.max(agent.memory()?.rss);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let counted = crd_applies(receiver) - counted_before;
    // Steady again: the RSS over one more export interval after the churn.
    let rss_after = sample_rss(agent, options.export_interval).await?;

    // The exports from the one before the phase until the one that showed it caught up.
    let caught_up_at = started + duration + caught_up_after.unwrap_or(options.timeout);
    let all = exports(receiver);
    let during: Vec<ArrivedExport> =
        all.iter().skip(first_export.saturating_sub(1)).filter(|e| e.done <= caught_up_at).copied().collect();
    let max_export_gap = during.windows(2).map(|w| w[1].done - w[0].done).max().unwrap_or_default();
    let cycles: Vec<ExportCycle> =
        (first_export..first_export + during.len()).filter_map(|j| cycle_of(receiver, &all, j)).collect();
    Ok(ChurnReport {
        target_rate: options.churn_rate,
        modified,
        duration,
        counted: counted as u64,
        caught_up_after,
        exports: during.len().saturating_sub(1),
        max_export_gap,
        slowest_cycle: cycles.into_iter().max_by_key(|c| c.wall),
        cpu: cpu_during,
        rss_before,
        rss_end,
        rss_max,
        rss_after,
    })
}
