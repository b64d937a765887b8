//! The scale harness: N synthetic custom resources, nodes and pods on the fake API server, the
//! real agent binary watching them as a child process (so its memory is its own), exporting to
//! the OTLP test receiver. It measures time to ready, peak and steady RSS, bytes per watched
//! object and per point, one export cycle, the parse floor of the same objects and the initial
//! sync and idle export CPU against it, a churn phase of continuous modifications, and
//! optionally N shards against the one server. Run it with
//! `cargo build --release && cargo run --release -p kube-state-otel-testkit --bin scale-harness`.

mod churn;
mod cpu_trace;
mod exports;
mod floor;
mod measure;
mod objects;
mod process;
mod relist;
mod report;
mod sharded;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use floor::{floor_in_own_process, parse_floor, parse_floor_of_file, thread_cpu, Floor};
pub use measure::{IdleExports, InitialSync};
pub use objects::{
    agent_config, agent_config_with, cluster, cluster_resource, node, pod, ConfigExtras, CRD_RESOURCE,
};
pub use process::{cpu_time, memory, Memory};
pub use relist::RelistReport;
pub use report::{ChurnReport, ExportCycle, ScaleReport};
pub use sharded::{ShardReport, ShardedReport};

use self::cpu_trace::CpuTrace;
use self::exports::{kept_metric, last_cycle, wait_exports};
use self::process::{free_port, Agent};
use crate::fake_apiserver::FakeApiServer;
use crate::otlp_receiver::OtlpReceiver;

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

/// The agent's `export.otlp.compression`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    /// The agent's default.
    #[default]
    Zstd,
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl std::str::FromStr for Compression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(Compression::None),
            "gzip" => Ok(Compression::Gzip),
            "zstd" => Ok(Compression::Zstd),
            other => Err(format!("{other:?}: expected none, gzip or zstd")),
        }
    }
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
    /// Zero skips the churn phase.
    pub churn_duration: Duration,
    /// Longest wait for `/readyz` and for exports.
    pub timeout: Duration,
    /// Written into the agent's config as `export.otlp.compression`.
    pub compression: Compression,
    /// Export intervals without changes over which the idle CPU per export is averaged.
    pub idle_exports: u32,
    /// Above 1: after the unsharded run, this many agents at once, one per shard.
    pub shards: u32,
    /// A program that measures the parse floor in a process of its own when run as
    /// `PROGRAM --parse-floor FILE PASSES` (the harness binary); `None` measures it in this
    /// process only.
    pub floor_program: Option<PathBuf>,
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
            compression: Compression::default(),
            idle_exports: 3,
            shards: 1,
            floor_program: None,
        }
    }

    fn objects(&self) -> usize {
        self.crs + self.nodes + self.pods
    }
}

/// Passes of the parse floor; the least is kept.
const FLOOR_PASSES: u32 = 3;

/// Runs the whole measurement.
pub async fn run(options: &ScaleOptions) -> Result<ScaleReport, ScaleError> {
    if !options.agent.is_file() {
        return Err(ScaleError::Agent(format!(
            "{} not found; build it first (cargo build --release)",
            options.agent.display()
        )));
    }
    let server = FakeApiServer::start().await;
    server.register_resource(cluster_resource());
    let dir = tempfile_dir()?;
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml())?;

    let baseline = {
        let receiver = OtlpReceiver::start_with(Some(kept_metric)).await;
        let (mut agent, _, _) = launch(options, &kubeconfig, &receiver, &dir, "baseline", None).await?;
        wait_exports(&receiver, &mut agent, 2, options).await?;
        let steady = sample_rss(&mut agent, options.export_interval).await?;
        agent.stop(Duration::from_secs(15)).await?;
        steady
    };

    let loading = Instant::now();
    let (sizes, served, serializing) = load(&server, options)?;
    let load_time = loading.elapsed().saturating_sub(serializing);
    let objects = served.len();
    let floor_program = options.floor_program.clone();
    let floor_dir = dir.clone();
    let floor = tokio::task::spawn_blocking(move || {
        let in_harness = parse_floor(&served, FLOOR_PASSES);
        let own_process = match &floor_program {
            Some(program) => Some(floor_in_own_process(program, &served, FLOOR_PASSES, &floor_dir)?),
            None => None,
        };
        Ok::<_, std::io::Error>(Floor { own_process, in_harness, objects, passes: FLOOR_PASSES })
    })
    .await
    .map_err(|e| ScaleError::Agent(format!("the floor's thread: {e}")))??;

    let receiver = OtlpReceiver::start_with(Some(kept_metric)).await;
    let (mut agent, trace, time_to_ready) =
        launch(options, &kubeconfig, &receiver, &dir, "agent", None).await?;
    let at_ready = agent.memory()?;
    let cpu_to_ready = agent.cpu()?;
    wait_exports(&receiver, &mut agent, 2, options).await?;
    let cpu_before_steady = agent.cpu()?;
    let steady_rss = sample_rss(&mut agent, options.export_interval).await?;
    let cpu_per_interval = agent.cpu()?.saturating_sub(cpu_before_steady);
    let after_exports = agent.memory()?;
    let export = last_cycle(&receiver)
        .ok_or_else(|| ScaleError::Agent("no kube_state_otel.export.duration in the exports".into()))?;
    let initial_sync = measure::initial_sync(&receiver, &agent, &trace).await?;
    drop(trace);
    let objects_held = measure::objects_held(&receiver);
    let idle = measure::idle_exports(&receiver, &mut agent, options.idle_exports, options.timeout).await?;
    let relist = relist::relist(&server, &receiver, &mut agent, options).await?;

    let churn = if options.churn_duration.is_zero() {
        None
    } else {
        Some(churn::churn(&server, &receiver, &mut agent, options).await?)
    };
    agent.stop(Duration::from_secs(30)).await?;

    let sharded = if options.shards > 1 {
        Some(
            sharded::run(options, &kubeconfig, &dir, (initial_sync.series_points, objects_held), floor)
                .await?,
        )
    } else {
        None
    };
    let _ = std::fs::remove_dir_all(&dir);

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
        bytes_per_object: (steady_rss.saturating_sub(baseline)) / options.objects().max(1) as u64,
        export,
        objects_held,
        floor,
        initial_sync,
        idle,
        idle_exports: options.idle_exports.max(1),
        compression: options.compression,
        relist,
        churn,
        sharded,
    })
}

/// A directory of this run's own: runs in one process (tests in parallel) must not share the
/// kubeconfig, configs and logs.
fn tempfile_dir() -> Result<PathBuf, ScaleError> {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("kso-scale-{}-{run}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Spawns the agent, samples its CPU from then on, and waits until it is ready; returns the
/// time to ready. The health port is one that was free a moment before the spawn, so another
/// process may take it first: an agent that exits because its port is in use is spawned again
/// on another port.
async fn launch(
    options: &ScaleOptions,
    kubeconfig: &Path,
    receiver: &OtlpReceiver,
    dir: &Path,
    name: &str,
    shard: Option<(u32, u32)>,
) -> Result<(Agent, CpuTrace, Duration), ScaleError> {
    let mut attempt = 1;
    loop {
        let mut agent = start_agent(options, kubeconfig, receiver, dir, name, shard)?;
        let trace = CpuTrace::start(agent.pid());
        match agent.wait_ready(options.timeout).await {
            Ok(time_to_ready) => return Ok((agent, trace, time_to_ready)),
            Err(ScaleError::Agent(message)) if attempt < 3 && message.contains("Address already in use") => {
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Spawns the agent with the harness's config (`shard`: `(totalShards, shard)`).
fn start_agent(
    options: &ScaleOptions,
    kubeconfig: &Path,
    receiver: &OtlpReceiver,
    dir: &Path,
    name: &str,
    shard: Option<(u32, u32)>,
) -> Result<Agent, ScaleError> {
    let port = free_port()?;
    let config = dir.join(format!("{name}.yaml"));
    let interval = options.export_interval.as_millis() as u64;
    let extras = ConfigExtras { compression: Some(options.compression.as_str()), shard };
    let text = agent_config_with(
        &kubeconfig.display().to_string(),
        &receiver.grpc_endpoint(),
        port,
        interval,
        extras,
    );
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

/// Stores the objects on the server. Returns their sizes, every object's JSON as the server
/// serves it (for the parse floor), and the time spent serializing those.
fn load(
    server: &FakeApiServer,
    options: &ScaleOptions,
) -> Result<(ObjectSizes, Vec<Vec<u8>>, Duration), ScaleError> {
    let mut served = Vec::with_capacity(options.objects());
    let mut serializing = Duration::ZERO;
    let mut put = |object: serde_json::Value| -> Result<usize, ScaleError> {
        let size = serde_json::to_vec(&object).map(|b| b.len()).unwrap_or_default();
        let stored = server.apply(object).map_err(|e| ScaleError::Server(e.message.clone()))?;
        let started = Instant::now();
        served.push(serde_json::to_vec(&stored).map_err(|e| ScaleError::Server(e.to_string()))?);
        serializing += started.elapsed();
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
    let sizes = ObjectSizes { cr, node, pod: mean(total, options.pods) };
    Ok((sizes, served, serializing))
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
