//! Runs `kubernetes-validate --strict` (PyPI) on Kubernetes objects, for tests of manifests.

use std::process::Command;

use serde_json::Value;

/// A Kubernetes version `kubernetes-validate` ships strict schemas for.
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// Writes every object to its own file and asserts that `kubernetes-validate --strict` accepts
/// each against its schema (an object of a kind it has no schema for fails too).
pub fn validate_strict(objects: &[Value]) {
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let path = dir.path().join(format!("{i:02}-{}.json", object["kind"].as_str().unwrap_or("x")));
        std::fs::write(&path, serde_json::to_vec_pretty(object).unwrap()).unwrap();
        files.push(path);
    }
    let output = Command::new("kubernetes-validate")
        .args(["--strict", "--no-warn", "-k", KUBERNETES_VERSION])
        .args(&files)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubernetes-validate (PyPI `pip install kubernetes-validate`) cannot run: {e}")
        });
    let log =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "kubernetes-validate --strict failed:\n{log}");
    assert_eq!(
        log.matches(" passed for resource ").count(),
        objects.len(),
        "every object must be validated against a schema:\n{log}"
    );
}
