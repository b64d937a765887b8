//! The whole agent on the fake API server with a kube-state-metrics document (from a file)
//! beside a native resource in one crds collector: the series reach the OTLP receiver and the
//! agent's `/metrics` under kube-state-metrics' names, labels and values; an object update
//! changes them; an edit of the document file is applied without restart; `/readyz` waits for
//! the document's resources like for native ones; a `*` kind is resolved through discovery.

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/exposition.rs"]
mod exposition;
#[path = "support/crds_harness.rs"]
mod harness;

use std::path::Path;

use harness::expect_points;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, ResourceSpec};
use kube_state_otel_testkit::otlp_receiver::OtlpReceiver;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const GVK: &str = "customresource_group=myteam.io,customresource_kind=Foo,customresource_version=v1";

const DOCUMENT: &str = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: myteam.io, kind: Foo, version: v1}
      labelsFromPath:
        name: [metadata, name]
        namespace: [metadata, namespace]
      metrics:
        - name: uptime
          help: Foo uptime
          each: {type: Gauge, gauge: {path: [status, uptime]}}
        - name: status_phase
          help: Foo status_phase
          each:
            type: StateSet
            stateSet: {labelName: phase, path: [status, phase], list: [Pending, Running]}
"#;

fn foo(uptime: f64, phase: &str) -> Value {
    json!({
        "apiVersion": "myteam.io/v1", "kind": "Foo",
        "metadata": {"name": "foo", "namespace": "ns"},
        "spec": {"replicas": 2},
        "status": {"uptime": uptime, "phase": phase}
    })
}

async fn get(url: &str) -> (u16, String) {
    kube_state_otel::telemetry::install_crypto_provider();
    let response = reqwest::get(url).await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_beside_a_native_resource_exports_kube_state_metrics_series() {
    let server = FakeApiServer::start().await;
    server.register_resource(ResourceSpec::new("myteam.io", "v1", "Foo", "foos", true));
    server.apply(foo(43.21, "Pending")).unwrap();
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    let document = dir.path().join("custom-resource-state.yaml");
    std::fs::write(&document, DOCUMENT).unwrap();
    let (health, metrics) = (kube_state_otel_testkit::free_port(), kube_state_otel_testkit::free_port());
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kubernetes: {{kubeconfig: {}}}\nexport:\n  interval: 200ms\n  otlp: {{endpoint: {}, protocol: grpc}}\n  \
             prometheus: {{enabled: true, listen: 127.0.0.1:{metrics}}}\nserver: {{listen: 127.0.0.1:{health}}}\n\
             leaderElection: {{enabled: false}}\ncollectors:\n  nodes: {{enabled: false}}\n  crds:\n    metricsNamespace: test\n    \
             kubeStateMetrics: {{configFile: {}}}\n    resources:\n      - name: foo\n        \
             gvr: {{group: myteam.io, version: v1, resource: foos}}\n        \
             metrics: [{{type: gauge, name: replicas, path: spec.replicas}}]\n",
            kubeconfig.display(),
            receiver.grpc_endpoint(),
            document.display()
        ),
    )
    .unwrap();
    let env = kube_state_otel::config::Env::from_pairs([("HOME", dir.path().to_str().unwrap())]);
    let plan = kube_state_otel::config::load_file(&config, &env).unwrap_or_else(|e| panic!("{e}"));
    let stop = CancellationToken::new();
    let agent = tokio::spawn(kube_state_otel::runtime::run_watching(config.clone(), plan, env, stop.clone()));

    let uptime = format!("{GVK},name=foo,namespace=ns 43.21");
    expect_points(&receiver, "kube_customresource_uptime", &[&uptime]).await;
    let pending = [
        format!("{GVK},name=foo,namespace=ns,phase=Pending 1"),
        format!("{GVK},name=foo,namespace=ns,phase=Running 0"),
    ];
    expect_points(&receiver, "kube_customresource_status_phase", &[&pending[0], &pending[1]]).await;
    expect_points(&receiver, "test.foo.replicas", &["name=foo,namespace=ns 2"]).await;
    // An OTLP gauge without a unit: no exporter adds a suffix to the name.
    let metric = receiver.latest_metric("kube_customresource_uptime").unwrap();
    assert_eq!((metric.unit.as_str(), metric.description.as_str()), ("", "Foo uptime"));
    assert!(matches!(metric.data, Some(Data::Gauge(_))), "{metric:?}");

    let (status, text) = get(&format!("http://127.0.0.1:{metrics}/metrics")).await;
    assert_eq!(status, 200, "{text}");
    let mut samples: Vec<String> = exposition::samples(&text)
        .into_iter()
        .filter(|s| s.name.starts_with("kube_customresource_"))
        .map(|mut s| {
            assert!(s.labels.remove("instance").is_some() && s.labels.remove("job").is_some(), "{s}");
            s.to_string()
        })
        .collect();
    samples.sort();
    let want = [
        r#"kube_customresource_status_phase{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",name="foo",namespace="ns",phase="Pending"} 1"#,
        r#"kube_customresource_status_phase{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",name="foo",namespace="ns",phase="Running"} 0"#,
        r#"kube_customresource_uptime{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",name="foo",namespace="ns"} 43.21"#,
    ];
    assert_eq!(samples, want, "{text}");
    assert!(text.contains("# TYPE kube_customresource_uptime gauge\n"), "{text}");
    let (status, body) = get(&format!("http://127.0.0.1:{health}/readyz")).await;
    assert_eq!(status, 200, "{body}");

    server.apply(foo(50.5, "Running")).unwrap();
    let uptime = format!("{GVK},name=foo,namespace=ns 50.5");
    expect_points(&receiver, "kube_customresource_uptime", &[&uptime]).await;
    let running = [
        format!("{GVK},name=foo,namespace=ns,phase=Pending 0"),
        format!("{GVK},name=foo,namespace=ns,phase=Running 1"),
    ];
    expect_points(&receiver, "kube_customresource_status_phase", &[&running[0], &running[1]]).await;

    // Editing the document file reloads it: the renamed family replaces the old one.
    replace_file(&document, &DOCUMENT.replace("- name: uptime", "- name: up_seconds"));
    expect_points(&receiver, "kube_customresource_up_seconds", &[&uptime]).await;
    expect_points(&receiver, "kube_customresource_uptime", &[]).await;
    expect_points(&receiver, "test.foo.replicas", &["name=foo,namespace=ns 2"]).await;

    stop.cancel();
    agent.await.unwrap().unwrap();
}

/// `kind: "*"` is resolved through discovery: every kind the group serves gets its series, with
/// its own `customresource_kind`; a kind of another group does not; a wildcard nothing matches
/// leaves the collector ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wildcard_kind_watches_every_kind_discovery_finds() {
    let server = FakeApiServer::start().await;
    for (group, kind, plural) in
        [("myteam.io", "Foo", "foos"), ("myteam.io", "Bar", "bars"), ("other.io", "Foo", "foos")]
    {
        server.register_resource(ResourceSpec::new(group, "v1", kind, plural, true));
        let object = json!({
            "apiVersion": format!("{group}/v1"), "kind": kind,
            "metadata": {"name": kind.to_lowercase(), "namespace": "ns"}
        });
        server.apply(object).unwrap();
    }
    let receiver = OtlpReceiver::start().await;
    let info_each =
        "{type: Info, info: {path: [metadata], labelsFromPath: {object: [name], namespace: [namespace]}}}";
    let crds = format!(
        "    leaderElection: false\n    kubeStateMetrics:\n      config:\n        spec:\n          resources:\n\
         \x20           - groupVersionKind: {{group: myteam.io, version: \"*\", kind: \"*\"}}\n\
         \x20             metrics: [{{name: myobject_info, each: {info_each}}}]\n\
         \x20           - groupVersionKind: {{group: absent.io, version: \"*\", kind: \"*\"}}\n\
         \x20             metrics: [{{name: absent_info, each: {info_each}}}]\n"
    );
    let agent = harness::start_agent(&server, &receiver, &crds);
    let info = |kind: &str, name: &str| {
        format!("customresource_group=myteam.io,customresource_kind={kind},customresource_version=v1,namespace=ns,object={name} 1")
    };
    expect_points(
        &receiver,
        "kube_customresource_myobject_info",
        &[&info("Bar", "bar"), &info("Foo", "foo")],
    )
    .await;
    agent.stop.cancel();
    agent.task.await.unwrap().unwrap();
}
