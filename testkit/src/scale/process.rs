//! The agent under test as a child process, so its memory and CPU are its own: spawn it,
//! read `/proc/<pid>/status` and `/proc/<pid>/stat`, poll `/readyz`, stop it with SIGTERM.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::ScaleError;

/// Memory of a process, in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    /// Resident set size now (`VmRSS`).
    pub rss: u64,
    /// Highest resident set size so far (`VmHWM`).
    pub peak: u64,
}

/// How often `/readyz` is asked while the agent starts. A kubelet asks every 10 s by default;
/// asked every 20 ms, the answers cost the agent about 4 % of the CPU its initial sync is
/// measured by (docs/performance.md), so the time to ready is told to a tenth of a second.
pub const READY_POLL: Duration = Duration::from_millis(100);

/// A running agent.
pub struct Agent {
    child: Child,
    health_port: u16,
    log: PathBuf,
    pub spawned: Instant,
}

impl Agent {
    /// Starts `binary run --config <config>`, logging to `log`.
    pub fn spawn(binary: &Path, config: &Path, health_port: u16, log: &Path) -> Result<Agent, ScaleError> {
        let io = |e: std::io::Error| ScaleError::Agent(format!("{}: {e}", binary.display()));
        let out = std::fs::File::create(log).map_err(io)?;
        let err = out.try_clone().map_err(io)?;
        let spawned = Instant::now();
        let child = Command::new(binary)
            .arg("run")
            .arg("--config")
            .arg(config)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("OTEL_METRIC_EXPORT_INTERVAL")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(io)?;
        Ok(Agent { child, health_port, log: log.to_owned(), spawned })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of the agent's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn exited(&mut self) -> Result<(), ScaleError> {
        match self.child.try_wait() {
            Ok(Some(status)) => {
                Err(ScaleError::Agent(format!("the agent exited with {status}:\n{}", self.log_tail())))
            }
            _ => Ok(()),
        }
    }

    /// Polls `/readyz` every [`READY_POLL`] until it answers 200; returns the time since spawn.
    pub async fn wait_ready(&mut self, timeout: Duration) -> Result<Duration, ScaleError> {
        install_crypto_provider();
        let url = format!("http://127.0.0.1:{}/readyz", self.health_port);
        let client = reqwest::Client::new();
        loop {
            self.exited()?;
            if let Ok(response) = client.get(&url).timeout(Duration::from_secs(1)).send().await {
                if response.status().as_u16() == 200 {
                    return Ok(self.spawned.elapsed());
                }
            }
            if self.spawned.elapsed() > timeout {
                return Err(ScaleError::Agent(format!("not ready after {timeout:?}:\n{}", self.log_tail())));
            }
            tokio::time::sleep(READY_POLL).await;
        }
    }

    pub fn memory(&mut self) -> Result<Memory, ScaleError> {
        self.exited()?;
        memory(self.pid()).ok_or_else(|| ScaleError::Agent("cannot read /proc/<pid>/status".into()))
    }

    /// User plus system CPU time used so far.
    pub fn cpu(&mut self) -> Result<Duration, ScaleError> {
        self.exited()?;
        cpu_time(self.pid()).ok_or_else(|| ScaleError::Agent("cannot read /proc/<pid>/stat".into()))
    }

    /// SIGTERM, then waits for the exit (SIGKILL after `grace`).
    pub async fn stop(mut self, grace: Duration) -> Result<(), ScaleError> {
        // SAFETY: plain kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = Instant::now() + grace;
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(ScaleError::Agent(format!("the agent did not stop within {grace:?}")));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Installs rustls' ring crypto provider as the process default (later calls do nothing); the
/// reqwest client needs one. The kit's own copy of the agent's, so the kit does not depend on it.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// `VmRSS` and `VmHWM` of a process.
pub fn memory(pid: u32) -> Option<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: u64 = line[name.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    };
    Some(Memory { rss: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// `utime + stime` of a process.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_nanos(ticks * 1_000_000_000 / per_second))
}

/// A loopback port free right now (see [`crate::try_free_port`]).
pub fn free_port() -> Result<u16, ScaleError> {
    crate::try_free_port().map_err(ScaleError::Agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        let m = memory(me).unwrap();
        assert!(m.rss > 0 && m.peak >= m.rss);
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x ^ i);
        }
        assert!(cpu_time(me).is_some());
    }
}
