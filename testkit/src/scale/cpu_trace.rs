//! The agent's CPU time sampled every 20 ms with the instant of each sample, so the CPU used
//! up to an event seen later (the first complete export) can be looked up afterwards.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::process::cpu_time;

const PERIOD: Duration = Duration::from_millis(20);

/// A running sampler; stops when dropped.
pub struct CpuTrace {
    samples: Arc<Mutex<Vec<(Instant, Duration)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl CpuTrace {
    /// Starts sampling `utime + stime` of `pid` until the process is gone or the trace dropped.
    pub fn start(pid: u32) -> CpuTrace {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let into = samples.clone();
        let task = tokio::spawn(async move {
            let mut ticker = tokio::time::interval(PERIOD);
            ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let Some(cpu) = cpu_time(pid) else { break };
                into.lock().push((Instant::now(), cpu));
            }
        });
        CpuTrace { samples, task }
    }

    /// The CPU time of the first sample taken at or after `at`, if there is one yet.
    pub fn at_or_after(&self, at: Instant) -> Option<Duration> {
        self.samples.lock().iter().find(|(t, _)| *t >= at).map(|(_, cpu)| *cpu)
    }

    /// Waits (a few periods at most) for a sample at or after `at`.
    pub async fn wait_at_or_after(&self, at: Instant) -> Option<Duration> {
        for _ in 0..50 {
            if let Some(cpu) = self.at_or_after(at) {
                return Some(cpu);
            }
            tokio::time::sleep(PERIOD).await;
        }
        None
    }
}

impl Drop for CpuTrace {
    fn drop(&mut self) {
        self.task.abort();
    }
}
