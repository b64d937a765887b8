//! Odd objects never stop their resource: the whole agent, through its own Kubernetes client,
//! against the fake API server holding an object nested 300 levels deep (beyond serde_json's
//! recursion limit) and one of 5 MB beside an ordinary one. Every object is listed and exported,
//! and the watch goes on, for the deep object's own changes too.

use std::time::Duration;

use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use kube_state_otel_testkit::otlp_receiver::OtlpReceiver;
use serde_json::{json, Value};

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{database, databases, replicas, start_agent, WAIT};

fn nested(levels: usize) -> Value {
    (0..levels).fold(json!({"leaf": 1}), |inner, _| json!({"n": inner}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_too_deep_or_huge_object_is_exported_with_the_others() {
    let server = FakeApiServer::start().await;
    server.register_resource(databases());
    server.apply(database("prod", "a", "postgres", json!(1), "Running")).unwrap();
    let mut deep = database("prod", "deep", "postgres", json!(2), "Running");
    deep["spec"]["nested"] = nested(300);
    server.apply(deep).unwrap();
    let mut big = database("prod", "big", "postgres", json!(3), "Running");
    big["spec"]["blob"] = Value::String("x".repeat(5 * 1024 * 1024));
    server.apply(big).unwrap();

    let receiver = OtlpReceiver::start().await;
    let crds = "    metricsNamespace: test\n    resources:\n      - name: db\n        gvr: {group: example.com, version: v1, resource: databases}\n        metrics: [{type: gauge, name: replicas, path: spec.replicas}]\n";
    let agent = start_agent(&server, &receiver, crds);

    let listed = vec![("a".to_owned(), 1.0), ("big".to_owned(), 3.0), ("deep".to_owned(), 2.0)];
    receiver.wait_for(WAIT, "every listed object", |_| replicas(&receiver) == listed).await;
    // The watch goes on for the others after the deep object was listed.
    server.apply(database("prod", "a", "postgres", json!(7), "Running")).unwrap();
    let watched = vec![("a".to_owned(), 7.0), ("big".to_owned(), 3.0), ("deep".to_owned(), 2.0)];
    receiver.wait_for(WAIT, "the watched change", |_| replicas(&receiver) == watched).await;
    let mut deep = database("prod", "deep", "postgres", json!(9), "Running");
    deep["spec"]["nested"] = nested(300);
    server.apply(deep).unwrap();
    let deep_changed = vec![("a".to_owned(), 7.0), ("big".to_owned(), 3.0), ("deep".to_owned(), 9.0)];
    receiver.wait_for(WAIT, "the deep object's change", |_| replicas(&receiver) == deep_changed).await;
    agent.stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), agent.task).await.unwrap().unwrap().unwrap();
}
