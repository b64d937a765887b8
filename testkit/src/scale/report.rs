//! What the scale harness measured, printed as the text pasted into the README.

use std::fmt;
use std::time::Duration;

use super::{Compression, Floor, IdleExports, InitialSync, ObjectSizes, RelistReport, ShardedReport};

/// One export: collection plus encoding on the agent's reader thread.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExportCycle {
    pub points: u64,
    /// Size of the OTLP request, uncompressed.
    pub encoded_bytes: usize,
    pub wall: Duration,
    pub cpu: Duration,
}

/// The churn phase: custom resources modified continuously.
#[derive(Clone, Debug)]
pub struct ChurnReport {
    pub target_rate: u32,
    /// Modifications the harness made.
    pub modified: u64,
    pub duration: Duration,
    /// `apply` watch events the agent counted over the phase (its self-metric).
    pub counted: u64,
    /// When the agent's exports showed every modification, after the phase ended; `None` if
    /// they never did within the timeout.
    pub caught_up_after: Option<Duration>,
    /// Exports that arrived from the start of the phase until it was caught up.
    pub exports: usize,
    /// Longest time between two exports arriving.
    pub max_export_gap: Duration,
    pub slowest_cycle: Option<ExportCycle>,
    /// Agent CPU time (user + system) during the phase.
    pub cpu: Duration,
    pub rss_before: u64,
    pub rss_end: u64,
    pub rss_max: u64,
    /// Highest RSS over one export interval after the agent caught up.
    pub rss_after: u64,
}

/// Everything one run measured.
#[derive(Clone, Debug)]
pub struct ScaleReport {
    pub crs: usize,
    pub nodes: usize,
    pub pods: usize,
    pub sizes: ObjectSizes,
    /// Time the fake API server took to store the objects (not the agent's).
    pub load_time: Duration,
    pub export_interval: Duration,
    /// From spawning the agent until `/readyz` answered 200.
    pub time_to_ready: Duration,
    /// Agent CPU time (user + system) until ready.
    pub cpu_to_ready: Duration,
    /// Agent CPU time over one export interval without changes: the whole export (collect,
    /// convert, encode, compress, send) plus idle work.
    pub cpu_per_interval: Duration,
    /// `VmHWM` when ready: the peak during the initial list.
    pub peak_rss_initial: u64,
    /// Highest RSS over one export interval after two exports.
    pub steady_rss: u64,
    /// `VmHWM` after the steady interval, exports included.
    pub peak_rss_overall: u64,
    /// Steady RSS of the same agent watching no objects.
    pub baseline_rss: u64,
    pub bytes_per_object: u64,
    pub export: ExportCycle,
    /// Objects the agent holds over all its tables (its `kube_state_otel.objects`).
    pub objects_held: Option<u64>,
    /// A bare `serde_json::Value` parse of every watched object, this thread's CPU.
    pub floor: Floor,
    /// Agent CPU from spawn until the first complete export.
    pub initial_sync: InitialSync,
    /// Agent CPU and bytes on the wire over `idle_exports` export intervals without changes.
    pub idle: IdleExports,
    pub idle_exports: u32,
    /// The agent's `export.otlp.compression` during the run.
    pub compression: Compression,
    /// Every watch listed again (the server's history compacted) while the points are held.
    pub relist: RelistReport,
    /// `None` when the churn phase was skipped (`--churn 0s`).
    pub churn: Option<ChurnReport>,
    /// The sharded run, with `--shards` above 1.
    pub sharded: Option<ShardedReport>,
}

impl ScaleReport {
    pub fn objects(&self) -> usize {
        self.crs + self.nodes + self.pods
    }

    /// Peak during the initial list over steady RSS.
    pub fn initial_peak_ratio(&self) -> f64 {
        self.peak_rss_initial as f64 / self.steady_rss.max(1) as f64
    }

    /// Initial sync CPU over the parse floor (issue 17's target: at most 2).
    pub fn initial_sync_ratio(&self) -> f64 {
        self.floor.ratio(self.initial_sync.cpu)
    }

    /// Idle CPU per export over the parse floor (issue 17's target: at most 0.25, uncompressed).
    pub fn idle_ratio(&self) -> f64 {
        self.floor.ratio(self.idle.cpu_per_export)
    }

    /// Uncompressed OTLP bytes per exported point.
    pub fn bytes_per_point(&self) -> f64 {
        self.export.encoded_bytes as f64 / self.export.points.max(1) as f64
    }
}

impl ChurnReport {
    /// Modifications per second the harness made during churn.
    pub fn rate(&self) -> f64 {
        self.modified as f64 / self.duration.as_secs_f64().max(1e-9)
    }
}

pub(super) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

pub(super) fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

impl fmt::Display for ExportCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} points ({:.1} MiB OTLP), wall {}, CPU {}",
            self.points,
            self.encoded_bytes as f64 / (1024.0 * 1024.0),
            secs(self.wall),
            secs(self.cpu)
        )
    }
}

impl fmt::Display for ScaleReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "objects                {} CRs ({} B each) + {} nodes ({} B) + {} pods ({} B) = {}",
            self.crs,
            self.sizes.cr,
            self.nodes,
            self.sizes.node,
            self.pods,
            self.sizes.pod,
            self.objects()
        )?;
        writeln!(f, "fake server load       {} (harness side, not the agent)", secs(self.load_time))?;
        writeln!(f, "export interval        {}", secs(self.export_interval))?;
        writeln!(
            f,
            "time to ready          {} (agent CPU {})",
            secs(self.time_to_ready),
            secs(self.cpu_to_ready)
        )?;
        writeln!(
            f,
            "peak RSS initial list  {} ({:.2}x steady)",
            mib(self.peak_rss_initial),
            self.initial_peak_ratio()
        )?;
        writeln!(f, "steady RSS             {}", mib(self.steady_rss))?;
        writeln!(f, "peak RSS incl. exports {}", mib(self.peak_rss_overall))?;
        writeln!(f, "RSS with 0 objects     {}", mib(self.baseline_rss))?;
        writeln!(f, "bytes per object       {}", self.bytes_per_object)?;
        let held = self.objects_held.map_or_else(|| "?".to_string(), |n| n.to_string());
        writeln!(f, "objects held           {held} (the agent's kube_state_otel.objects, all tables)")?;
        writeln!(f, "export cycle           {}", self.export)?;
        writeln!(
            f,
            "agent CPU at rest      {} per export interval (export incl. encoding, compression, sending)",
            secs(self.cpu_per_interval)
        )?;
        let measured_in = if self.floor.own_process.is_some() {
            format!("a process of its own; {} in the harness's", secs(self.floor.in_harness))
        } else {
            "the harness's process".to_string()
        };
        writeln!(
            f,
            "parse floor            {} (serde_json::Value, {} objects, best of {}, {measured_in})",
            secs(self.floor.cpu()),
            self.floor.objects,
            self.floor.passes
        )?;
        writeln!(
            f,
            "initial sync CPU       {} = {:.2}x the floor (first complete export at {:.1} s, {} per-object points)",
            secs(self.initial_sync.cpu),
            self.initial_sync_ratio(),
            self.initial_sync.at.as_secs_f64(),
            self.initial_sync.series_points
        )?;
        writeln!(
            f,
            "idle CPU per export    {} = {:.2}x the floor (compression {}, over {} exports)",
            secs(self.idle.cpu_per_export),
            self.idle_ratio(),
            self.compression.as_str(),
            self.idle_exports
        )?;
        writeln!(
            f,
            "bytes per point        {:.1} OTLP uncompressed, {:.1} on the wire (compression {}, HTTP/2 and gRPC framing included)",
            self.bytes_per_point(),
            self.idle.wire_bytes_per_point,
            self.compression.as_str()
        )?;
        let listed = self.relist.listed_after.map_or_else(|| "not within the timeout".into(), secs);
        writeln!(
            f,
            "relist RSS             before {}, peak {} ({:.2}x steady), every watch listed again after {listed}",
            mib(self.relist.rss_before),
            mib(self.relist.rss_max),
            self.relist.rss_max as f64 / self.steady_rss.max(1) as f64
        )?;
        match &self.churn {
            Some(churn) => write_churn(f, churn)?,
            None => writeln!(f, "churn                  skipped (--churn 0s)")?,
        }
        match &self.sharded {
            Some(sharded) => write!(f, "{sharded}"),
            None => {
                write!(f, "shards                 1 (unsharded; --shards N runs N agents after this run)")
            }
        }
    }
}

fn write_churn(f: &mut fmt::Formatter<'_>, c: &ChurnReport) -> fmt::Result {
    writeln!(
            f,
            "churn                  {} modifications in {} = {:.0}/s (target {}/s), agent CPU {} ({:.0}% of a core)",
            c.modified,
            secs(c.duration),
            c.rate(),
            c.target_rate,
            secs(c.cpu),
            100.0 * c.cpu.as_secs_f64() / c.duration.as_secs_f64().max(1e-9)
        )?;
    let caught_up = match c.caught_up_after {
        Some(after) => format!("all counted by an export {} after the churn ended", secs(after)),
        None => "NOT all counted before the timeout".to_string(),
    };
    writeln!(f, "churn events counted   {} ({caught_up})", c.counted)?;
    writeln!(f, "churn exports          {}, longest gap {}", c.exports, secs(c.max_export_gap))?;
    if let Some(slowest) = &c.slowest_cycle {
        writeln!(f, "churn slowest export   {slowest}")?;
    }
    writeln!(
        f,
        "churn RSS              before {}, end {}, max {}, after {}",
        mib(c.rss_before),
        mib(c.rss_end),
        mib(c.rss_max),
        mib(c.rss_after)
    )
}
