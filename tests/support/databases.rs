//! A fake API server serving `databases.example.com/v1` with one object, `prod/a` with
//! `spec.replicas: 3`, for tests that run the agent's custom-resource collector.

use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, ResourceSpec};
use serde_json::json;

pub async fn cluster_with_one_database() -> FakeApiServer {
    let server = FakeApiServer::start().await;
    server.register_resource(ResourceSpec::new("example.com", "v1", "Database", "databases", true));
    server
        .apply(json!({
            "apiVersion": "example.com/v1", "kind": "Database",
            "metadata": {"name": "a", "namespace": "prod"}, "spec": {"replicas": 3}
        }))
        .unwrap();
    server
}
