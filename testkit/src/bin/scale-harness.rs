//! Scale harness: runs the release agent against N synthetic objects on the in-process fake
//! API server and prints what it measured. Build the agent first, then run the harness (it
//! starts `target/release/kube-state-otel` as a child unless `--agent` names another binary):
//! `cargo build --release && cargo run --release -p kube-state-otel-testkit --bin scale-harness`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use kube_state_otel_testkit::scale::{self, ScaleOptions};

#[derive(Parser)]
#[command(about = "Measure kube-state-otel against N synthetic objects")]
struct Args {
    /// The agent binary (default: kube-state-otel next to this harness).
    #[arg(long)]
    agent: Option<PathBuf>,
    #[arg(long, default_value_t = 100_000)]
    crs: usize,
    #[arg(long, default_value_t = 5_000)]
    nodes: usize,
    #[arg(long, default_value_t = 50_000)]
    pods: usize,
    /// Export interval, e.g. 10s.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    interval: Duration,
    /// Custom resource modifications per second during the churn phase.
    #[arg(long, default_value_t = 1_000)]
    churn_rate: u32,
    /// Length of the churn phase; 0s skips it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    churn: Duration,
    /// The agent's export.otlp.compression: none, gzip or zstd (the agent's default).
    #[arg(long, default_value = "zstd", value_parser = ["none", "gzip", "zstd"])]
    compression: String,
    /// Export intervals without changes over which the idle CPU per export is averaged.
    #[arg(long, default_value_t = 3)]
    idle_exports: u32,
    /// Above 1: after the unsharded run, run this many agents at once, one per shard.
    #[arg(long, default_value_t = 1)]
    shards: u32,
    /// Internal: print the parse floor of the objects in FILE (nanoseconds) over PASSES passes
    /// and exit (how the harness measures the floor in a process of its own).
    #[arg(long, num_args = 2, value_names = ["FILE", "PASSES"], hide = true)]
    parse_floor: Option<Vec<String>>,
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let total_kb: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    format!("{model}, {cpus} CPUs, {:.1} GiB", total_kb as f64 / (1024.0 * 1024.0))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some([file, passes]) = args.parse_floor.as_deref() {
        println!("{}", scale::parse_floor_of_file(file.as_ref(), passes.parse()?)?);
        return Ok(());
    }
    let agent = match args.agent {
        Some(path) => path,
        None => std::env::current_exe()?.with_file_name("kube-state-otel"),
    };
    let options = ScaleOptions {
        crs: args.crs,
        nodes: args.nodes,
        pods: args.pods,
        export_interval: args.interval,
        churn_rate: args.churn_rate,
        churn_duration: args.churn,
        compression: args.compression.parse().map_err(anyhow::Error::msg)?,
        idle_exports: args.idle_exports,
        shards: args.shards.max(1),
        floor_program: Some(std::env::current_exe()?),
        ..ScaleOptions::new(agent)
    };
    println!("machine                {}", machine());
    let report = scale::run(&options).await?;
    println!("{report}");
    Ok(())
}
