//! No export carries half a list: the custom-resource collector against a fake API server whose
//! list pages arrive slowly, exporting to the OTLP test receiver.

use std::time::Duration;

use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, FakeApiServerOptions};
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, Received};
use serde_json::json;

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{config, database, databases, Harness};

/// A resource's series reach an export only once its first list is complete: while a list of
/// three slow pages arrives, exports leave the resource out rather than count a fraction of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_export_carries_a_partly_listed_resource() {
    let options = FakeApiServerOptions { list_page_delay: Duration::from_millis(1500), ..Default::default() };
    let server = FakeApiServer::start_with(options).await;
    server.register_resource(databases());
    let objects = 1200;
    for i in 0..objects {
        server.apply(database("prod", &format!("db-{i:04}"), "postgres", json!(1), "Running")).unwrap();
    }
    let h = Harness::start_on(server, config(""), true).await;
    h.expect("test.db.by_engine", &[&format!("value=postgres {objects}")]).await;
    let count_of = |r: &Received| {
        find_metric(&r.request, "test.db.by_engine").map(|m| points(m).iter().map(|p| p.value).sum::<f64>())
    };
    let seen: Vec<Option<f64>> = h.receiver.received().iter().map(count_of).collect();
    assert!(seen.iter().all(|c| c.is_none() || *c == Some(objects as f64)), "partial counts: {seen:?}");
    assert!(seen.iter().any(Option::is_none), "exports during the list leave the resource out: {seen:?}");
    h.stop().await;
}
