//! `kube-state-otel run` as a process: exports its resource and self-metrics to the OTLP test
//! receiver over each protocol, serves health endpoints, and exits promptly on SIGTERM after a
//! last export.

#[path = "support/agent_process.rs"]
mod agent_process;

use std::process::Command;
use std::time::{Duration, Instant};

use agent_process::{free_port, AgentProcess};
use kube_state_otel_testkit::otlp_receiver::{value_where, OtlpReceiver};

/// Writes `config` to a new temporary home and starts the agent on it.
fn spawn_agent(config: &str, extra_env: &[(&str, &str)]) -> (AgentProcess, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    (AgentProcess::spawn(&path, dir.path(), extra_env), dir)
}

async fn get(url: &str) -> Option<(u16, serde_json::Value)> {
    kube_state_otel::telemetry::install_crypto_provider();
    let resp = reqwest::get(url).await.ok()?;
    let status = resp.status().as_u16();
    let body = resp.text().await.ok()?;
    Some((status, serde_json::from_str(&body).ok()?))
}

async fn run_against(protocol: &str, endpoint: String, receiver: &OtlpReceiver) {
    let health_port = free_port();
    let config = format!(
        "cluster:\n  name: e2e\nexport:\n  interval: 300ms\n  otlp:\n    endpoint: {endpoint}\n    protocol: {protocol}\n    headers: {{x-tenant: e2e}}\n  resource:\n    deployment.environment.name: test\nserver:\n  listen: 127.0.0.1:{health_port}\nlogging: {{level: info, format: text}}\ncollectors:\n  nodes: {{enabled: false}}\n"
    );
    let (mut agent, _dir) =
        spawn_agent(&config, &[("POD_NAME", "kso-e2e-0"), ("OTEL_RESOURCE_ATTRIBUTES", "team=sre")]);

    let m = receiver.wait_for_metric("kube_state_otel.leader", Duration::from_secs(20)).await;
    assert_eq!(value_where(&m, &[]), Some(1.0));
    let resource = receiver.latest_resource();
    for want in [
        ("service.name", "kube-state-otel"),
        ("service.instance.id", "kso-e2e-0"),
        ("service.version", env!("CARGO_PKG_VERSION")),
        ("k8s.cluster.name", "e2e"),
        ("deployment.environment.name", "test"),
        ("team", "sre"),
    ] {
        assert!(
            resource.contains(&(want.0.to_owned(), want.1.to_owned())),
            "missing {want:?} in {resource:?}"
        );
    }
    // The second export reports the points the first one delivered.
    receiver
        .wait_for(Duration::from_secs(20), "export.points > 0", |_| {
            receiver
                .latest_metric("kube_state_otel.export.points")
                .and_then(|m| value_where(&m, &[]))
                .unwrap_or(0.0)
                > 0.0
        })
        .await;
    assert!(receiver.received()[0].headers.contains(&("x-tenant".into(), "e2e".into())));

    let (status, body) =
        get(&format!("http://127.0.0.1:{health_port}/healthz")).await.expect("healthz answers");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ok");
    let (status, body) =
        get(&format!("http://127.0.0.1:{health_port}/readyz")).await.expect("readyz answers");
    assert_eq!(status, 200, "{body}");

    let before = receiver.received().len();
    let stopping = Instant::now();
    agent.signal("TERM");
    let success = loop {
        if let Some(success) = agent.try_wait() {
            break success;
        }
        assert!(stopping.elapsed() < Duration::from_secs(10), "agent still running 10s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(success, "the agent exited with an error after SIGTERM");
    assert!(receiver.received().len() > before, "a last export on shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exports_resource_and_self_metrics_over_grpc() {
    let receiver = OtlpReceiver::start().await;
    run_against("grpc", receiver.grpc_endpoint(), &receiver).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_exports_resource_and_self_metrics_over_http_protobuf() {
    let receiver = OtlpReceiver::start().await;
    run_against("http/protobuf", receiver.http_endpoint(), &receiver).await;
}

#[test]
fn run_without_a_cluster_fails_when_a_collector_needs_one() {
    // The nodes collector is on by default and needs the Kubernetes API; there is none here.
    let config =
        format!("server:\n  listen: 127.0.0.1:{}\nlogging: {{level: info, format: text}}\n", free_port());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .args(["run", "--config"])
        .arg(&path)
        .env("KUBECONFIG", dir.path().join("no-such-kubeconfig"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("collectors nodes need the Kubernetes API"), "{stderr}");
}

#[test]
fn check_reports_every_error_with_file_and_path_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "export:\n  intervl: 30s\n  otlp:\n    protocol: udp\nserver:\n  listen: nope\n")
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = path.display().to_string();
    assert!(err.contains(&format!("{file}: export.intervl (line 2, column 3): unknown field")), "{err}");
    assert!(err.contains(&format!("{file}: export.otlp.protocol (line 4, column 5)")), "{err}");
    assert!(err.contains(&format!("{file}: server.listen (line 6, column 3)")), "{err}");
    assert!(err.contains("3 error(s)"), "{err}");
}

#[test]
fn check_accepts_the_shipped_example_and_summarizes_it() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/config/kube-state-otel.yaml");
    let out = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .args(["check", "--config", example])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}{}", stdout, String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("config OK"), "{stdout}");
}
