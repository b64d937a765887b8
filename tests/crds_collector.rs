//! The live custom-resource collector against the fake API server, exporting to the OTLP test
//! receiver: every metric type, updates, deletes, relists after 410, dropped watches, namespace
//! and label filtering, a CRD installed late, and objects with odd field types.

use std::time::Duration;

use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, ResourceSpec};
use kube_state_otel_testkit::otlp_receiver::{points, OtlpReceiver};
use serde_json::{json, Value};

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{
    config, config_selecting, database, databases, list_requests, start_agent, Harness, API_VERSION, WAIT,
};

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
      - {name: ns, path: metadata.namespace, type: string}
    computed:
      - {name: doubled, expression: "replicas * 2"}
    aggregations:
      - {name: total_replicas, function: sum, field: replicas, groupBy: engine}
      - {name: running, function: count, filter: "phase == 'Running'"}
      - {name: max_replicas, function: max, field: replicas}
      - {name: engines, function: distinct, field: engine}
      - {name: doubled_total, function: sum, field: doubled}
      - {name: per_namespace, function: count, groupBy: ns}
"#;
    let h = Harness::start(config(extra), true).await;
    h.apply(database("prod", "a", "postgres", json!(3), "Running"));
    h.apply(database("dev", "b", "mysql", json!(2), "Failed"));
    h.expect("test.db.total_replicas", &["engine=mysql 2", "engine=postgres 3"]).await;
    h.expect("test.db.per_namespace", &["ns=dev 1", "ns=prod 1"]).await;
    h.expect("test.db.running", &[" 1"]).await;
    h.expect("test.db.max_replicas", &[" 3"]).await;
    h.expect("test.db.engines", &[" 2"]).await;
    h.expect("test.db.doubled_total", &[" 10"]).await;

    h.apply(database("dev", "b", "mysql", json!(5), "Running"));
    h.expect("test.db.total_replicas", &["engine=mysql 5", "engine=postgres 3"]).await;
    h.expect("test.db.running", &[" 2"]).await;
    h.expect("test.db.max_replicas", &[" 5"]).await;
    h.expect("test.db.doubled_total", &[" 16"]).await;

    h.delete("dev", "b");
    h.expect("test.db.total_replicas", &["engine=postgres 3"]).await;
    h.expect("test.db.engines", &[" 1"]).await;
    h.expect("test.db.per_namespace", &["ns=prod 1"]).await;
    h.delete("prod", "a");
    h.expect("test.db.total_replicas", &[]).await;
    h.expect("test.db.running", &[" 0"]).await;
    h.expect("test.db.max_replicas", &[]).await;
    h.expect("test.db.engines", &[" 0"]).await;
    h.expect("test.db.doubled_total", &[" 0"]).await;
    h.expect("test.db.per_namespace", &[]).await;
    h.stop().await;
}

/// The whole agent (`runtime::run`) with the collector enabled in YAML: `/readyz` says why it
/// is not ready while the CRD is missing, and the metrics flow once it is installed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_runs_the_collector_and_reports_a_missing_crd_in_readyz() {
    let server = FakeApiServer::start().await;
    let receiver = OtlpReceiver::start().await;
    let crds = "    enabled: true\n    leaderElection: false\n    metricsNamespace: test\n    resources:\n      - name: db\n        gvr: {group: example.com, version: v1, resource: databases}\n        commonLabels: {name: metadata.name}\n        metrics: [{type: gauge, name: replicas, path: spec.replicas}]\n";
    let agent = start_agent(&server, &receiver, crds);
    let port = agent.port;

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
    agent.stop.cancel();
    agent.task.await.unwrap().unwrap();
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

/// Paths of the requests for databases (lists and watches).
fn database_paths(server: &FakeApiServer) -> Vec<String> {
    server.requests().into_iter().filter(|r| r.path.ends_with("/databases")).map(|r| r.path).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn globs_and_exclusions_watch_cluster_wide_and_filter_in_the_agent() {
    let selecting =
        "    namespaces: [\"prod-*\", staging, \"!prod-test\"]\n    excludeNamespaces: [\"prod-old*\"]\n";
    let h = Harness::start(config(selecting), true).await;
    for ns in ["prod-a", "prod-test", "prod-old1", "staging", "dev"] {
        h.apply(database(ns, "a", "postgres", json!(1), "Running"));
    }
    h.expect("test.db.replicas", &["name=a,namespace=prod-a 1", "name=a,namespace=staging 1"]).await;
    h.expect("test.db.by_engine", &["value=postgres 2"]).await;
    let paths = database_paths(&h.server);
    assert!(paths.iter().all(|p| p == "/apis/example.com/v1/databases"), "{paths:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_namespaces_are_watched_one_by_one() {
    let h = Harness::start(config("    namespaces: [prod, dev]\n"), true).await;
    h.apply(database("prod", "a", "postgres", json!(1), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 1"]).await;
    let mut paths = database_paths(&h.server);
    paths.sort();
    paths.dedup();
    assert_eq!(
        paths,
        ["/apis/example.com/v1/namespaces/dev/databases", "/apis/example.com/v1/namespaces/prod/databases"]
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_and_field_selectors_are_sent_to_the_api_server() {
    let selecting = "    labelSelector: \"app in (db)\"\n    fieldSelector: metadata.name!=skip\n";
    let h = Harness::start(config(selecting), true).await;
    h.apply(database("prod", "a", "postgres", json!(1), "Running"));
    h.apply(database("prod", "skip", "postgres", json!(2), "Running"));
    let mut cache = database("prod", "c", "postgres", json!(3), "Running");
    cache["metadata"]["labels"]["app"] = json!("cache");
    h.apply(cache);
    h.expect("test.db.replicas", &["name=a,namespace=prod 1"]).await;
    let requests: Vec<_> =
        h.server.requests().into_iter().filter(|r| r.path.ends_with("/databases")).collect();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request.query_param("labelSelector").as_deref(), Some("app in (db)"), "{}", request.path);
        assert_eq!(
            request.query_param("fieldSelector").as_deref(),
            Some("metadata.name!=skip"),
            "{}",
            request.path
        );
    }
    h.stop().await;
}

/// Without `namespace` in `commonLabels`, `a` in two namespaces gives one series: the first
/// object written keeps it until it is deleted, and the other takes it at its next update.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_series_keep_the_first_object_and_are_counted() {
    let select = "    gvr: {group: example.com, version: v1, resource: databases}\n    commonLabels: {name: metadata.name}\n";
    let h = Harness::start(config_selecting(select, ""), true).await;
    h.apply(database("prod", "a", "postgres", json!(1), "Running"));
    h.expect("test.db.replicas", &["name=a 1"]).await;
    h.apply(database("dev", "a", "postgres", json!(2), "Running"));
    let collisions = [
        "metric=test.db.info 1",
        "metric=test.db.phase 2",
        "metric=test.db.replicas 1",
        "metric=test.db.component 2",
        "metric=test.db.component_replicas 2",
        "metric=test.db.condition 2",
    ];
    h.expect("kube_state_otel.series.collisions", &collisions).await;
    h.expect("test.db.replicas", &["name=a 1"]).await;
    h.delete("prod", "a");
    h.expect("test.db.replicas", &[]).await;
    h.apply(database("dev", "a", "postgres", json!(3), "Running"));
    h.expect("test.db.replicas", &["name=a 3"]).await;
    h.stop().await;
}

/// Each object yields 11 points (7 metrics); at most 5 per object and 8 in all are kept, in
/// extraction order: `a` keeps info, both phase points, replicas and by_engine; `b` only the
/// first 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guards_drop_points_beyond_the_limits_and_count_them() {
    let h = Harness::start(config("    maxSeriesPerObject: 5\n    maxSeries: 8\n"), true).await;
    h.apply(database("prod", "a", "postgres", json!(1), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 1"]).await;
    h.apply(database("prod", "b", "postgres", json!(2), "Running"));
    h.expect(
        "test.db.info",
        &["engine=postgres,name=a,namespace=prod 1", "engine=postgres,name=b,namespace=prod 1"],
    )
    .await;
    h.expect("kube_state_otel.series.dropped", &["table=crds/db 14"]).await;
    h.expect("test.db.replicas", &["name=a,namespace=prod 1"]).await;
    h.expect("test.db.condition", &[]).await;
    h.stop().await;
}

/// `gvk` finds the plural through discovery; without `commonLabels` the identity is `name`
/// and `namespace`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_is_resolved_through_discovery_with_default_identity() {
    let h = Harness::start(
        config_selecting("    gvk: {group: example.com, version: v1, kind: Database}\n", ""),
        true,
    )
    .await;
    h.apply(database("prod", "a", "postgres", json!(4), "Running"));
    h.expect("test.db.replicas", &["name=a,namespace=prod 4"]).await;
    h.stop().await;
}

/// A built-in resource named by kind (core group, served at `/api/v1`) works like a custom one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_built_in_kind_is_watched_like_a_custom_one() {
    let select = "    gvk: {group: \"\", version: v1, kind: PersistentVolumeClaim}\n";
    let h = Harness::start(config_selecting(select, ""), false).await;
    h.server.register_resource(ResourceSpec::new(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    ));
    let claim = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data", "namespace": "prod"}, "spec": {"replicas": 2}});
    h.apply(claim);
    h.expect("test.db.replicas", &["name=data,namespace=prod 2"]).await;
    let paths: Vec<String> = h.server.requests().into_iter().map(|r| r.path).collect();
    assert!(paths.iter().any(|p| p == "/api/v1/persistentvolumeclaims"), "{paths:?}");
    h.stop().await;
}

/// Objects of a cluster-scoped resource have no namespace, so the default identity is `name`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_scoped_objects_get_no_namespace_attribute() {
    let select = "    gvr: {group: example.com, version: v1, resource: shards}\n";
    let h = Harness::start(config_selecting(select, ""), false).await;
    h.server.register_resource(ResourceSpec::new("example.com", "v1", "Shard", "shards", false));
    h.apply(json!({"apiVersion": API_VERSION, "kind": "Shard", "metadata": {"name": "s1"}, "spec": {"replicas": 5}}));
    h.expect("test.db.replicas", &["name=s1 5"]).await;
    h.stop().await;
}
