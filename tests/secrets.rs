//! Secrets stay secret: the OTLP headers (from the file and from `OTEL_EXPORTER_OTLP_HEADERS`)
//! and the contents of TLS key files never appear in the agent's log (at debug level, with
//! exports failing and etcd unreachable), in `check`'s output, in `/readyz` or in the spans it
//! exports (which reach the receiver while its metrics are refused).

#[path = "support/agent_process.rs"]
mod agent_process;

use std::process::Command;
use std::time::Duration;

use agent_process::{free_port, AgentProcess};
use kube_state_otel_testkit::otlp_receiver::OtlpReceiver;

const FILE_HEADER: &str = "Bearer file-secret-4f1c9a";
const ENV_HEADER: &str = "env-secret-8d2e7b";
const KEY_CONTENT: &str = "key-secret-3a6b5c";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_key_files_appear_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client.key");
    std::fs::write(&key, format!("-----BEGIN PRIVATE KEY-----\n{KEY_CONTENT}\n-----END PRIVATE KEY-----\n"))
        .unwrap();
    let cert = dir.path().join("client.crt");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot-a-cert\n-----END CERTIFICATE-----\n").unwrap();
    let (health, closed) = (free_port(), free_port());
    let receiver = OtlpReceiver::start().await;
    receiver.set_refuse(true);
    let config = format!(
        "export:\n  interval: 200ms\n  otlp:\n    endpoint: {endpoint}\n    traces: true\n    headers: {{authorization: \"{FILE_HEADER}\"}}\n\
server:\n  listen: 127.0.0.1:{health}\nlogging: {{level: debug, format: json}}\nleaderElection: {{enabled: false}}\n\
collectors:\n  nodes: {{enabled: false}}\n  etcd:\n    interval: 200ms\n    timeout: 100ms\n    clusters:\n      - name: main\n        endpoints: [\"https://127.0.0.1:{closed}\"]\n        tls: {{caFile: {cert}, certFile: {cert}, keyFile: {key}}}\n",
        cert = cert.display(),
        key = key.display(),
        endpoint = receiver.grpc_endpoint(),
    );
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, &config).unwrap();
    let env = [("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={ENV_HEADER}"))];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();

    let check = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .args(["check", "--config"])
        .arg(&path)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let check_text =
        format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert!(check_text.contains("config OK"), "{check_text}");

    let log = dir.path().join("agent.log");
    let mut agent = AgentProcess::spawn_logging_to(&path, dir.path(), &env, &log);
    let readyz = format!("http://127.0.0.1:{health}/readyz");
    kube_state_otel::telemetry::install_crypto_provider();
    let mut body = String::new();
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Ok(resp) = reqwest::get(&readyz).await {
            body = resp.text().await.unwrap_or_default();
            if body.contains("main/") {
                break;
            }
        }
    }
    // A few failed exports and polls, all logged at debug level.
    tokio::time::sleep(Duration::from_secs(1)).await;
    agent.signal("TERM");
    assert!(agent.wait());
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("export failed"), "the exports failed and said so:\n{log_text}");
    assert!(body.contains("etcd"), "/readyz reports the etcd collector: {body}");

    let spans = format!("{:?}", receiver.spans());
    for span in ["export", "etcd.poll"] {
        assert!(spans.contains(&format!("name: \"{span}\"")), "the agent exported {span} spans: {spans}");
    }

    for (place, text) in [("check", &check_text), ("log", &log_text), ("/readyz", &body), ("spans", &spans)] {
        for secret in ["file-secret-4f1c9a", ENV_HEADER, KEY_CONTENT] {
            assert!(!text.contains(secret), "{secret} appears in {place}:\n{text}");
        }
    }
}
