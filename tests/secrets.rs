//! Secrets stay secret: the OTLP headers (from the file and from `OTEL_EXPORTER_OTLP_HEADERS`),
//! the contents of TLS key files, an etcd password (from a file) and the `/metrics` bearer token
//! (from the environment) never appear in the agent's log (at debug level, with exports failing,
//! etcd unreachable and scrapes with a wrong token), in `check`'s output, in `/readyz` or in the
//! spans it exports (which reach the receiver while its metrics are refused).

#[path = "support/agent_process.rs"]
mod agent_process;

use std::process::Command;
use std::time::Duration;

use agent_process::{free_port, AgentProcess};
use kube_state_otel_testkit::otlp_receiver::OtlpReceiver;

const FILE_HEADER: &str = "Bearer file-secret-4f1c9a";
const ENV_HEADER: &str = "env-secret-8d2e7b";
const KEY_CONTENT: &str = "key-secret-3a6b5c";
const ETCD_PASSWORD: &str = "etcd-pw-secret-61d0";
const METRICS_TOKEN: &str = "metrics-token-secret-2e8f";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_key_files_appear_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("client.key");
    std::fs::write(&key, format!("-----BEGIN PRIVATE KEY-----\n{KEY_CONTENT}\n-----END PRIVATE KEY-----\n"))
        .unwrap();
    let cert = dir.path().join("client.crt");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\nnot-a-cert\n-----END CERTIFICATE-----\n").unwrap();
    let password = dir.path().join("etcd-password");
    std::fs::write(&password, format!("{ETCD_PASSWORD}\n")).unwrap();
    let (health, closed, metrics) = (free_port(), free_port(), free_port());
    let receiver = OtlpReceiver::start().await;
    receiver.set_refuse(true);
    let config = format!(
        "export:\n  interval: 200ms\n  otlp:\n    endpoint: {endpoint}\n    traces: true\n    headers: {{authorization: \"{FILE_HEADER}\"}}\n  prometheus: {{enabled: true, listen: 127.0.0.1:{metrics}, bearerToken: {{env: KSO_METRICS_TOKEN}}}}\n\
server:\n  listen: 127.0.0.1:{health}\nlogging: {{level: debug, format: json}}\nleaderElection: {{enabled: false}}\n\
collectors:\n  nodes: {{enabled: false}}\n  etcd:\n    interval: 200ms\n    timeout: 100ms\n    clusters:\n      - name: main\n        endpoints: [\"https://127.0.0.1:{closed}\"]\n        tls: {{caFile: {cert}, certFile: {cert}, keyFile: {key}}}\n      - name: authed\n        endpoints: [\"http://127.0.0.1:{closed}\"]\n        auth: {{username: root, password: {{file: {password}}}}}\n",
        cert = cert.display(),
        key = key.display(),
        endpoint = receiver.grpc_endpoint(),
        password = password.display()
    );
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, &config).unwrap();
    let env = [
        ("OTEL_EXPORTER_OTLP_HEADERS", format!("x-api-key={ENV_HEADER}")),
        ("KSO_METRICS_TOKEN", METRICS_TOKEN.to_owned()),
    ];
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
            if body.contains("main/") && body.contains("authed/") {
                break;
            }
        }
    }
    // Scrapes with a wrong token and with the right one.
    let url = format!("http://127.0.0.1:{metrics}/metrics");
    let client = reqwest::Client::new();
    let wrong = client.get(&url).bearer_auth("not-the-token").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let right = client.get(&url).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 200);
    // A few failed exports and polls, all logged at debug level.
    tokio::time::sleep(Duration::from_secs(1)).await;
    agent.signal("TERM");
    assert!(agent.wait());
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(log_text.contains("export failed"), "the exports failed and said so:\n{log_text}");
    assert!(body.contains("etcd"), "/readyz reports the etcd collector: {body}");
    assert!(body.contains("authed/"), "/readyz reports the cluster with auth: {body}");

    let spans = format!("{:?}", receiver.spans());
    for span in ["export", "etcd.poll"] {
        assert!(spans.contains(&format!("name: \"{span}\"")), "the agent exported {span} spans: {spans}");
    }

    for (place, text) in [("check", &check_text), ("log", &log_text), ("/readyz", &body), ("spans", &spans)] {
        for secret in ["file-secret-4f1c9a", ENV_HEADER, KEY_CONTENT, ETCD_PASSWORD, METRICS_TOKEN] {
            assert!(!text.contains(secret), "{secret} appears in {place}:\n{text}");
        }
    }
}
