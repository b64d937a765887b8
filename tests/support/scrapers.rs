//! Real Prometheus and VictoriaMetrics servers (the Debian packages) started on loopback with
//! temporary storage, scraping one target every second, and queried through their HTTP API.
// Each test binary uses a part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// One labelled sample of an instant query: the labels (with `__name__`) and the value as text.
pub type QueriedSample = (BTreeMap<String, String>, String);

/// A running scraper; killed when dropped.
pub struct Scraper {
    name: &'static str,
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Scraper {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub use kube_state_otel_testkit::free_port;

/// A scrape config for `target` (`host:port`). `honor_labels` keeps the `job` and `instance`
/// the endpoint derives from `service.name` and `service.instance.id`, as the OTLP path has them.
fn scrape_config(target: &str) -> String {
    with_jobs(&format!(
        "  - job_name: kso-scrape\n    honor_labels: true\n    static_configs:\n      - targets: ['{target}']\n"
    ))
}

/// A config scraping every second with `jobs` (the YAML list items of `scrape_configs`).
fn with_jobs(jobs: &str) -> String {
    format!("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{jobs}")
}

impl Scraper {
    /// Prometheus scraping `target`.
    pub fn prometheus(target: &str) -> Scraper {
        Scraper::prometheus_config(scrape_config(target))
    }

    /// Prometheus running `jobs` (the YAML list items of `scrape_configs`), every second.
    pub fn prometheus_jobs(jobs: &str) -> Scraper {
        Scraper::prometheus_config(with_jobs(jobs))
    }

    /// Prometheus running the scrape `config` (a whole Prometheus config file).
    fn prometheus_config(config: String) -> Scraper {
        Scraper::start("prometheus", config, |config, data, port| {
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data.display()),
                format!("--web.listen-address=127.0.0.1:{port}"),
            ]
        })
    }

    /// VictoriaMetrics scraping `target`. Its default `-search.latencyOffset` (30s) would hide
    /// the newest samples from queries; its response cache could keep an early empty answer.
    pub fn victoria_metrics(target: &str) -> Scraper {
        Scraper::start("victoria-metrics", scrape_config(target), |config, data, port| {
            vec![
                format!("-promscrape.config={}", config.display()),
                format!("-storageDataPath={}", data.display()),
                format!("-httpListenAddr=127.0.0.1:{port}"),
                "-search.latencyOffset=1s".into(),
                "-search.disableCache".into(),
            ]
        })
    }

    /// Starts `name` on a free port and waits until it listens. A server that finds its port
    /// taken after all (someone bound it between the check and the server's own bind) exits at
    /// once; it is started again on another port, a few times, before the test gives up.
    fn start(
        name: &'static str,
        config_text: String,
        args: impl Fn(&PathBuf, &PathBuf, u16) -> Vec<String>,
    ) -> Scraper {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let scraper = Scraper::spawn(name, &config_text, &args);
            match scraper.wait_listening() {
                Ok(scraper) => return scraper,
                Err(log) if attempts < 5 && log.contains("address already in use") => continue,
                Err(log) => panic!("{name} did not start listening:\n{log}"),
            }
        }
    }

    fn spawn(
        name: &'static str,
        config_text: &str,
        args: &impl Fn(&PathBuf, &PathBuf, u16) -> Vec<String>,
    ) -> Scraper {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("scrape.yml");
        std::fs::write(&config, config_text).unwrap();
        let data = dir.path().join("data");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("log")).unwrap();
        let child = Command::new(name)
            .args(args(&config, &data, port))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({e}); install the Debian package `{name}`"));
        Scraper { name, child, port, dir }
    }

    /// This scraper once its port accepts connections while it runs, or its log once it exited
    /// (or after 60 s).
    fn wait_listening(mut self) -> Result<Scraper, String> {
        let until = std::time::Instant::now() + Duration::from_secs(60);
        while std::time::Instant::now() < until {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("exited ({status})\n{}", self.log()));
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && matches!(self.child.try_wait(), Ok(None))
            {
                return Ok(self);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("not listening on port {} after 60 s\n{}", self.port, self.log()))
    }

    /// The server's own output so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// The result of the instant query `query`, or `None` while the server is not answering.
    pub async fn query(&self, query: &str) -> Option<Vec<QueriedSample>> {
        // reqwest is built without a default TLS provider; whichever test asks first installs it.
        kube_state_otel::telemetry::install_crypto_provider();
        let base = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let url = reqwest::Url::parse_with_params(&base, &[("query", query)]).unwrap();
        let response = reqwest::get(url).await.ok()?;
        let body: serde_json::Value = serde_json::from_str(&response.text().await.ok()?).ok()?;
        if body["status"] != "success" {
            return None;
        }
        let mut samples: Vec<QueriedSample> = body["data"]["result"]
            .as_array()?
            .iter()
            .map(|series| {
                let labels = series["metric"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                    .collect();
                (labels, series["value"][1].as_str().unwrap_or_default().to_owned())
            })
            .collect();
        samples.sort();
        Some(samples)
    }

    /// Polls `query` until its result equals `want` (sorted here), or panics after `deadline`
    /// with the last answer and the server's log.
    pub async fn expect(&self, query: &str, mut want: Vec<QueriedSample>, deadline: Duration) {
        want.sort();
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let got = self.query(query).await;
            if got.as_ref() == Some(&want) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "{}: `{query}` gave {got:?}, wanted {want:?}\n--- {} log ---\n{}",
                self.name,
                self.name,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
