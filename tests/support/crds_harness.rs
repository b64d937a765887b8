//! The custom-resource collector under test: the fake API server serving `databases`, the
//! collector exporting to the OTLP test receiver, and waits on what the receiver got.
#![allow(dead_code)]

use std::time::Duration;

use kube_state_otel::collectors::{CollectorContext, CollectorPlan, CollectorStatus, Shard};
use kube_state_otel::config::OtlpConfig;
use kube_state_otel::telemetry::SelfMetrics;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, RecordedRequest, ResourceSpec};
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, OtlpReceiver};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::exporter_support;

pub const WAIT: Duration = Duration::from_secs(20);
pub const API_VERSION: &str = "example.com/v1";

pub fn databases() -> ResourceSpec {
    ResourceSpec::new("example.com", "v1", "Database", "databases", true)
}

/// `gvr` of `databases` and explicit identity attributes, the resource fields `config` uses.
pub const DATABASES: &str = "    gvr: {group: example.com, version: v1, resource: databases}
    commonLabels: {name: metadata.name, namespace: metadata.namespace}
";

/// The compiled `collectors.crds` section with every metric type over `databases`, with
/// `extra` resource fields (namespaces, selector).
pub fn config(extra: &str) -> CollectorPlan {
    config_selecting(DATABASES, extra)
}

/// Like `config`, with `select` (the resource and `commonLabels` fields) in place of
/// `DATABASES`.
pub fn config_selecting(select: &str, extra: &str) -> CollectorPlan {
    let yaml = format!(
        r#"enabled: true
metricsNamespace: test
resources:
  - name: db
{select}{extra}    metrics:
      - {{type: info, name: info, labels: {{engine: spec.engine}}}}
      - {{type: state, name: phase, path: status.phase, states: [Running, Failed]}}
      - {{type: gauge, name: replicas, unit: "{{replica}}", help: "Desired replicas", path: spec.replicas}}
      - {{type: count, name: by_engine, path: spec.engine}}
      - {{type: map_state, name: component, path: status.components}}
      - {{type: map_gauge, name: component_replicas, path: status.componentReplicas}}
      - {{type: conditions, name: condition, path: status.conditions}}
"#
    );
    let section: String = yaml.lines().map(|line| format!("    {line}\n")).collect();
    let file = format!("collectors:\n  nodes: {{enabled: false}}\n  crds:\n{section}");
    let plan = kube_state_otel::config::load_str(&file, &kube_state_otel::config::Env::default())
        .unwrap_or_else(|e| panic!("{file}\n{e}"));
    plan.collectors.into_iter().find(|c| c.name == "crds").expect("crds is enabled")
}

pub fn database(ns: &str, name: &str, engine: &str, replicas: Value, phase: &str) -> Value {
    json!({
        "apiVersion": API_VERSION, "kind": "Database",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "db"}},
        "spec": {"engine": engine, "replicas": replicas},
        "status": {
            "phase": phase,
            "components": {"primary": "Ready", "replica": "Starting"},
            "componentReplicas": {"primary": 1, "replica": "2"},
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "Ok"},
                {"type": "Synced", "status": "false"}
            ]
        }
    })
}

pub struct Harness {
    pub server: FakeApiServer,
    pub receiver: OtlpReceiver,
    pub status: CollectorStatus,
    pub cancel: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts the collector; `register` says whether the CRD is installed from the start.
    pub async fn start(plan: CollectorPlan, register: bool) -> Harness {
        Harness::start_on(FakeApiServer::start().await, plan, register).await
    }

    /// Starts the collector against `server`.
    pub async fn start_on(server: FakeApiServer, plan: CollectorPlan, register: bool) -> Harness {
        if register {
            server.register_resource(databases());
        }
        let running = Running::start(server.client(), &plan, None, Duration::from_millis(200)).await;
        Harness {
            server,
            receiver: running.receiver,
            status: running.status,
            cancel: running.cancel,
            task: running.task,
        }
    }

    pub fn apply(&self, object: Value) {
        self.server.apply(object).unwrap();
    }

    pub fn delete(&self, ns: &str, name: &str) {
        self.server.delete(API_VERSION, "Database", Some(ns), name).unwrap();
    }

    /// Waits until the newest export's points of `metric`, as sorted `k=v,... value` lines,
    /// equal `want` (empty: the metric has no points).
    pub async fn expect(&self, metric: &str, want: &[&str]) {
        expect_points(&self.receiver, metric, want).await;
    }

    pub fn latest(&self, metric: &str) -> Vec<String> {
        latest_points(&self.receiver, metric)
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

/// One collector of `plan` on `client` (as shard `shard`, if any), exporting every `every` to
/// its own OTLP test receiver.
pub struct Running {
    pub receiver: OtlpReceiver,
    pub status: CollectorStatus,
    pub cancel: CancellationToken,
    pub task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub async fn start(
        client: kube::Client,
        plan: &CollectorPlan,
        shard: Option<Shard>,
        every: Duration,
    ) -> Running {
        let receiver = OtlpReceiver::start().await;
        let otlp = OtlpConfig { endpoint: receiver.grpc_endpoint(), ..OtlpConfig::default() };
        let exporter = exporter_support::exporter(&otlp, &[], 5);
        let registry = exporter.registry().clone();
        let meter = exporter.own_metrics().meter();
        let status = CollectorStatus::default();
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move { exporter.run(every, stop).await });
        let ctx = CollectorContext {
            name: "crds".into(),
            cancel: cancel.clone(),
            registry,
            status: status.clone(),
            self_metrics: SelfMetrics::new(&meter),
            kube: Some(client),
            shard,
        };
        let task = plan.spawn(ctx);
        Running { receiver, status, cancel, task }
    }

    pub async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

/// Waits until the newest export's points of `metric` at `receiver`, as sorted `k=v,... value`
/// lines, equal `want` (empty: the metric has no points).
pub async fn expect_points(receiver: &OtlpReceiver, metric: &str, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    let deadline = tokio::time::Instant::now() + WAIT;
    while latest_points(receiver, metric) != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{metric}: wanted {want:?}; the last export had {:?}",
            latest_points(receiver, metric)
        );
        // Woken by the next export, or re-checked shortly.
        let next = receiver.received().len() + 1;
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            receiver.wait_for(WAIT, "next export", |r| r.len() >= next),
        )
        .await;
    }
}

/// The newest export's points of `metric` as sorted `k=v,... value` lines.
pub fn latest_points(receiver: &OtlpReceiver, metric: &str) -> Vec<String> {
    let received = receiver.received();
    let Some(last) = received.last() else { return vec!["<no export yet>".into()] };
    let mut lines: Vec<String> = find_metric(&last.request, metric)
        .map(points)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let attrs: Vec<String> = p.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{} {}", attrs.join(","), p.value)
        })
        .collect();
    lines.sort();
    lines
}

/// List (not watch) requests for databases.
pub fn list_requests(server: &FakeApiServer) -> usize {
    let is_list = |r: &&RecordedRequest| r.path.ends_with("/databases") && r.query_param("watch").is_none();
    server.requests().iter().filter(is_list).count()
}

/// The whole agent (`runtime::run`) on the fake API server, through its own Kubernetes client.
pub struct Agent {
    /// Port of its health endpoints.
    pub port: u16,
    pub stop: CancellationToken,
    pub task: tokio::task::JoinHandle<Result<(), kube_state_otel::runtime::RunError>>,
    /// Its home, holding the kubeconfig of `server`.
    _home: tempfile::TempDir,
}

/// Starts the agent on `server`, exporting to `receiver` every 200 ms, nodes off, leader
/// election off, with `crds` (YAML at the indentation of its keys) as `collectors.crds`.
pub fn start_agent(server: &FakeApiServer, receiver: &OtlpReceiver, crds: &str) -> Agent {
    let home = tempfile::tempdir().unwrap();
    let kubeconfig = home.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    let port = kube_state_otel_testkit::free_port();
    let yaml = format!(
        "kubernetes: {{kubeconfig: {}}}\nexport:\n  interval: 200ms\n  otlp: {{endpoint: {}, protocol: grpc}}\nserver: {{listen: 127.0.0.1:{port}}}\nleaderElection: {{enabled: false}}\ncollectors:\n  nodes: {{enabled: false}}\n  crds:\n{crds}",
        kubeconfig.display(),
        receiver.grpc_endpoint()
    );
    let env = kube_state_otel::config::Env::from_pairs([("HOME", home.path().to_str().unwrap())]);
    let plan = kube_state_otel::config::load_str(&yaml, &env).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let stop = CancellationToken::new();
    let task = tokio::spawn(kube_state_otel::runtime::run(plan, env, stop.clone()));
    Agent { port, stop, task, _home: home }
}

/// `test.db.replicas` of each object, by name, in the newest export.
pub fn replicas(receiver: &OtlpReceiver) -> Vec<(String, f64)> {
    let Some(metric) = receiver.latest_metric("test.db.replicas") else { return Vec::new() };
    let mut found: Vec<(String, f64)> = points(&metric)
        .iter()
        .map(|p| {
            let name = p.attributes.iter().find(|(k, _)| k == "name").map(|(_, v)| v.clone());
            (name.unwrap_or_default(), p.value)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}
