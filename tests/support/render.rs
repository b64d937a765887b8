//! Runs `kube-state-otel render` as a user would, with a fixed instance id and no OTEL_*
//! overrides, from the repository root (where relative paths in the examples point from).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `render --config config --objects objects... extra...`.
pub fn render(config: &Path, objects: &[PathBuf], extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .arg("render")
        .arg("--config")
        .arg(config)
        .arg("--objects")
        .args(objects)
        .args(extra)
        .env("POD_NAME", "kso-0")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("KUBE_STATE_OTEL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// What it printed, after asserting that it succeeded.
pub fn stdout_of(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}
