//! Types, config and waits shared by the discovery tests.
#![allow(dead_code)]

use std::time::Duration;

use kube_state_otel::collectors::CollectorPlan;
use kube_state_otel_testkit::fake_apiserver::ResourceSpec;
use serde_json::{json, Value};

use crate::harness::{Harness, WAIT};

pub fn git_repositories() -> ResourceSpec {
    ResourceSpec::new("source.toolkit.fluxcd.io", "v1", "GitRepository", "gitrepositories", true)
}

pub fn kustomizations() -> ResourceSpec {
    ResourceSpec::new("kustomize.toolkit.fluxcd.io", "v1", "Kustomization", "kustomizations", true)
}

pub fn certificates() -> ResourceSpec {
    ResourceSpec::new("cert-manager.io", "v1", "Certificate", "certificates", true)
}

pub fn helm_releases() -> ResourceSpec {
    ResourceSpec::new("helm.toolkit.fluxcd.io", "v2", "HelmRelease", "helmreleases", true)
}

/// A type discovery lists without `list` and `watch`, as some aggregated APIs do.
pub fn certificate_reviews() -> ResourceSpec {
    ResourceSpec::new("cert-manager.io", "v1", "CertificateReview", "certificatereviews", false)
        .with_verbs(&["create"])
}

pub fn plan(crds: &str) -> CollectorPlan {
    let section: String = crds.lines().map(|line| format!("    {line}\n")).collect();
    let file = format!("collectors:\n  nodes: {{enabled: false}}\n  crds:\n{section}");
    let plan = kube_state_otel::config::load_str(&file, &kube_state_otel::config::Env::default())
        .unwrap_or_else(|e| panic!("{file}\n{e}"));
    plan.collectors.into_iter().find(|c| c.name == "crds").expect("crds is enabled")
}

pub const OPERATORS: &str = "enabled: true
metricsNamespace: ops
resources:
  - name: operators
    select: {groups: ['*.fluxcd.io', cert-manager.io], discoveryPeriod: 1s}
    metrics:
      - {type: info, name: info}
      - {type: conditions, name: ready, path: 'status.conditions'}
";

pub fn object(spec: &ResourceSpec, name: &str, ready: &str) -> Value {
    json!({
        "apiVersion": spec.api_version(), "kind": spec.kind,
        "metadata": {"name": name, "namespace": "default"},
        "status": {"conditions": [{"type": "Ready", "status": ready}]}
    })
}

pub fn info(spec: &ResourceSpec, name: &str) -> String {
    format!(
        "k8s.resource.group={},k8s.resource.kind={},name={name},namespace=default 1",
        spec.group, spec.kind
    )
}

pub async fn wait_for_detail(h: &Harness, part: &str, wanted: impl Fn(&str) -> bool) {
    let waited = tokio::time::timeout(WAIT, async {
        while !h.status.snapshot().details.get(part).is_some_and(|d| wanted(d)) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{part}: {:?}", h.status.snapshot());
}
