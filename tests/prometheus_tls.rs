//! `/metrics` over HTTPS with a bearer token (`export.prometheus.tls`, `.bearerToken`): real
//! Prometheus scrapes it with the token and the CA (a job with a wrong token is refused), a
//! scrape without or with a wrong token gets 401 while `/healthz` stays open, and a certificate
//! replaced on disk is served without a restart.

#[path = "support/certificates.rs"]
mod certificates;
#[path = "support/scrapers.rs"]
mod scrapers;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use certificates::Certificates;
use scrapers::{free_port, Scraper};
use tokio_util::sync::CancellationToken;

const DEADLINE: Duration = Duration::from_secs(60);
const TOKEN: &str = "scrape-token-9b7d1f";

/// The agent in this process, with no collector, serving `/metrics` on `metrics_port` with the
/// certificate files in `dir` (`tls.crt`, `tls.key`) and the token in `dir/token`.
struct Agent {
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), kube_state_otel::runtime::RunError>>,
}

impl Agent {
    fn start(dir: &Path, metrics_port: u16, health_port: u16) -> Agent {
        let yaml = format!(
            "export:\n  interval: 300ms\n  otlp: {{enabled: false}}\n  prometheus:\n    enabled: true\n    listen: 127.0.0.1:{metrics_port}\n    tls: {{certFile: {d}/tls.crt, keyFile: {d}/tls.key}}\n    bearerToken: {{file: {d}/token}}\n\
server: {{listen: 127.0.0.1:{health_port}}}\nleaderElection: {{enabled: false}}\ncollectors:\n  nodes: {{enabled: false}}\n",
            d = dir.display()
        );
        let env = kube_state_otel::config::Env::from_pairs([("HOME", dir.to_str().unwrap())]);
        let config = kube_state_otel::config::load_str(&yaml, &env).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        let stop = CancellationToken::new();
        let task = tokio::spawn(kube_state_otel::runtime::run(config, env, stop.clone()));
        Agent { stop, task }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.task.await.unwrap().unwrap();
    }
}

/// Copies the server certificate and key of `certs` to `dir/tls.crt` and `dir/tls.key`.
fn install(certs: &Certificates, dir: &Path) {
    // The key first: a reader between the two writes sees a mismatched pair and keeps the old one.
    std::fs::copy(certs.path("server.key"), dir.join("tls.key")).unwrap();
    std::fs::copy(certs.path("server.crt"), dir.join("tls.crt")).unwrap();
}

/// A client trusting only the CA of `certs`.
fn client(certs: &Certificates) -> reqwest::Client {
    kube_state_otel::telemetry::install_crypto_provider();
    let ca = reqwest::Certificate::from_pem(&std::fs::read(certs.path("ca.crt")).unwrap()).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).timeout(Duration::from_secs(5)).build().unwrap()
}

/// The status of `GET url` with `token`, or the error text.
async fn status(client: &reqwest::Client, url: &str, token: Option<&str>) -> Result<u16, String> {
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    match request.send().await {
        Ok(response) => Ok(response.status().as_u16()),
        Err(e) => Err(format!("{e:?}")),
    }
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let until = tokio::time::Instant::now() + DEADLINE;
    while !check().await {
        assert!(tokio::time::Instant::now() < until, "{what}: not within {DEADLINE:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_over_tls_with_the_token_and_a_wrong_token_is_refused() {
    let certs = Certificates::generate();
    let dir = tempfile::tempdir().unwrap();
    install(&certs, dir.path());
    std::fs::write(dir.path().join("token"), format!("{TOKEN}\n")).unwrap();
    std::fs::write(dir.path().join("wrong-token"), "not-the-token\n").unwrap();
    let (metrics_port, health_port) = (free_port(), free_port());
    let agent = Agent::start(dir.path(), metrics_port, health_port);

    let job = |name: &str, token_file: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    honor_labels: true\n    tls_config: {{ca_file: {ca}, server_name: localhost}}\n    authorization: {{type: Bearer, credentials_file: {d}/{token_file}}}\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n",
            ca = certs.path("ca.crt").display(),
            d = dir.path().display()
        )
    };
    let prometheus =
        Scraper::prometheus_jobs(&(job("kso-tls", "token") + &job("kso-wrong-token", "wrong-token")));
    let target = format!("127.0.0.1:{metrics_port}");
    let up = |job: &str, value: &str| {
        let labels: BTreeMap<String, String> =
            [("__name__", "up"), ("instance", target.as_str()), ("job", job)]
                .map(|(k, v)| (k.into(), v.into()))
                .into();
        vec![(labels, value.to_owned())]
    };
    prometheus.expect("up{job=\"kso-tls\"}", up("kso-tls", "1"), DEADLINE).await;
    prometheus.expect("up{job=\"kso-wrong-token\"}", up("kso-wrong-token", "0"), DEADLINE).await;
    // The agent's own series arrived through the TLS scrape.
    prometheus
        .expect("sum(kube_state_otel_leader_ratio)", vec![(BTreeMap::new(), "1".to_owned())], DEADLINE)
        .await;
    agent.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_without_the_token_get_401_and_a_new_certificate_is_served_without_restart() {
    let (first, second) = (Certificates::generate(), Certificates::generate());
    let dir = tempfile::tempdir().unwrap();
    install(&first, dir.path());
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let (metrics_port, health_port) = (free_port(), free_port());
    let agent = Agent::start(dir.path(), metrics_port, health_port);
    let url = format!("https://localhost:{metrics_port}/metrics");
    let (trusts_first, trusts_second) = (client(&first), client(&second));

    wait_for("the endpoint answers", async || status(&trusts_first, &url, Some(TOKEN)).await == Ok(200))
        .await;
    assert_eq!(status(&trusts_first, &url, None).await, Ok(401));
    assert_eq!(status(&trusts_first, &url, Some("wrong")).await, Ok(401));
    assert_eq!(status(&trusts_first, &url, Some(&format!("{TOKEN}x"))).await, Ok(401));
    let plain = reqwest::Client::new();
    assert!(
        status(&plain, &format!("http://127.0.0.1:{metrics_port}/metrics"), Some(TOKEN)).await != Ok(200)
    );
    let healthz = format!("http://127.0.0.1:{health_port}/healthz");
    assert_eq!(status(&plain, &healthz, None).await, Ok(200), "the probes need no token");
    let refused = status(&trusts_second, &url, Some(TOKEN)).await;
    assert!(refused.is_err(), "a client trusting another CA is refused: {refused:?}");

    // Renewed on disk: new connections get the new certificate, without a restart.
    install(&second, dir.path());
    wait_for("the new certificate served", async || {
        status(&trusts_second, &url, Some(TOKEN)).await == Ok(200)
    })
    .await;
    // A new client: the first one's pooled connection still runs on the old certificate.
    let refused = status(&client(&first), &url, Some(TOKEN)).await;
    assert!(refused.is_err(), "the old certificate is no longer served: {refused:?}");
    agent.stop().await;
}
