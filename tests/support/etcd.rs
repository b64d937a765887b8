//! Real etcd members on loopback for the etcd collector tests, and helpers to run the collector
//! and read what it exports.
//!
//! Included with `#[path = "support/etcd.rs"] mod etcd_support;` (not every test file uses every
//! helper).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube_state_otel::collectors::etcd::EtcdConfig;
use kube_state_otel::collectors::{CollectorContext, CollectorStatus};
use kube_state_otel::series::{MetricId, MetricsRegistry};
use kube_state_otel::telemetry::SelfMetrics;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

const ETCD: &str = "/usr/bin/etcd";

/// TLS of the client URLs (peers stay on plain http), and the client certificate etcdctl uses.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl ServerTls {
    /// The files `support/certificates.rs` makes in `dir`.
    pub fn in_dir(dir: &Path) -> ServerTls {
        ServerTls {
            ca: dir.join("ca.crt"),
            cert: dir.join("server.crt"),
            key: dir.join("server.key"),
            client_cert: dir.join("client.crt"),
            client_key: dir.join("client.key"),
        }
    }
}

/// How to start the members.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub quota_backend_bytes: Option<u64>,
    pub tls: Option<ServerTls>,
}

/// One etcd process and its data directory.
pub struct Member {
    pub name: String,
    pub client_url: String,
    args: Vec<String>,
    dir: TempDir,
    child: Option<Child>,
}

impl Member {
    fn spawn(&mut self) {
        assert!(Path::new(ETCD).exists(), "{ETCD} is missing: apt-get install etcd-server");
        let log = std::fs::File::create(self.dir.path().join("etcd.log")).unwrap();
        let child = Command::new(ETCD)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {ETCD}: {e}"));
        self.child = Some(child);
    }

    /// SIGKILL, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the member again on the same data directory and ports.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Freezes (SIGSTOP) or thaws (SIGCONT) the process: a member that accepts connections
    /// but never answers.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("member is running").id().to_string();
        let status = Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap();
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default()
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A cluster of members started by the test, killed on drop.
pub struct Cluster {
    pub members: Vec<Member>,
    tls: Option<ServerTls>,
}

impl Cluster {
    /// Starts `size` members and waits until they have a leader.
    pub async fn start(size: usize, options: Options) -> Cluster {
        let scheme = if options.tls.is_some() { "https" } else { "http" };
        // The test kit's ports: below the kernel's ephemeral range, where a port released here is
        // not handed to the next outgoing connection, and never the same twice in a row in this
        // process, so parallel tests do not get the same ones.
        let ports: Vec<u16> = (0..size * 2).map(|_| kube_state_otel_testkit::free_port()).collect();
        let token = format!("t{}-{}", std::process::id(), ports[0]);
        let peer = |i: usize| format!("http://127.0.0.1:{}", ports[2 * i + 1]);
        let initial: Vec<String> = (0..size).map(|i| format!("m{i}={}", peer(i))).collect();
        let mut members = Vec::new();
        for i in 0..size {
            let client_url = format!("{scheme}://127.0.0.1:{}", ports[2 * i]);
            let dir = tempfile::tempdir().unwrap();
            let mut args: Vec<String> = [
                "--name",
                &format!("m{i}"),
                "--data-dir",
                &dir.path().join("data").display().to_string(),
                "--listen-client-urls",
                &client_url,
                "--advertise-client-urls",
                &client_url,
                "--listen-peer-urls",
                &peer(i),
                "--initial-advertise-peer-urls",
                &peer(i),
                "--initial-cluster",
                &initial.join(","),
                "--initial-cluster-token",
                &token,
                "--initial-cluster-state",
                "new",
                "--heartbeat-interval",
                "10",
                "--election-timeout",
                "100",
                "--logger",
                "zap",
                "--log-level",
                "warn",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            if let Some(quota) = options.quota_backend_bytes {
                args.extend(["--quota-backend-bytes".to_owned(), quota.to_string()]);
            }
            if let Some(tls) = &options.tls {
                for (flag, path) in
                    [("--trusted-ca-file", &tls.ca), ("--cert-file", &tls.cert), ("--key-file", &tls.key)]
                {
                    args.extend([flag.to_owned(), path.display().to_string()]);
                }
                args.push("--client-cert-auth".to_owned());
            }
            members.push(Member { name: format!("m{i}"), client_url, args, dir, child: None });
        }
        for member in &mut members {
            member.spawn();
        }
        let cluster = Cluster { members, tls: options.tls };
        cluster.wait_for_leader(Duration::from_secs(20)).await;
        cluster
    }

    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(|m| m.client_url.clone()).collect()
    }

    /// Waits until some member reports a leader, using etcdctl (independent of the collector).
    pub async fn wait_for_leader(&self, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            let out = self.etcdctl(&["endpoint", "status", "-w", "json"]);
            if out.status.success() && String::from_utf8_lossy(&out.stdout).contains("\"leader\":") {
                let text = String::from_utf8_lossy(&out.stdout).to_string();
                if !text.contains("\"leader\":0,") {
                    return;
                }
            }
            if Instant::now() > deadline {
                let logs: Vec<String> = self.members.iter().map(|m| m.log()).collect();
                panic!("etcd did not elect a leader within {within:?}:\n{}", logs.join("\n----\n"));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs etcdctl against the members that are running.
    pub fn etcdctl(&self, args: &[&str]) -> std::process::Output {
        let endpoints: Vec<String> =
            self.members.iter().filter(|m| m.child.is_some()).map(|m| m.client_url.clone()).collect();
        self.etcdctl_at(&endpoints.join(","), args)
    }

    pub fn etcdctl_at(&self, endpoints: &str, args: &[&str]) -> std::process::Output {
        let mut command = Command::new("etcdctl");
        command.env("ETCDCTL_API", "3").args([
            "--endpoints",
            endpoints,
            "--command-timeout",
            "5s",
            "--dial-timeout",
            "2s",
        ]);
        if let Some(tls) = &self.tls {
            for (flag, path) in
                [("--cacert", &tls.ca), ("--cert", &tls.client_cert), ("--key", &tls.client_key)]
            {
                command.arg(format!("{flag}={}", path.display()));
            }
        }
        command.args(args).output().expect("etcdctl is missing: apt-get install etcd-client")
    }
}

/// A collector running in a task, with the registry and status it reports into.
pub struct Running {
    pub registry: MetricsRegistry,
    pub status: CollectorStatus,
    pub cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub fn start(config: EtcdConfig) -> Running {
        let registry = MetricsRegistry::new();
        let status = CollectorStatus::default();
        let cancel = CancellationToken::new();
        let ctx = CollectorContext {
            name: "etcd".into(),
            cancel: cancel.clone(),
            registry: registry.clone(),
            status: status.clone(),
            self_metrics: SelfMetrics::noop(),
            kube: None,
            shard: None,
        };
        let task = tokio::spawn(kube_state_otel::collectors::etcd::run(config, ctx));
        Running { registry, status, cancel, task }
    }

    /// Every exported point: (metric, attributes, value).
    pub fn points(&self) -> Vec<Sample> {
        let mut out = Vec::new();
        for table in self.registry.tables() {
            for (i, spec) in table.specs().iter().enumerate() {
                table.observe(MetricId(i as u32), |value, attrs| {
                    let attrs = attrs.iter().map(|kv| (kv.key.to_string(), kv.value.to_string())).collect();
                    out.push(Sample { metric: spec.name.clone(), attrs, value });
                });
            }
        }
        out
    }

    /// Waits until `check` passes on the exported points, or panics with the last points.
    pub async fn wait_until(&self, what: &str, within: Duration, check: impl Fn(&Points) -> bool) -> Points {
        let deadline = Instant::now() + within;
        loop {
            let points = Points(self.points());
            if check(&points) {
                return points;
            }
            if Instant::now() > deadline {
                panic!(
                    "{what}: not seen within {within:?}\nstatus: {:?}\npoints:\n{points}",
                    self.status.snapshot()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the collector and checks that it returns promptly.
    pub async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the collector returns when cancelled")
            .expect("the collector does not panic");
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub metric: String,
    pub attrs: BTreeMap<String, String>,
    pub value: f64,
}

/// A snapshot of exported points with lookups.
pub struct Points(pub Vec<Sample>);

impl Points {
    /// The points of `metric` whose attributes include all of `attrs`.
    pub fn find(&self, metric: &str, attrs: &[(&str, &str)]) -> Vec<&Sample> {
        self.0
            .iter()
            .filter(|s| {
                s.metric == metric
                    && attrs.iter().all(|(k, v)| s.attrs.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The single value of `metric` with these attributes, if exactly one point matches.
    pub fn value(&self, metric: &str, attrs: &[(&str, &str)]) -> Option<f64> {
        match self.find(metric, attrs).as_slice() {
            [one] => Some(one.value),
            _ => None,
        }
    }
}

impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut lines: Vec<String> =
            self.0.iter().map(|s| format!("  {} {:?} = {}", s.metric, s.attrs, s.value)).collect();
        lines.sort();
        write!(f, "{}", lines.join("\n"))
    }
}

/// A config polling `clusters` every 200 ms with a 1 s timeout.
pub fn fast_config(yaml_clusters: &str) -> EtcdConfig {
    let yaml = format!("enabled: true\ninterval: 200ms\ntimeout: 1s\nclusters:\n{yaml_clusters}");
    let config: EtcdConfig = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let mut issues = kube_state_otel::config::ConfigIssues::new();
    config.validate("collectors.etcd", &mut issues);
    assert!(issues.is_empty(), "{issues}");
    config
}
