//! Runs `kube-state-otel check` on a config file, for tests that ship configs.

use std::path::Path;
use std::process::Command;

/// Asserts that `check` accepts `config` and returns its summary.
pub fn check_accepts(config: &Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .arg("check")
        .arg("--config")
        .arg(config)
        .env_remove("KUBE_STATE_OTEL_CONFIG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "check rejected {}:\n{stdout}{}",
        config.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
