//! `select` and `namespaceSelector` against the fake API server, exporting to the OTLP test
//! receiver: one entry over several groups follows CRDs as they are installed and removed,
//! reports a type it cannot watch once, and namespaces chosen by label are followed as their
//! labels change.

use std::time::Duration;

use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use serde_json::{json, Value};

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{config, database, databases, Harness, WAIT};

#[path = "support/discovery.rs"]
mod discovery;

use discovery::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_select_entry_follows_crds_as_they_are_installed_and_removed() {
    let server = FakeApiServer::start().await;
    for spec in [git_repositories(), kustomizations(), certificates(), certificate_reviews(), databases()] {
        server.register_resource(spec);
    }
    for spec in [git_repositories(), kustomizations(), certificates()] {
        server.apply(object(&spec, "a", "True")).unwrap();
    }
    server.apply(database("default", "not-selected", "postgres", json!(1), "Running")).unwrap();
    let h = Harness::start_on(server, plan(OPERATORS), false).await;

    // Three kinds over two groups at start, each with its own table and /readyz entry.
    h.expect(
        "ops.operators.info",
        &[&info(&git_repositories(), "a"), &info(&kustomizations(), "a"), &info(&certificates(), "a")],
    )
    .await;
    h.expect(
        "ops.operators.ready",
        &[
            "k8s.resource.group=cert-manager.io,k8s.resource.kind=Certificate,name=a,namespace=default,status=True,type=Ready 1",
            "k8s.resource.group=kustomize.toolkit.fluxcd.io,k8s.resource.kind=Kustomization,name=a,namespace=default,status=True,type=Ready 1",
            "k8s.resource.group=source.toolkit.fluxcd.io,k8s.resource.kind=GitRepository,name=a,namespace=default,status=True,type=Ready 1",
        ],
    )
    .await;
    wait_for_detail(&h, "operators/cert-manager.io/Certificate", |d| d == "watched: listed").await;
    assert!(h.status.is_ready(), "{:?}", h.status.snapshot());

    // The type that cannot be watched is reported by name, and never listed or watched.
    wait_for_detail(&h, "operators/cert-manager.io/CertificateReview", |d| {
        d.starts_with("not watched: discovery lists the verbs [\"create\"]")
    })
    .await;

    // A CRD installed later is watched within the discovery period.
    h.server.register_resource(helm_releases());
    h.apply(object(&helm_releases(), "b", "False"));
    h.expect(
        "ops.operators.info",
        &[
            &info(&git_repositories(), "a"),
            &info(&kustomizations(), "a"),
            &info(&certificates(), "a"),
            &info(&helm_releases(), "b"),
        ],
    )
    .await;
    wait_for_detail(&h, "operators/helm.toolkit.fluxcd.io/HelmRelease", |d| d == "watched: listed").await;

    // A removed CRD's series disappear, and so does its /readyz entry.
    assert!(h.server.unregister_resource(&kustomizations()));
    h.expect(
        "ops.operators.info",
        &[&info(&git_repositories(), "a"), &info(&certificates(), "a"), &info(&helm_releases(), "b")],
    )
    .await;
    let details = h.status.snapshot().details;
    assert!(!details.contains_key("operators/kustomize.toolkit.fluxcd.io/Kustomization"), "{details:?}");

    let paths: Vec<String> = h.server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().all(|p| !p.ends_with("/certificatereviews")), "{paths:?}");
    assert!(paths.iter().all(|p| !p.ends_with("/databases")), "another group is never read: {paths:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_types_caps_an_entry_and_says_so_in_readyz() {
    let server = FakeApiServer::start().await;
    for spec in [git_repositories(), kustomizations(), certificates()] {
        server.register_resource(spec.clone());
        server.apply(object(&spec, "a", "True")).unwrap();
    }
    let capped = OPERATORS.replace("discoveryPeriod: 1s}", "discoveryPeriod: 1s, maxTypes: 2}");
    let h = Harness::start_on(server, plan(&capped), false).await;
    // By group then kind: cert-manager.io/Certificate, kustomize.../Kustomization; not source...
    h.expect("ops.operators.info", &[&info(&certificates(), "a"), &info(&kustomizations(), "a")]).await;
    wait_for_detail(&h, "operators", |d| {
        d == "maxTypes (2) reached: 1 more matching types not watched: source.toolkit.fluxcd.io/GitRepository"
    })
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_type_that_cannot_be_watched_is_reported_not_retried_in_a_hot_loop() {
    let server = FakeApiServer::start().await;
    server.register_resource(certificate_reviews());
    let crds = "enabled: true\nresources:\n  - name: reviews\n    gvk: {group: cert-manager.io, version: v1, kind: CertificateReview}\n    metrics: [{type: info, name: info}]\n";
    let h = Harness::start_on(server, plan(crds), false).await;
    wait_for_detail(&h, "reviews", |d| {
        d.contains("cannot be watched: discovery lists the verbs [\"create\"]")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let requests = h.server.requests();
    let discovery = requests.iter().filter(|r| r.path == "/apis/cert-manager.io/v1").count();
    // Discovery backs off from 1 s: a handful of requests in ~2 s, not hundreds.
    assert!((1..=4).contains(&discovery), "{discovery} discovery requests");
    assert!(requests.iter().all(|r| !r.path.ends_with("/certificatereviews")));
    assert!(!h.status.is_ready());
    h.stop().await;
}

fn namespace(name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_gain_and_lose_the_selected_label_and_the_series_follow() {
    let server = FakeApiServer::start().await;
    server.register_resource(databases());
    server.apply(namespace("pay-1", json!({"team": "payments"}))).unwrap();
    server.apply(namespace("pay-2", json!({"team": "web"}))).unwrap();
    server.apply(database("pay-1", "a", "postgres", json!(1), "Running")).unwrap();
    server.apply(database("pay-2", "b", "postgres", json!(2), "Running")).unwrap();
    let h = Harness::start_on(server, config("    namespaceSelector: team=payments\n"), false).await;
    h.expect("test.db.replicas", &["name=a,namespace=pay-1 1"]).await;
    assert!(h.status.is_ready());

    // pay-2 gains the label: its objects are read from then on.
    h.apply(namespace("pay-2", json!({"team": "payments"})));
    h.expect("test.db.replicas", &["name=a,namespace=pay-1 1", "name=b,namespace=pay-2 2"]).await;
    h.apply(database("pay-2", "c", "postgres", json!(3), "Running"));
    h.expect(
        "test.db.replicas",
        &["name=a,namespace=pay-1 1", "name=b,namespace=pay-2 2", "name=c,namespace=pay-2 3"],
    )
    .await;

    // pay-1 loses it: its series are removed, and its new objects stay out.
    h.apply(namespace("pay-1", json!({})));
    h.expect("test.db.replicas", &["name=b,namespace=pay-2 2", "name=c,namespace=pay-2 3"]).await;
    h.expect("test.db.by_engine", &["value=postgres 2"]).await;
    h.apply(database("pay-1", "d", "postgres", json!(4), "Running"));
    // A namespace created with the label is followed too.
    h.apply(namespace("pay-3", json!({"team": "payments"})));
    h.apply(database("pay-3", "e", "postgres", json!(5), "Running"));
    h.expect(
        "test.db.replicas",
        &["name=b,namespace=pay-2 2", "name=c,namespace=pay-2 3", "name=e,namespace=pay-3 5"],
    )
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_cluster_says_what_each_entry_would_watch() {
    let server = FakeApiServer::start().await;
    for spec in [git_repositories(), kustomizations(), certificates(), certificate_reviews()] {
        server.register_resource(spec);
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    let config = dir.path().join("config.yaml");
    let section: String = OPERATORS.lines().map(|line| format!("    {line}\n")).collect();
    let missing = "      - name: missing\n        gvr: {group: example.com, version: v1, resource: databases}\n        metrics: [{type: info, name: info}]\n";
    std::fs::write(
        &config,
        format!(
            "kubernetes: {{kubeconfig: {}}}\ncollectors:\n  crds:\n{section}{missing}",
            kubeconfig.display()
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
            .args(["check", "--cluster", "--config"])
            .arg(&config)
            .env_remove("KUBE_STATE_OTEL_CONFIG")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "  crds/operators: select would watch 3 types: cert-manager.io/Certificate (v1), kustomize.toolkit.fluxcd.io/Kustomization (v1), source.toolkit.fluxcd.io/GitRepository (v1); not watchable (no list and watch): cert-manager.io/CertificateReview (v1)",
        "  crds/missing: CRD example.com/v1 databases not installed",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing\n{line}\nin\n{stdout}");
    }
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.ends_with("/certificates") && !r.path.ends_with("/gitrepositories")),
        "check --cluster reads no object"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_shows_each_selected_type_and_the_unwatchable_one_in_readyz() {
    let server = FakeApiServer::start().await;
    for spec in [certificates(), certificate_reviews()] {
        server.register_resource(spec);
    }
    server.apply(object(&certificates(), "a", "True")).unwrap();
    let receiver = kube_state_otel_testkit::otlp_receiver::OtlpReceiver::start().await;
    let crds: String = OPERATORS.replace("enabled: true", "enabled: true\nleaderElection: false");
    let section: String = crds.lines().map(|line| format!("    {line}\n")).collect();
    let agent = harness::start_agent(&server, &receiver, &section);
    let url = format!("http://127.0.0.1:{}/readyz", agent.port);
    kube_state_otel::telemetry::install_crypto_provider();
    let deadline = tokio::time::Instant::now() + WAIT;
    let details = loop {
        let answer = match reqwest::get(&url).await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                (status, serde_json::from_str(&resp.text().await.unwrap_or_default()).unwrap_or_default())
            }
            Err(_) => (0, Value::Null),
        };
        let details = answer.1["collectors"]["crds"]["details"].clone();
        if answer.0 == 200 && details["operators/cert-manager.io/Certificate"] == "watched: listed" {
            break details;
        }
        assert!(tokio::time::Instant::now() < deadline, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let review = details["operators/cert-manager.io/CertificateReview"].as_str().unwrap_or_default();
    assert!(review.starts_with("not watched: discovery lists the verbs [\"create\"]"), "{details}");
    agent.stop.cancel();
    agent.task.await.unwrap().unwrap();
}
