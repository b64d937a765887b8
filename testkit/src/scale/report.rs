//! What the scale harness measured, printed as the text pasted into the README.

use std::fmt;
use std::time::Duration;

use super::ObjectSizes;

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
    pub churn: ChurnReport,
}

impl ScaleReport {
    pub fn objects(&self) -> usize {
        self.crs + self.nodes + self.pods
    }

    /// Peak during the initial list over steady RSS.
    pub fn initial_peak_ratio(&self) -> f64 {
        self.peak_rss_initial as f64 / self.steady_rss.max(1) as f64
    }

    /// Modifications per second the harness made during churn.
    pub fn churn_rate(&self) -> f64 {
        self.churn.modified as f64 / self.churn.duration.as_secs_f64().max(1e-9)
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn secs(d: Duration) -> String {
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
        let c = &self.churn;
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
        writeln!(f, "export cycle           {}", self.export)?;
        writeln!(
            f,
            "agent CPU at rest      {} per export interval (export incl. encoding, compression, sending)",
            secs(self.cpu_per_interval)
        )?;
        writeln!(
            f,
            "churn                  {} modifications in {} = {:.0}/s (target {}/s), agent CPU {} ({:.0}% of a core)",
            c.modified,
            secs(c.duration),
            self.churn_rate(),
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
        write!(
            f,
            "churn RSS              before {}, end {}, max {}, after {}",
            mib(c.rss_before),
            mib(c.rss_end),
            mib(c.rss_max),
            mib(c.rss_after)
        )
    }
}
