//! MetricSource and ClusterMetricSource objects on the fake API server, run by the crds
//! collector exporting to the OTLP test receiver: a valid source's series appear, follow its
//! updates and go with it; an invalid update or a name conflict is reported in the status
//! (written through `/status`) while the previous version keeps running; a MetricSource never
//! reads another namespace.

use std::time::Duration;

use kube_state_otel::collectors::crds::sources::GROUP;
use kube_state_otel::collectors::CollectorPlan;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, ResourceSpec};
use serde_json::{json, Value};

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{database, databases, start_agent, Harness, WAIT};
use kube_state_otel_testkit::otlp_receiver::{points, OtlpReceiver};

const SOURCE_API: &str = "kube-state-otel.io/v1alpha1";

fn plan() -> CollectorPlan {
    let file = "collectors:
  nodes: {enabled: false}
  crds:
    metricsNamespace: test
    resources:
      - name: db
        gvr: {group: example.com, version: v1, resource: databases}
        metrics:
          - {type: gauge, name: replicas, path: spec.replicas}
    metricSources: {enabled: true, maxObjectsPerSource: 2}
";
    let plan = kube_state_otel::config::load_str(file, &kube_state_otel::config::Env::default())
        .unwrap_or_else(|e| panic!("{e}"));
    plan.collectors.into_iter().find(|c| c.name == "crds").unwrap()
}

async fn server() -> FakeApiServer {
    let server = FakeApiServer::start().await;
    for (kind, plural, namespaced) in
        [("MetricSource", "metricsources", true), ("ClusterMetricSource", "clustermetricsources", false)]
    {
        let spec = ResourceSpec::new(GROUP, "v1alpha1", kind, plural, namespaced).with_status_subresource();
        server.register_resource(spec);
    }
    server
}

fn source(namespace: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": SOURCE_API, "kind": "MetricSource",
        "metadata": {"name": name, "namespace": namespace}, "spec": spec})
}

fn db_spec(metric: &str, path: &str) -> Value {
    json!({"name": "db", "gvr": {"group": "example.com", "version": "v1", "resource": "databases"},
        "commonLabels": {"name": "metadata.name", "namespace": "metadata.namespace"},
        "metrics": [{"type": "gauge", "name": metric, "path": path}]})
}

/// Waits until the source's Ready condition is about `generation` and has `status`; returns it.
async fn ready(
    h: &Harness,
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    generation: i64,
    status: &str,
) -> Value {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let object = h.server.get(SOURCE_API, kind, namespace, name).unwrap_or(Value::Null);
        let condition = object["status"]["conditions"][0].clone();
        if object["status"]["observedGeneration"] == generation && condition["status"] == status {
            return condition;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name}: no Ready={status} for {generation}: {object}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_source_runs_follows_updates_survives_invalid_ones_and_goes_when_deleted() {
    let h = Harness::start_on(server().await, plan(), true).await;
    h.apply(database("team-a", "a1", "postgres", json!(3), "Running"));
    h.apply(database("team-b", "b1", "postgres", json!(5), "Running"));
    h.apply(source("team-a", "dbs", db_spec("replicas", "spec.replicas")));
    h.expect("team_a.db.replicas", &["name=a1,namespace=team-a 3"]).await;
    let condition = ready(&h, "MetricSource", Some("team-a"), "dbs", 1, "True").await;
    assert_eq!(condition["message"], "generation 1 runs; metrics: team_a.db.replicas");
    h.expect("test.db.replicas", &["name=a1,namespace=team-a 3", "name=b1,namespace=team-b 5"]).await;
    let status_writes =
        h.server.requests().iter().filter(|r| r.method == "PATCH" && r.path.ends_with("/dbs/status")).count();
    assert_eq!(status_writes, 1, "one status write for one change");

    // An update changes the series.
    h.apply(source("team-a", "dbs", db_spec("desired", "spec.replicas")));
    h.expect("team_a.db.desired", &["name=a1,namespace=team-a 3"]).await;
    h.expect("team_a.db.replicas", &[]).await;
    ready(&h, "MetricSource", Some("team-a"), "dbs", 2, "True").await;

    // An invalid update is reported with every error; the previous version keeps running.
    let mut invalid = db_spec("desired", "spec..replicas");
    invalid["metrics"].as_array_mut().unwrap().push(json!({"type": "gauge", "name": "x", "pth": "spec.x"}));
    h.apply(source("team-a", "dbs", invalid));
    let condition = ready(&h, "MetricSource", Some("team-a"), "dbs", 3, "False").await;
    assert_eq!(condition["reason"], "Invalid");
    let message = condition["message"].as_str().unwrap();
    let first = message.lines().next().unwrap();
    assert!(
        first.starts_with("generation 3 has 3 error(s) and is not applied; generation 2 keeps running"),
        "{message}"
    );
    assert!(message.contains("\nspec.metrics[1].pth: unknown field `pth`"), "{message}");
    assert!(message.contains("\nspec.metrics[0].path: "), "{message}");
    h.apply(database("team-a", "a2", "postgres", json!(7), "Running"));
    h.expect("team_a.db.desired", &["name=a1,namespace=team-a 3", "name=a2,namespace=team-a 7"]).await;

    // The platform team's cap: a third object holds no points.
    h.apply(database("team-a", "a3", "postgres", json!(9), "Running"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    h.expect("team_a.db.desired", &["name=a1,namespace=team-a 3", "name=a2,namespace=team-a 7"]).await;

    // Deleted: its series are gone, the config file's stay.
    h.server.delete(SOURCE_API, "MetricSource", Some("team-a"), "dbs").unwrap();
    h.expect("team_a.db.desired", &[]).await;
    h.expect(
        "test.db.replicas",
        &[
            "name=a1,namespace=team-a 3",
            "name=a2,namespace=team-a 7",
            "name=a3,namespace=team-a 9",
            "name=b1,namespace=team-b 5",
        ],
    )
    .await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_source_reads_its_own_namespace_only_and_names_never_collide() {
    let h = Harness::start_on(server().await, plan(), true).await;
    h.server.register_resource(ResourceSpec::new("example.com", "v1", "Widget", "widgets", false));
    h.apply(database("team-a", "a1", "postgres", json!(3), "Running"));
    h.apply(database("team-b", "b1", "postgres", json!(5), "Running"));

    let mut spy = db_spec("replicas", "spec.replicas");
    spy["namespaces"] = json!(["team-b"]);
    h.apply(source("team-a", "spy", spy));
    let condition = ready(&h, "MetricSource", Some("team-a"), "spy", 1, "False").await;
    let message = condition["message"].as_str().unwrap();
    assert!(
        message.contains("\nspec.namespaces[0]: a MetricSource reads only its own namespace \"team-a\""),
        "{message}"
    );
    assert!(message.contains("nothing runs"), "{message}");

    // A cluster-scoped resource would be objects of no namespace: refused once discovery says so.
    let mut cluster_wide = db_spec("size", "spec.size");
    cluster_wide["name"] = json!("widget");
    cluster_wide["gvr"] = json!({"group": "example.com", "version": "v1", "resource": "widgets"});
    h.apply(source("team-a", "widgets", cluster_wide));
    h.apply(json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}}));
    let condition = ready(&h, "MetricSource", Some("team-a"), "widgets", 1, "False").await;
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .contains("\nspec.gvr: example.com/v1 widgets is cluster-scoped"),
        "{condition}"
    );
    let message = condition["message"].as_str().unwrap();
    assert!(message.starts_with("generation 1 has 1 error(s) and is not applied; nothing runs"), "{message}");

    // Neither refused source exported anything, and no watch left the team's namespace.
    h.expect("team_a.db.replicas", &[]).await;
    h.expect("team_a.widget.size", &[]).await;
    let spied = h.server.requests().iter().any(|r| r.path.contains("/namespaces/team-b/databases"));
    assert!(!spied, "a MetricSource of team-a watched team-b");

    // The config file's names, then the older source's, win.
    let mut taken = db_spec("replicas", "spec.replicas");
    taken["metricsNamespace"] = json!("test");
    h.apply(json!({"apiVersion": SOURCE_API, "kind": "ClusterMetricSource", "metadata": {"name": "platform"}, "spec": taken}));
    let condition = ready(&h, "ClusterMetricSource", None, "platform", 1, "False").await;
    assert_eq!(condition["reason"], "Conflict");
    assert!(
        condition["message"]
            .as_str()
            .unwrap()
            .ends_with("metric \"test.db.replicas\" is already produced by the agent's config file"),
        "{condition}"
    );
    h.apply(source("team-b", "first", db_spec("replicas", "spec.replicas")));
    ready(&h, "MetricSource", Some("team-b"), "first", 1, "True").await;
    let mut same = db_spec("replicas", "spec.replicas");
    same["metricsNamespace"] = json!("team-b");
    h.apply(json!({"apiVersion": SOURCE_API, "kind": "ClusterMetricSource", "metadata": {"name": "second"}, "spec": same}));
    let condition = ready(&h, "ClusterMetricSource", None, "second", 1, "False").await;
    assert!(
        condition["message"].as_str().unwrap().contains("already produced by MetricSource/team-b/first"),
        "{condition}"
    );
    h.expect("team_b.db.replicas", &["name=b1,namespace=team-b 5"]).await;

    h.stop().await;
}

/// Many sources changing at once: each gets its status, written at most five times a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_writes_are_rate_limited() {
    let h = Harness::start_on(server().await, plan(), true).await;
    let names: Vec<String> = (0..6).map(|i| format!("s{i}")).collect();
    for name in &names {
        let mut spec = db_spec("replicas", "spec.replicas");
        spec["name"] = json!(format!("db-{name}"));
        h.apply(source("team-a", name, spec));
    }
    for name in &names {
        ready(&h, "MetricSource", Some("team-a"), name, 1, "True").await;
    }
    let writes: Vec<_> = h
        .server
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/status"))
        .map(|r| r.at)
        .collect();
    assert_eq!(writes.len(), names.len(), "one write per source");
    for pair in writes.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(150), "status writes {gap:?} apart");
    }
    h.stop().await;
}

/// The whole agent (`runtime::run`) with `metricSources` on in its config file and no
/// `resources`: the collector runs for the sources alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_runs_metric_sources_from_its_config() {
    let server = server().await;
    server.register_resource(databases());
    let receiver = OtlpReceiver::start().await;
    let agent =
        start_agent(&server, &receiver, "    leaderElection: false\n    metricSources: {enabled: true}\n");
    server.apply(database("team-a", "a1", "postgres", json!(4), "Running")).unwrap();
    server.apply(source("team-a", "dbs", db_spec("replicas", "spec.replicas"))).unwrap();
    receiver
        .wait_for(WAIT, "team_a.db.replicas", |_| {
            receiver
                .latest_metric("team_a.db.replicas")
                .is_some_and(|m| points(&m).iter().any(|p| p.value == 4.0))
        })
        .await;
    agent.stop.cancel();
    agent.task.await.unwrap().unwrap();
}
