//! Reading Kubernetes manifests: multi-document YAML, and kustomizations rendered by
//! `kubectl kustomize` (which reads only the directory, so it works offline).
// Each test binary uses only part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The non-empty documents of a multi-document YAML text; `origin` names it in failures.
pub fn documents(text: &str, origin: &str) -> Vec<Value> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{origin}: {e}"));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

/// Runs `kubectl kustomize dir` (relative paths are taken from the repository root) and
/// returns the rendered objects. A missing kubectl fails the test: the manifests must be
/// checked, not skipped.
pub fn kubectl_kustomize(dir: &Path) -> Vec<Value> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `kubectl kustomize` (is kubectl installed and on PATH?): {e}")
        });
    assert!(
        output.status.success(),
        "`kubectl kustomize {}` failed:\n{}",
        dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let objects =
        documents(&String::from_utf8_lossy(&output.stdout), &format!("kubectl kustomize {}", dir.display()));
    assert!(!objects.is_empty(), "`kubectl kustomize {}` rendered nothing", dir.display());
    objects
}
