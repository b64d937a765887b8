//! `export.prometheus`: the whole agent (`runtime::run`) with the custom-resource collector
//! against the fake API server serves `GET /metrics`; real Prometheus and VictoriaMetrics scrape
//! it; it carries the same series as the OTLP export; it negotiates OpenMetrics; it is off by
//! default; it shares the health server's address; a busy address is a startup error.

#[path = "support/scrapers.rs"]
mod scrapers;

use std::collections::BTreeMap;
use std::time::Duration;

use kube_state_otel::exposition;
use kube_state_otel::runtime::RunError;
use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, ResourceSpec};
use kube_state_otel_testkit::otlp_receiver::OtlpReceiver;
use scrapers::{free_port, QueriedSample, Scraper};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// Generous: the agent, the scrapers and their first scrapes start on a busy machine.
const DEADLINE: Duration = Duration::from_secs(60);
const POD: &str = "kso-scrape-0";
const CLUSTER: &str = "scrape-test";

/// The fake API server with two databases, the second in another namespace.
async fn cluster() -> FakeApiServer {
    let server = FakeApiServer::start().await;
    server.register_resource(ResourceSpec::new("example.com", "v1", "Database", "databases", true));
    for (ns, name, engine, storage) in [("prod", "a", "postgres", "5Gi"), ("dev", "b", "mysql", "1Gi")] {
        server
            .apply(json!({"apiVersion": "example.com/v1", "kind": "Database",
                "metadata": {"name": name, "namespace": ns},
                "spec": {"engine": engine, "storage": storage}}))
            .unwrap();
    }
    server
}

/// The agent running in this process.
struct Agent {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
    health_port: u16,
    _dir: tempfile::TempDir,
}

impl Agent {
    /// Starts the agent against `server` with `export` (YAML lines indented under `export:`)
    /// and the health server on `health_port`.
    fn start(server: &FakeApiServer, export: &str, health_port: u16) -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
        let yaml = format!(
            r#"cluster: {{name: {CLUSTER}}}
kubernetes: {{kubeconfig: {kubeconfig}}}
export:
  interval: 300ms
{export}
server: {{listen: 127.0.0.1:{health_port}}}
leaderElection: {{enabled: false}}
collectors:
  nodes: {{enabled: false}}
  crds:
    enabled: true
    leaderElection: false
    metricsNamespace: test
    resources:
      - name: db
        gvr: {{group: example.com, version: v1, resource: databases}}
        commonLabels: {{name: metadata.name, namespace: metadata.namespace}}
        metrics:
          - {{type: gauge, name: storage, unit: By, help: Requested storage, path: spec.storage}}
          - {{type: info, name: info, labels: {{engine: spec.engine}}}}
"#,
            kubeconfig = kubeconfig.display()
        );
        let env = kube_state_otel::config::Env::from_pairs([
            ("HOME", dir.path().to_str().unwrap()),
            ("POD_NAME", POD),
        ]);
        let config = kube_state_otel::config::load_str(&yaml, &env).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let stop = CancellationToken::new();
        let task = tokio::spawn(kube_state_otel::runtime::run(config, env, stop.clone()));
        Agent { stop, task, health_port, _dir: dir }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// `export:` lines enabling the endpoint on `port`, with OTLP to `otlp` or disabled.
fn export_lines(port: u16, otlp: Option<&OtlpReceiver>) -> String {
    let otlp = match otlp {
        Some(receiver) => format!("  otlp: {{endpoint: {}, protocol: grpc}}", receiver.grpc_endpoint()),
        None => "  otlp: {enabled: false}".into(),
    };
    format!("{otlp}\n  prometheus: {{enabled: true, listen: 127.0.0.1:{port}}}")
}

/// `GET url` with `accept`: status, content type and body; `None` while nothing listens.
async fn get(url: &str, accept: &str) -> Option<(u16, String, String)> {
    kube_state_otel::telemetry::install_crypto_provider();
    let response = reqwest::Client::new().get(url).header("accept", accept).send().await.ok()?;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    Some((status, content_type, response.text().await.ok()?))
}

/// Scrapes `http://127.0.0.1:{port}/metrics` until its text has both databases' storage.
async fn scrape_when_ready(port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let answer = get(&url, "text/plain").await;
        if let Some((200, _, text)) = &answer {
            if text.matches("test_db_storage_bytes{").count() == 2 {
                return text.clone();
            }
        }
        assert!(tokio::time::Instant::now() < until, "/metrics never showed both databases: {answer:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The samples of an exposition as `name{labels}` → value (comments and `# EOF` left out).
fn samples(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
            (series.to_owned(), value.to_owned())
        })
        .collect()
}

fn sample(name: &str, labels: &[(&str, &str)], value: &str) -> QueriedSample {
    let mut map: BTreeMap<String, String> =
        labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    map.insert("__name__".into(), name.into());
    (map, value.into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_victoria_metrics_scrape_the_same_series_with_otlp_disabled() {
    let server = cluster().await;
    let port = free_port();
    let agent = Agent::start(&server, &export_lines(port, None), free_port());
    scrape_when_ready(port).await;

    let target = format!("127.0.0.1:{port}");
    let scrapers = [Scraper::prometheus(&target), Scraper::victoria_metrics(&target)];
    let identity = [("job", "kube-state-otel"), ("instance", POD)];
    let with_identity = |labels: &[(&'static str, &'static str)]| [&identity[..], labels].concat();
    let uid = server.kube_system_uid().to_owned();
    for scraper in &scrapers {
        scraper
            .expect(
                "test_db_storage_bytes",
                vec![
                    sample(
                        "test_db_storage_bytes",
                        &with_identity(&[("name", "a"), ("namespace", "prod")]),
                        "5368709120",
                    ),
                    sample(
                        "test_db_storage_bytes",
                        &with_identity(&[("name", "b"), ("namespace", "dev")]),
                        "1073741824",
                    ),
                ],
                DEADLINE,
            )
            .await;
        scraper
            .expect(
                "test_db_info",
                vec![
                    sample(
                        "test_db_info",
                        &with_identity(&[("name", "a"), ("namespace", "prod"), ("engine", "postgres")]),
                        "1",
                    ),
                    sample(
                        "test_db_info",
                        &with_identity(&[("name", "b"), ("namespace", "dev"), ("engine", "mysql")]),
                        "1",
                    ),
                ],
                DEADLINE,
            )
            .await;
        let target_info = [
            ("k8s_cluster_name", CLUSTER),
            ("k8s_cluster_uid", uid.as_str()),
            ("service_version", env!("CARGO_PKG_VERSION")),
            ("telemetry_sdk_language", "rust"),
            ("telemetry_sdk_name", "opentelemetry"),
        ];
        let mut labels = identity.to_vec();
        labels.extend(target_info);
        scraper.expect("target_info", vec![sample("target_info", &labels, "1")], DEADLINE).await;
    }

    // A change in the cluster reaches the scrapers: every scrape collects afresh.
    server
        .apply(json!({"apiVersion": "example.com/v1", "kind": "Database",
            "metadata": {"name": "a", "namespace": "prod"}, "spec": {"engine": "postgres", "storage": "6Gi"}}))
        .unwrap();
    for scraper in &scrapers {
        let query = "test_db_storage_bytes{name=\"a\"}";
        let want = sample(
            "test_db_storage_bytes",
            &with_identity(&[("name", "a"), ("namespace", "prod")]),
            "6442450944",
        );
        scraper.expect(query, vec![want], DEADLINE).await;
    }
    drop(scrapers);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_carry_the_series_of_the_otlp_export() {
    let server = cluster().await;
    let receiver = OtlpReceiver::start().await;
    let port = free_port();
    let agent = Agent::start(&server, &export_lines(port, Some(&receiver)), free_port());
    scrape_when_ready(port).await;

    // Series can appear between the two collections (a self-metric's first error, say), so
    // compare pairs of a scrape and the export after it until they agree.
    let until = tokio::time::Instant::now() + DEADLINE;
    loop {
        let scraped = samples(&scrape_when_ready(port).await);
        let after = receiver.received().len() + 1;
        receiver.wait_for(DEADLINE, "the next export", |received| received.len() >= after).await;
        let exported = samples(&exposition::to_prometheus_text(&receiver.received().last().unwrap().request));
        let same_series = scraped.keys().eq(exported.keys());
        // Values of the objects' series must match; self-metrics move between collections.
        let objects = |m: &BTreeMap<String, String>| {
            m.iter()
                .filter(|(k, _)| k.starts_with("test_db_") || k.starts_with("target_info{"))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Vec<_>>()
        };
        if same_series && objects(&scraped) == objects(&exported) {
            assert_eq!(objects(&scraped).len(), 5, "{scraped:#?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "scraped and exported series differ\nscraped: {scraped:#?}\nexported: {exported:#?}"
        );
    }
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_selects_openmetrics_or_prometheus_text() {
    let server = cluster().await;
    let port = free_port();
    let agent = Agent::start(&server, &export_lines(port, None), free_port());
    let text = scrape_when_ready(port).await;
    let url = format!("http://127.0.0.1:{port}/metrics");

    let (status, content_type, body) =
        get(&url, "application/openmetrics-text;version=1.0.0,text/plain;q=0.5").await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert!(body.contains("\n# TYPE test_db_storage_bytes gauge\n"), "{body}");

    assert!(text.contains("\n# TYPE test_db_storage_bytes gauge\n"), "{text}");
    assert!(!text.contains("# EOF"), "{text}");
    let (status, content_type, _) = get(&url, "*/*").await.unwrap();
    assert_eq!((status, content_type.as_str()), (200, "text/plain; version=0.0.4; charset=utf-8"));

    let (status, _, _) = get(&format!("http://127.0.0.1:{port}/other"), "*/*").await.unwrap();
    assert_eq!(status, 404);
    let posted = reqwest::Client::new().post(&url).send().await.unwrap();
    assert_eq!(posted.status().as_u16(), 405);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_endpoint_is_off_unless_enabled() {
    let server = cluster().await;
    let receiver = OtlpReceiver::start().await;
    let port = free_port();
    let export = format!(
        "  otlp: {{endpoint: {}, protocol: grpc}}\n  prometheus: {{listen: 127.0.0.1:{port}}}",
        receiver.grpc_endpoint()
    );
    let agent = Agent::start(&server, &export, free_port());
    // Once the collector's metrics are exported the agent is fully up.
    receiver.wait_for_metric("test.db.storage", DEADLINE).await;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "something listens on {port}");
    let health = format!("http://127.0.0.1:{}/metrics", agent.health_port);
    let (status, _, _) = get(&health, "*/*").await.expect("health server answers");
    assert_eq!(status, 404);
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_server_serves_metrics_when_both_share_the_address() {
    let server = cluster().await;
    let port = free_port();
    let agent = Agent::start(&server, &export_lines(port, None), port);
    let text = scrape_when_ready(port).await;
    assert!(text.contains("target_info{"), "{text}");
    let (status, _, body) = get(&format!("http://127.0.0.1:{port}/healthz"), "*/*").await.unwrap();
    assert_eq!(status, 200, "{body}");
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_address_is_a_startup_error_naming_it() {
    let server = cluster().await;
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let agent = Agent::start(&server, &export_lines(port, None), free_port());
    let error = agent.task.await.unwrap().expect_err("the agent must not start");
    let message = error.to_string();
    assert!(message.starts_with(&format!("cannot listen on 127.0.0.1:{port}: ")), "{message}");
    drop(busy);
}
