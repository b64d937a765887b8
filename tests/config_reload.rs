//! Hot reload of the config file by the agent process: a changed metric definition restarts
//! only the custom-resource collector; an invalid file is rejected with all its errors and the
//! running config keeps exporting; a ConfigMap-style `..data` symlink swap is seen and a new
//! OTLP endpoint takes effect; each edit of a plain file is one reload, however often the
//! agent reads it, and a touch is none. `kube_state_otel.config.reloads{result}` counts each
//! outcome.

#[path = "support/databases.rs"]
mod databases;
#[path = "support/agent_process.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use databases::cluster_with_one_database;
use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, value_where, OtlpReceiver};
use serde_json::Value;
use support::{free_port, AgentProcess};

const WAIT: Duration = Duration::from_secs(30);

struct Setup {
    /// Serves the custom resources while the test runs.
    _server: FakeApiServer,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
    health_port: u16,
}

impl Setup {
    async fn new() -> Setup {
        let server = cluster_with_one_database().await;
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
        Setup { _server: server, dir, kubeconfig, health_port: free_port() }
    }

    /// The agent config: the custom-resource metric `metric` and an etcd collector (pointing at
    /// a closed port, so it runs and reports the member down).
    fn config(&self, endpoint: &str, metric: &str) -> String {
        format!(
            "kubernetes: {{kubeconfig: {}}}\nexport:\n  interval: 200ms\n  otlp: {{endpoint: {endpoint}, protocol: grpc}}\n\
             server: {{listen: 127.0.0.1:{}}}\nlogging: {{level: info, format: text}}\nleaderElection: {{enabled: false}}\n\
             collectors:\n  nodes: {{enabled: false}}\n  crds:\n    enabled: true\n    metricsNamespace: test\n    resources:\n\
             \x20     - name: db\n        gvr: {{group: example.com, version: v1, resource: databases}}\n\
             \x20       commonLabels: {{name: metadata.name}}\n        metrics: [{{type: gauge, name: {metric}, path: spec.replicas}}]\n\
             \x20 etcd:\n    enabled: true\n    interval: 1s\n    timeout: 200ms\n    clusters: [{{name: c, endpoints: [\"http://127.0.0.1:1\"]}}]\n",
            self.kubeconfig.display(),
            self.health_port,
        )
    }

    /// Per collector, the start of its current run, from `/readyz`.
    async fn collector_starts(&self) -> (String, String) {
        kube_state_otel::telemetry::install_crypto_provider();
        let url = format!("http://127.0.0.1:{}/readyz", self.health_port);
        let body: Value =
            serde_json::from_str(&reqwest::get(url).await.unwrap().text().await.unwrap()).unwrap();
        let since =
            |c: &str| body["collectors"][c]["since"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned();
        (since("crds"), since("etcd"))
    }
}

/// Replaces `path` the way editors do: write a new file, rename it over the old one.
fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Points of `metric` in the receiver's newest export (empty when absent).
fn latest_points(receiver: &OtlpReceiver, metric: &str) -> Vec<f64> {
    let received = receiver.received();
    let Some(last) = received.last() else { return Vec::new() };
    find_metric(&last.request, metric).map(points).unwrap_or_default().iter().map(|p| p.value).collect()
}

fn reloads(receiver: &OtlpReceiver, result: &str) -> f64 {
    receiver
        .latest_metric("kube_state_otel.config.reloads")
        .and_then(|m| value_where(&m, &[("result", result)]))
        .unwrap_or(0.0)
}

async fn wait_until(what: &str, check: impl Fn() -> bool) {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_metric_replaces_the_old_one_and_restarts_only_its_collector() {
    let setup = Setup::new().await;
    let receiver = OtlpReceiver::start().await;
    let config = setup.dir.path().join("config.yaml");
    std::fs::write(&config, setup.config(&receiver.grpc_endpoint(), "replicas")).unwrap();
    let _agent = AgentProcess::spawn(&config, setup.dir.path(), &[]);
    wait_until("test.db.replicas is exported", || latest_points(&receiver, "test.db.replicas") == [3.0])
        .await;
    let (crds_before, etcd_before) = setup.collector_starts().await;

    replace_file(&config, &setup.config(&receiver.grpc_endpoint(), "desired"));
    wait_until("test.db.desired replaces test.db.replicas", || {
        latest_points(&receiver, "test.db.desired") == [3.0]
            && latest_points(&receiver, "test.db.replicas").is_empty()
    })
    .await;
    wait_until("the reload is counted", || reloads(&receiver, "success") == 1.0).await;
    let (crds_after, etcd_after) = setup.collector_starts().await;
    assert_ne!(crds_after, crds_before, "the custom-resource collector restarted");
    assert_eq!(etcd_after, etcd_before, "the etcd collector kept running");
    assert_eq!(reloads(&receiver, "failure"), 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_file_is_rejected_with_every_error_and_the_old_config_keeps_exporting() {
    let setup = Setup::new().await;
    let receiver = OtlpReceiver::start().await;
    let config = setup.dir.path().join("config.yaml");
    let log = setup.dir.path().join("agent.log");
    std::fs::write(&config, setup.config(&receiver.grpc_endpoint(), "replicas")).unwrap();
    let _agent = AgentProcess::spawn_logging_to(&config, setup.dir.path(), &[], &log);
    wait_until("test.db.replicas is exported", || latest_points(&receiver, "test.db.replicas") == [3.0])
        .await;

    let broken = setup
        .config(&receiver.grpc_endpoint(), "replicas")
        .replace("interval: 200ms", "intervl: 200ms")
        .replace("type: gauge", "type: gauge_ish");
    std::fs::write(&config, broken).unwrap();
    wait_until("the rejection is counted", || reloads(&receiver, "failure") == 1.0).await;
    let after = receiver.received().len();
    wait_until("five more exports", || receiver.received().len() >= after + 5).await;
    assert_eq!(latest_points(&receiver, "test.db.replicas"), [3.0], "the running config keeps exporting");
    assert_eq!(reloads(&receiver, "success"), 0.0);

    let logged = std::fs::read_to_string(&log).unwrap();
    for want in ["config change rejected", "export.intervl", "collectors.crds.resources[0].metrics[0].type"] {
        assert!(logged.contains(want), "{want:?} not in the log:\n{logged}");
    }
}

/// Waits `quiet` and then for a few more exports, so the receiver's newest export counts
/// whatever a reload loop would have added meanwhile.
async fn after_quiet_time(receiver: &OtlpReceiver, quiet: Duration) {
    tokio::time::sleep(quiet).await;
    let after = receiver.received().len();
    wait_until("three more exports", || receiver.received().len() >= after + 3).await;
}

/// A plain file (docker-compose, a VM): the agent's own read of the file is an event in the
/// watched directory too, and must not start another reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_edit_of_a_plain_file_is_one_reload_and_a_touch_is_none() {
    let setup = Setup::new().await;
    let receiver = OtlpReceiver::start().await;
    let config = setup.dir.path().join("config.yaml");
    let log = setup.dir.path().join("agent.log");
    let valid = setup.config(&receiver.grpc_endpoint(), "replicas");
    std::fs::write(&config, &valid).unwrap();
    let _agent = AgentProcess::spawn_logging_to(&config, setup.dir.path(), &[], &log);
    wait_until("test.db.replicas is exported", || latest_points(&receiver, "test.db.replicas") == [3.0])
        .await;

    // Written in place, as `echo ... > config.yaml` or an editor saving in place does.
    let broken = valid.replace("interval: 200ms", "intervl: 200ms");
    std::fs::write(&config, &broken).unwrap();
    wait_until("the rejection is counted", || reloads(&receiver, "failure") == 1.0).await;
    after_quiet_time(&receiver, Duration::from_secs(4)).await;
    assert_eq!(reloads(&receiver, "failure"), 1.0, "one edit, one rejection");

    // Touched: the same bytes written again, and a new modification time.
    std::fs::write(&config, &broken).unwrap();
    let file = std::fs::File::options().write(true).open(&config).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
    drop(file);
    after_quiet_time(&receiver, Duration::from_secs(3)).await;
    assert_eq!((reloads(&receiver, "failure"), reloads(&receiver, "success")), (1.0, 0.0));
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.matches("config change rejected").count(), 1, "{logged}");

    replace_file(&config, &setup.config(&receiver.grpc_endpoint(), "desired"));
    wait_until("the reload is counted", || reloads(&receiver, "success") == 1.0).await;
    after_quiet_time(&receiver, Duration::from_secs(3)).await;
    assert_eq!((reloads(&receiver, "failure"), reloads(&receiver, "success")), (1.0, 1.0));
    assert_eq!(latest_points(&receiver, "test.db.desired"), [3.0]);
}

/// The kubelet's ConfigMap update: `config.yaml -> ..data/config.yaml`, `..data -> ..<ts>`;
/// a new timestamped directory is written, `..data_tmp` points at it and is renamed over
/// `..data`, the old directory is removed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configmap_symlink_swap_is_applied_and_a_new_endpoint_takes_effect() {
    use std::os::unix::fs::symlink;

    let setup = Setup::new().await;
    let (first, second) = (OtlpReceiver::start().await, OtlpReceiver::start().await);
    let volume = setup.dir.path().join("volume");
    std::fs::create_dir_all(volume.join("..2026_11_23_10_00_00.1")).unwrap();
    std::fs::write(
        volume.join("..2026_11_23_10_00_00.1/config.yaml"),
        setup.config(&first.grpc_endpoint(), "replicas"),
    )
    .unwrap();
    symlink("..2026_11_23_10_00_00.1", volume.join("..data")).unwrap();
    symlink("..data/config.yaml", volume.join("config.yaml")).unwrap();
    let _agent = AgentProcess::spawn(&volume.join("config.yaml"), setup.dir.path(), &[]);
    wait_until("the first receiver gets test.db.replicas", || {
        latest_points(&first, "test.db.replicas") == [3.0]
    })
    .await;

    std::fs::create_dir_all(volume.join("..2026_11_23_10_05_00.2")).unwrap();
    std::fs::write(
        volume.join("..2026_11_23_10_05_00.2/config.yaml"),
        setup.config(&second.grpc_endpoint(), "desired"),
    )
    .unwrap();
    symlink("..2026_11_23_10_05_00.2", volume.join("..data_tmp")).unwrap();
    std::fs::rename(volume.join("..data_tmp"), volume.join("..data")).unwrap();
    std::fs::remove_dir_all(volume.join("..2026_11_23_10_00_00.1")).unwrap();

    wait_until("the second receiver gets test.db.desired", || {
        latest_points(&second, "test.db.desired") == [3.0]
    })
    .await;
    assert!(latest_points(&second, "test.db.replicas").is_empty());
    assert_eq!(reloads(&second, "success"), 1.0);
    // Once the new endpoint is in use, nothing more goes to the old one.
    let (old_count, new_count) = (first.received().len(), second.received().len());
    wait_until("five more exports to the new endpoint", || second.received().len() >= new_count + 5).await;
    assert_eq!(first.received().len(), old_count);
}
