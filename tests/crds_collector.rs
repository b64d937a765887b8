//! The live custom-resource collector against the fake API server, exporting to the OTLP test
//! receiver: every metric type, updates, deletes, relists after 410, dropped watches, namespace
//! and label filtering, a CRD installed late, and objects with odd field types.

use std::time::Duration;

use kube_state_otel::collectors::{CollectorContext, CollectorPlan, CollectorStatus};
use kube_state_otel::config::OtlpConfig;
use kube_state_otel::telemetry::SelfMetrics;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, RecordedRequest, ResourceSpec};
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, OtlpReceiver};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

#[path = "support/exporter.rs"]
mod exporter_support;

const WAIT: Duration = Duration::from_secs(20);
const API_VERSION: &str = "example.com/v1";

fn databases() -> ResourceSpec {
    ResourceSpec::new("example.com", "v1", "Database", "databases", true)
}

/// The compiled `collectors.crds` section with every metric type over `databases`, with
/// `extra` resource fields (namespaces, selector).
fn config(extra: &str) -> CollectorPlan {
    let yaml = format!(
        r#"enabled: true
metricsNamespace: test
resources:
  - name: db
    gvr: {{group: example.com, version: v1, resource: databases}}
    commonLabels: {{name: metadata.name, namespace: metadata.namespace}}
{extra}    metrics:
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

fn database(ns: &str, name: &str, engine: &str, replicas: Value, phase: &str) -> Value {
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

struct Harness {
    server: FakeApiServer,
    receiver: OtlpReceiver,
    status: CollectorStatus,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// Starts the collector; `register` says whether the CRD is installed from the start.
    async fn start(plan: CollectorPlan, register: bool) -> Harness {
        let server = FakeApiServer::start().await;
        if register {
            server.register_resource(databases());
        }
        let receiver = OtlpReceiver::start().await;
        let otlp = OtlpConfig { endpoint: receiver.grpc_endpoint(), ..OtlpConfig::default() };
        let exporter = exporter_support::exporter(&otlp, &[], 5);
        let registry = exporter.registry().clone();
        let meter = exporter.own_metrics().meter();
        let status = CollectorStatus::default();
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move { exporter.run(Duration::from_millis(200), stop).await });
        let ctx = CollectorContext {
            name: "crds".into(),
            cancel: cancel.clone(),
            registry,
            status: status.clone(),
            self_metrics: SelfMetrics::new(&meter),
            kube: Some(server.client()),
        };
        let task = plan.spawn(ctx);
        Harness { server, receiver, status, cancel, task }
    }

    fn apply(&self, object: Value) {
        self.server.apply(object).unwrap();
    }

    fn delete(&self, ns: &str, name: &str) {
        self.server.delete(API_VERSION, "Database", Some(ns), name).unwrap();
    }

    /// Waits until the newest export's points of `metric`, as sorted `k=v,... value` lines,
    /// equal `want` (empty: the metric has no points).
    async fn expect(&self, metric: &str, want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        want.sort();
        let deadline = tokio::time::Instant::now() + WAIT;
        while self.latest(metric) != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{metric}: wanted {want:?}; the last export had {:?}",
                self.latest(metric)
            );
            // Woken by the next export, or re-checked shortly.
            let next = self.receiver.received().len() + 1;
            let _ = tokio::time::timeout(
                Duration::from_millis(500),
                self.receiver.wait_for(WAIT, "next export", |r| r.len() >= next),
            )
            .await;
        }
    }

    fn latest(&self, metric: &str) -> Vec<String> {
        let received = self.receiver.received();
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

    async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_type_is_exported_updated_and_removed() {
    let h = Harness::start(config(""), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.apply(database("dev", "b", "postgres", json!(1), "Failed"));

    h.expect(
        "test.db.info",
        &["engine=postgres,name=a,namespace=prod 1", "engine=postgres,name=b,namespace=dev 1"],
    )
    .await;
    h.expect(
        "test.db.phase",
        &[
            "name=a,namespace=prod,state=Running 1",
            "name=a,namespace=prod,state=Failed 0",
            "name=b,namespace=dev,state=Running 0",
            "name=b,namespace=dev,state=Failed 1",
        ],
    )
    .await;
    h.expect("test.db.replicas", &["name=a,namespace=prod 3", "name=b,namespace=dev 1"]).await;
    h.expect("test.db.by_engine", &["value=postgres 2"]).await;
    h.expect(
        "test.db.component",
        &[
            "key=primary,name=a,namespace=prod,state=Ready 1",
            "key=replica,name=a,namespace=prod,state=Starting 1",
            "key=primary,name=b,namespace=dev,state=Ready 1",
            "key=replica,name=b,namespace=dev,state=Starting 1",
        ],
    )
    .await;
    h.expect(
        "test.db.component_replicas",
        &[
            "key=primary,name=a,namespace=prod 1",
            "key=replica,name=a,namespace=prod 2",
            "key=primary,name=b,namespace=dev 1",
            "key=replica,name=b,namespace=dev 2",
        ],
    )
    .await;
    h.expect(
        "test.db.condition",
        &[
            "name=a,namespace=prod,reason=Ok,status=True,type=Ready 1",
            "name=a,namespace=prod,status=false,type=Synced 0",
            "name=b,namespace=dev,reason=Ok,status=True,type=Ready 1",
            "name=b,namespace=dev,status=false,type=Synced 0",
        ],
    )
    .await;
    let m = h.receiver.latest_metric("test.db.replicas").unwrap();
    assert_eq!((m.unit.as_str(), m.description.as_str()), ("{replica}", "Desired replicas"));
    assert!(h.status.is_up() && h.status.is_ready(), "{:?}", h.status.snapshot());

    // An update replaces the object's points.
    h.apply(database("prod", "a", "mysql", json!(5), "Failed"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 5", "name=b,namespace=dev 1"]).await;
    h.expect("test.db.by_engine", &["value=mysql 1", "value=postgres 1"]).await;
    h.expect(
        "test.db.phase",
        &[
            "name=a,namespace=prod,state=Running 0",
            "name=a,namespace=prod,state=Failed 1",
            "name=b,namespace=dev,state=Running 0",
            "name=b,namespace=dev,state=Failed 1",
        ],
    )
    .await;

    // A delete removes them; a count reaching zero vanishes.
    h.delete("dev", "b");
    h.expect("test.db.replicas", &["name=a,namespace=prod 5"]).await;
    h.expect("test.db.by_engine", &["value=mysql 1"]).await;
    h.delete("prod", "a");
    h.expect("test.db.replicas", &[]).await;
    h.expect("test.db.by_engine", &[]).await;
    h.stop().await;
}

/// Single-threaded so nothing runs between the delete and the compaction: the watch can only
/// learn about the delete by listing again after its 410.
#[tokio::test(flavor = "current_thread")]
async fn objects_deleted_before_a_410_relist_lose_their_points() {
    let h = Harness::start(config(""), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.apply(database("prod", "b", "postgres", json!(4), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3", "name=b,namespace=prod 4"]).await;
    let lists_before = list_requests(&h.server);
    h.delete("prod", "a");
    h.server.compact();
    h.expect("test.db.replicas", &["name=b,namespace=prod 4"]).await;
    assert!(list_requests(&h.server) > lists_before, "the 410 made the watcher list again");
    h.apply(database("prod", "c", "postgres", json!(7), "Running"));
    h.expect("test.db.replicas", &["name=b,namespace=prod 4", "name=c,namespace=prod 7"]).await;
    h.stop().await;
}

/// List (not watch) requests for databases.
fn list_requests(server: &FakeApiServer) -> usize {
    let is_list = |r: &&RecordedRequest| r.path.ends_with("/databases") && r.query_param("watch").is_none();
    server.requests().iter().filter(is_list).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_watches_resume() {
    let h = Harness::start(config(""), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3"]).await;
    for replicas in [4, 5] {
        h.server.drop_watches();
        h.apply(database("prod", "a", "postgres", json!(replicas), "Running"));
        h.expect("test.db.replicas", &[&format!("name=a,namespace=prod {replicas}")]).await;
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_and_label_selector_filter_objects() {
    let h = Harness::start(config("    namespaces: [prod, dev]\n    labelSelector: app=db\n"), true).await;
    h.apply(database("prod", "a", "postgres", json!(1), "Running"));
    h.apply(database("staging", "b", "postgres", json!(2), "Running"));
    let mut other = database("dev", "c", "postgres", json!(3), "Running");
    other["metadata"]["labels"]["app"] = json!("cache");
    h.apply(other);
    h.apply(database("dev", "d", "postgres", json!(4), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 1", "name=d,namespace=dev 4"]).await;
    h.expect("test.db.by_engine", &["value=postgres 2"]).await;
    let watched: Vec<String> = h.server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(watched.iter().any(|p| p.contains("/namespaces/prod/databases")), "{watched:?}");
    assert!(watched.iter().all(|p| !p.ends_with("/apis/example.com/v1/databases")), "{watched:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crd_installed_later_is_picked_up() {
    let h = Harness::start(config(""), false).await;
    let detail = "CRD example.com/v1 databases not installed; retrying";
    let waited = tokio::time::timeout(WAIT, async {
        while h.status.snapshot().details.get("db").map(String::as_str) != Some(detail) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "{:?}", h.status.snapshot());
    assert!(!h.status.is_ready());
    h.server.register_resource(databases());
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3"]).await;
    let snapshot = h.status.snapshot();
    assert!(snapshot.ready && snapshot.details.is_empty(), "{snapshot:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_field_types_are_counted_and_do_not_stop_the_watch() {
    let h = Harness::start(config(""), true).await;
    h.apply(database("prod", "odd", "postgres", json!({"not": "a number"}), "Running"));
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3"]).await;
    h.expect("kube_state_otel.extract.errors", &["metric=test.db.replicas 1"]).await;
    h.expect(
        "test.db.info",
        &["engine=postgres,name=a,namespace=prod 1", "engine=postgres,name=odd,namespace=prod 1"],
    )
    .await;
    h.apply(database("prod", "b", "postgres", json!(2), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3", "name=b,namespace=prod 2"]).await;
    h.stop().await;
}

/// SPEC §4.2 live: fields, a computed field, and aggregations recomputed at each
/// export as objects change and go; a group that empties disappears, an empty count is 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_computed_fields_and_aggregations_follow_the_objects() {
    let extra = r#"    fields:
      - {name: replicas, path: spec.replicas, type: integer}
      - {name: phase, path: status.phase, type: string}
      - {name: engine, path: spec.engine, type: string}
    computed:
      - {name: doubled, expression: "replicas * 2"}
    aggregations:
      - {name: total_replicas, function: sum, field: replicas, groupBy: engine}
      - {name: running, function: count, filter: "phase == 'Running'"}
      - {name: max_replicas, function: max, field: replicas}
      - {name: engines, function: distinct, field: engine}
      - {name: doubled_total, function: sum, field: doubled}
"#;
    let h = Harness::start(config(extra), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.apply(database("prod", "b", "mysql", json!(2), "Failed"));
    h.expect("test.db.total_replicas", &["engine=mysql 2", "engine=postgres 3"]).await;
    h.expect("test.db.running", &[" 1"]).await;
    h.expect("test.db.max_replicas", &[" 3"]).await;
    h.expect("test.db.engines", &[" 2"]).await;
    h.expect("test.db.doubled_total", &[" 10"]).await;

    h.apply(database("prod", "b", "mysql", json!(5), "Running"));
    h.expect("test.db.total_replicas", &["engine=mysql 5", "engine=postgres 3"]).await;
    h.expect("test.db.running", &[" 2"]).await;
    h.expect("test.db.max_replicas", &[" 5"]).await;
    h.expect("test.db.doubled_total", &[" 16"]).await;

    h.delete("prod", "b");
    h.expect("test.db.total_replicas", &["engine=postgres 3"]).await;
    h.expect("test.db.engines", &[" 1"]).await;
    h.delete("prod", "a");
    h.expect("test.db.total_replicas", &[]).await;
    h.expect("test.db.running", &[" 0"]).await;
    h.expect("test.db.max_replicas", &[]).await;
    h.expect("test.db.engines", &[" 0"]).await;
    h.expect("test.db.doubled_total", &[" 0"]).await;
    h.stop().await;
}

/// The whole agent (`runtime::run`) with the collector enabled in YAML: `/readyz` says why it
/// is not ready while the CRD is missing, and the metrics flow once it is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_runs_the_collector_and_reports_a_missing_crd_in_readyz() {
    let server = FakeApiServer::start().await;
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    let port = kube_state_otel_testkit::free_port();
    let yaml = format!(
        "kubernetes: {{kubeconfig: {}}}\nexport:\n  interval: 200ms\n  otlp: {{endpoint: {}, protocol: grpc}}\nserver: {{listen: 127.0.0.1:{port}}}\nleaderElection: {{enabled: false}}\ncollectors:\n  nodes: {{enabled: false}}\n  crds:\n    enabled: true\n    leaderElection: false\n    metricsNamespace: test\n    resources:\n      - name: db\n        gvr: {{group: example.com, version: v1, resource: databases}}\n        commonLabels: {{name: metadata.name}}\n        metrics: [{{type: gauge, name: replicas, path: spec.replicas}}]\n",
        kubeconfig.display(),
        receiver.grpc_endpoint()
    );
    let env = kube_state_otel::config::Env::from_pairs([("HOME", dir.path().to_str().unwrap())]);
    let config = kube_state_otel::config::load_str(&yaml, &env).unwrap_or_else(|e| panic!("{e}"));
    let stop = CancellationToken::new();
    let agent = tokio::spawn(kube_state_otel::runtime::run(config, env, stop.clone()));

    let detail = "CRD example.com/v1 databases not installed; retrying";
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answer = readyz(port).await;
        if let Some((503, body)) = &answer {
            if body["collectors"]["crds"]["details"]["db"] == detail {
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.register_resource(databases());
    server.apply(database("prod", "a", "postgres", json!(3), "Running")).unwrap();
    receiver
        .wait_for(WAIT, "test.db.replicas", |_| {
            receiver
                .latest_metric("test.db.replicas")
                .is_some_and(|m| points(&m).iter().any(|p| p.value == 3.0))
        })
        .await;
    let (status, body) = readyz(port).await.expect("readyz answers");
    assert_eq!(status, 200, "{body}");
    stop.cancel();
    agent.await.unwrap().unwrap();
}

/// `/readyz`, or `None` while the server is not listening yet.
async fn readyz(port: u16) -> Option<(u16, Value)> {
    kube_state_otel::telemetry::install_crypto_provider();
    let resp = reqwest::get(format!("http://127.0.0.1:{port}/readyz")).await.ok()?;
    let status = resp.status().as_u16();
    Some((status, serde_json::from_str(&resp.text().await.ok()?).ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resync_period_lists_again_and_keeps_the_points() {
    let h = Harness::start(config("    resyncPeriod: 300ms\n"), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 3"]).await;
    let first = list_requests(&h.server);
    let deadline = tokio::time::Instant::now() + WAIT;
    while list_requests(&h.server) < first + 2 {
        assert!(tokio::time::Instant::now() < deadline, "no relist after resyncPeriod");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    h.expect("test.db.replicas", &["name=a,namespace=prod 3"]).await;
    h.expect("test.db.by_engine", &["value=postgres 1"]).await;
    h.stop().await;
}
