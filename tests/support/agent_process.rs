//! `kube-state-otel run` as a child process, for tests that kill, signal or reconfigure it.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command, Stdio};

pub use kube_state_otel_testkit::free_port;

/// A running agent; killed when dropped, so a failing test leaves no process behind.
pub struct AgentProcess(Child);

impl AgentProcess {
    /// Starts the agent on `config` with `env` added; `dir` is its home (no stray kubeconfig).
    pub fn spawn(config: &Path, dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::spawn_with_stdout(config, dir, env, Stdio::null())
    }

    /// Like `spawn`, with the agent's log (stdout) written to `log`.
    pub fn spawn_logging_to(config: &Path, dir: &Path, env: &[(&str, &str)], log: &Path) -> Self {
        let file = std::fs::File::create(log).unwrap();
        Self::spawn_with_stdout(config, dir, env, Stdio::from(file))
    }

    fn spawn_with_stdout(config: &Path, dir: &Path, env: &[(&str, &str)], stdout: Stdio) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"));
        cmd.args(["run", "--config"]).arg(config);
        cmd.env("HOME", dir).env("KUBECONFIG", dir.join("no-such-kubeconfig"));
        cmd.env_remove("KUBERNETES_SERVICE_HOST").env_remove("POD_NAME").env_remove("POD_NAMESPACE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(stdout).stderr(Stdio::inherit());
        AgentProcess(cmd.spawn().unwrap())
    }

    /// Sends `signal` (`KILL`, `TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill").arg(format!("-{signal}")).arg(self.0.id().to_string()).status();
        assert!(status.unwrap().success());
    }

    /// Whether the process has exited, and if so whether successfully; does not wait.
    pub fn try_wait(&mut self) -> Option<bool> {
        self.0.try_wait().unwrap().map(|status| status.success())
    }

    /// Waits for the process to exit; true when it exited successfully.
    pub fn wait(&mut self) -> bool {
        self.0.wait().unwrap().success()
    }
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
