//! The sharded run: N agents at once against the one fake API server, each with
//! `sharding: {totalShards: N, shard: k}` and its own OTLP receiver. No churn phase.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::exports::{exports, kept_metric, wait_exports};
use super::measure::{idle_exports, initial_sync, objects_held, InitialSync};
use super::report::{mib, secs};
use super::{launch, sample_rss, Floor, ScaleError, ScaleOptions};
use crate::otlp_receiver::OtlpReceiver;

/// One shard's agent.
#[derive(Clone, Debug)]
pub struct ShardReport {
    pub shard: u32,
    /// Objects it holds (`kube_state_otel.objects`), if the export carried it.
    pub objects: Option<u64>,
    pub initial_sync: InitialSync,
    pub idle_cpu_per_export: Duration,
    /// Highest RSS over one export interval after two exports.
    pub steady_rss: u64,
    /// All points of its last complete export.
    pub points: u64,
}

/// Every shard, and the per-object points of the unsharded run for comparison.
#[derive(Clone, Debug)]
pub struct ShardedReport {
    pub shards: Vec<ShardReport>,
    pub unsharded_series_points: u64,
    /// Objects the unsharded agent held.
    pub unsharded_objects: Option<u64>,
    pub floor: Floor,
}

impl ShardedReport {
    /// Per-object points over all shards: each object is on exactly one shard, so this is the
    /// unsharded agent's count.
    pub fn series_points(&self) -> u64 {
        self.shards.iter().map(|s| s.initial_sync.series_points).sum()
    }

    /// Objects held over all shards, if every shard reported it.
    pub fn objects(&self) -> Option<u64> {
        self.shards.iter().map(|s| s.objects).sum()
    }

    pub fn points(&self) -> u64 {
        self.shards.iter().map(|s| s.points).sum()
    }

    pub fn initial_sync_cpu(&self) -> Duration {
        self.shards.iter().map(|s| s.initial_sync.cpu).sum()
    }

    pub fn idle_cpu_per_export(&self) -> Duration {
        self.shards.iter().map(|s| s.idle_cpu_per_export).sum()
    }

    pub fn steady_rss(&self) -> u64 {
        self.shards.iter().map(|s| s.steady_rss).sum()
    }
}

/// Runs `options.shards` agents at once and measures each.
pub(super) async fn run(
    options: &ScaleOptions,
    kubeconfig: &Path,
    dir: &Path,
    (unsharded_series_points, unsharded_objects): (u64, Option<u64>),
    floor: Floor,
) -> Result<ShardedReport, ScaleError> {
    let tasks: Vec<_> = (0..options.shards)
        .map(|k| tokio::spawn(shard(options.clone(), kubeconfig.to_owned(), dir.to_owned(), k)))
        .collect();
    let mut shards = Vec::new();
    for task in tasks {
        shards.push(task.await.map_err(|e| ScaleError::Agent(format!("shard task: {e}")))??);
    }
    Ok(ShardedReport { shards, unsharded_series_points, unsharded_objects, floor })
}

async fn shard(
    options: ScaleOptions,
    kubeconfig: PathBuf,
    dir: PathBuf,
    k: u32,
) -> Result<ShardReport, ScaleError> {
    let receiver = OtlpReceiver::start_with(Some(kept_metric)).await;
    let name = format!("shard-{k}");
    let shard = Some((options.shards, k));
    let (mut agent, trace, _) = launch(&options, &kubeconfig, &receiver, &dir, &name, shard).await?;
    wait_exports(&receiver, &mut agent, 2, &options).await?;
    let steady_rss = sample_rss(&mut agent, options.export_interval).await?;
    let sync = initial_sync(&receiver, &agent, &trace).await?;
    drop(trace);
    let idle =
        idle_exports(&receiver, &mut agent, options.idle_exports, options.timeout).await?.cpu_per_export;
    let all = exports(&receiver);
    let points = all.len().checked_sub(2).map_or(0, |j| all[j].points);
    let objects = objects_held(&receiver);
    agent.stop(Duration::from_secs(30)).await?;
    Ok(ShardReport { shard: k, objects, initial_sync: sync, idle_cpu_per_export: idle, steady_rss, points })
}

impl fmt::Display for ShardedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "shards                 {} agents at once against the one fake API server, each with its own OTLP receiver (no churn phase)",
            self.shards.len()
        )?;
        for s in &self.shards {
            let objects = s.objects.map_or_else(|| "?".to_string(), |n| n.to_string());
            writeln!(
                f,
                "shard {:<16} {objects} objects held, initial sync CPU {} (first complete export at {:.1} s), idle CPU per export {}, steady RSS {}, {} points ({} per-object)",
                s.shard,
                secs(s.initial_sync.cpu),
                s.initial_sync.at.as_secs_f64(),
                secs(s.idle_cpu_per_export),
                mib(s.steady_rss),
                s.points,
                s.initial_sync.series_points
            )?;
        }
        let objects = self.objects();
        writeln!(
            f,
            "shards total           {} objects held, initial sync CPU {} = {:.2}x the floor, idle CPU per export {} = {:.2}x the floor, steady RSS {}, {} points",
            objects.map_or_else(|| "?".to_string(), |n| n.to_string()),
            secs(self.initial_sync_cpu()),
            self.floor.ratio(self.initial_sync_cpu()),
            secs(self.idle_cpu_per_export()),
            self.floor.ratio(self.idle_cpu_per_export()),
            mib(self.steady_rss()),
            self.points()
        )?;
        let verdict = |equal: bool| if equal { "equal" } else { "DIFFERENT" };
        let unsharded = self.unsharded_objects.map_or_else(|| "?".to_string(), |n| n.to_string());
        writeln!(
            f,
            "shards objects held    {} over the shards, {unsharded} unsharded ({})",
            objects.map_or_else(|| "?".to_string(), |n| n.to_string()),
            verdict(objects.is_some() && objects == self.unsharded_objects)
        )?;
        write!(
            f,
            "shards per-object pts  {} over the shards, {} unsharded ({})",
            self.series_points(),
            self.unsharded_series_points,
            verdict(self.series_points() == self.unsharded_series_points)
        )
    }
}
