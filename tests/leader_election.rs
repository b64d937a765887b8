//! Two agent processes share a Lease on the fake API server, each exporting to its own OTLP
//! receiver: only the holder exports the leader-only custom-resource series and reports
//! `kube_state_otel.leader` 1; when the holder is killed the standby takes over; a holder that
//! shuts down releases the Lease.

#[path = "support/databases.rs"]
mod databases;
#[path = "support/agent_process.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use databases::cluster_with_one_database;
use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use kube_state_otel_testkit::otlp_receiver::{find_metric, points, OtlpReceiver, Received};
use serde_json::json;
use support::{free_port, AgentProcess};

const WAIT: Duration = Duration::from_secs(30);
const LEASE: &str = "kso-test";
/// The holder renews every retryPeriod rounded up to whole seconds.
const RENEW_PERIOD: Duration = Duration::from_secs(1);
const SERIES: &str = "test.db.replicas";

struct Replica {
    name: &'static str,
    receiver: OtlpReceiver,
    config: PathBuf,
    process: Option<AgentProcess>,
}

impl Replica {
    async fn new(name: &'static str, server: &FakeApiServer, dir: &Path) -> Replica {
        let receiver = OtlpReceiver::start().await;
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
        let yaml = format!(
            "kubernetes: {{kubeconfig: {}}}\nexport:\n  interval: 200ms\n  otlp: {{endpoint: {}, protocol: grpc}}\n\
             server: {{listen: 127.0.0.1:{}}}\nlogging: {{level: info, format: text}}\n\
             leaderElection: {{enabled: true, namespace: default, leaseName: {LEASE}, leaseDuration: 2s, renewDeadline: 1500ms, retryPeriod: 500ms}}\n\
             collectors:\n  nodes: {{enabled: false}}\n  crds:\n    enabled: true\n    leaderElection: true\n    metricsNamespace: test\n    resources:\n\
             \x20     - name: db\n        gvr: {{group: example.com, version: v1, resource: databases}}\n\
             \x20       commonLabels: {{name: metadata.name}}\n        metrics: [{{type: gauge, name: replicas, path: spec.replicas}}]\n",
            kubeconfig.display(),
            receiver.grpc_endpoint(),
            free_port(),
        );
        let config = dir.join(format!("{name}.yaml"));
        std::fs::write(&config, yaml).unwrap();
        Replica { name, receiver, config, process: None }
    }

    fn start(&mut self, dir: &Path) {
        self.process = Some(AgentProcess::spawn(&self.config, dir, &[("POD_NAME", self.name)]));
    }

    /// Starts a replica alone on `server` and waits until it exports as leader.
    async fn leading(name: &'static str, server: &FakeApiServer, dir: &Path) -> Replica {
        let mut replica = Replica::new(name, server, dir).await;
        replica.start(dir);
        wait_until("the replica exports as leader", || replica.exporting_as_leader()).await;
        replica
    }

    /// Waits until the newest export says leader 0 without the leader-only series.
    async fn standing_by(&self) -> Duration {
        wait_until("the replica exports as standby", || {
            self.samples().last().is_some_and(|s| !s.leader && !s.series)
        })
        .await
    }

    fn samples(&self) -> Vec<Sample> {
        self.receiver.received().iter().filter_map(Sample::of).collect()
    }

    /// The newest export says leader 1 and carries the leader-only series.
    fn exporting_as_leader(&self) -> bool {
        self.samples().last().is_some_and(|s| s.leader && s.series)
    }
}

/// One export as the test sees it.
#[derive(Debug, Clone, Copy)]
struct Sample {
    /// Collection time of the export (the points' timestamp), nanoseconds since the epoch.
    at: u64,
    leader: bool,
    series: bool,
}

impl Sample {
    fn of(r: &Received) -> Option<Sample> {
        let leader = points(find_metric(&r.request, "kube_state_otel.leader")?).into_iter().next()?;
        let series = find_metric(&r.request, SERIES).is_some_and(|m| !points(m).is_empty());
        Some(Sample { at: leader.time_unix_nano, leader: leader.value == 1.0, series })
    }
}

async fn wait_until(what: &str, check: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(started.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

fn holder(server: &FakeApiServer) -> Option<String> {
    let lease = server.get("coordination.k8s.io/v1", "Lease", Some("default"), LEASE)?;
    lease["spec"]["holderIdentity"].as_str().map(str::to_owned)
}

/// Every export carrying the leader-only series also says leader 1, and the two replicas'
/// exports of those series do not overlap by more than one renew period.
fn assert_no_overlap(first: &Replica, second: &Replica) {
    let (a, b) = (first.samples(), second.samples());
    for (replica, samples) in [(first.name, &a), (second.name, &b)] {
        for s in samples.iter().filter(|s| s.series) {
            assert!(s.leader, "{replica} exported the leader-only series while not leader: {s:?}");
        }
    }
    let last_first = a.iter().filter(|s| s.series).map(|s| s.at).max().expect("first holder exported");
    let first_second = b.iter().filter(|s| s.series).map(|s| s.at).min().expect("second holder exported");
    let overlap = last_first.saturating_sub(first_second);
    assert!(
        overlap < RENEW_PERIOD.as_nanos() as u64,
        "{} exported the leader-only series until {last_first}, {} from {first_second}",
        first.name,
        second.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_takes_over_when_the_holder_is_killed_and_they_never_overlap() {
    let server = cluster_with_one_database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut one = Replica::new("kso-one", &server, dir.path()).await;
    let mut two = Replica::new("kso-two", &server, dir.path()).await;
    one.start(dir.path());
    two.start(dir.path());

    wait_until("one replica exports as leader", || one.exporting_as_leader() || two.exporting_as_leader())
        .await;
    let (mut holder_replica, standby) = if one.exporting_as_leader() { (one, two) } else { (two, one) };
    assert_eq!(holder(&server).as_deref(), Some(holder_replica.name));
    // A while of both running: the standby reports leader 0 and none of the series.
    let seen = standby.samples().len();
    wait_until("the standby has exported ten times", || standby.samples().len() >= seen + 10).await;
    let latest = *standby.samples().last().unwrap();
    assert!(!latest.leader && !latest.series, "{latest:?}");
    assert!(holder_replica.exporting_as_leader());

    holder_replica.process.as_ref().unwrap().signal("KILL");
    holder_replica.process.take().unwrap().wait();
    let takeover = wait_until("the standby exports as leader", || standby.exporting_as_leader()).await;
    eprintln!("takeover after SIGKILL of the holder: {takeover:?} (leaseDuration 2s)");
    assert_eq!(holder(&server).as_deref(), Some(standby.name));
    assert_no_overlap(&holder_replica, &standby);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_shuts_down_releases_the_lease_for_the_next_replica() {
    let server = cluster_with_one_database().await;
    let dir = tempfile::tempdir().unwrap();
    let mut first = Replica::leading("kso-first", &server, dir.path()).await;
    assert_eq!(holder(&server).as_deref(), Some("kso-first"));
    // Holding the Lease costs one renewal a second (retryPeriod 500ms rounded up), not more.
    let lease_writes = || {
        let path = format!("/apis/coordination.k8s.io/v1/namespaces/default/leases/{LEASE}");
        server.requests().iter().filter(|r| r.method != "GET" && r.path == path).count()
    };
    let before = lease_writes();
    let span = |s: &[Sample]| s.last().map_or(0, |l| l.at) - s.first().map_or(0, |f| f.at);
    wait_until("four seconds of exports", || span(&first.samples()) >= 4_000_000_000).await;
    let renewals = lease_writes() - before;
    let seconds = span(&first.samples()) / 1_000_000_000;
    eprintln!("{renewals} Lease writes in about {seconds}s of leadership");
    assert!(renewals <= seconds as usize + 2, "{renewals} Lease writes in {seconds}s");

    let mut process = first.process.take().unwrap();
    process.signal("TERM");
    assert!(process.wait(), "the agent exits cleanly on SIGTERM");
    assert_eq!(holder(&server), None, "the Lease is released on shutdown");
    // The last export still carried the series (collectors stop, one last export, release).
    let samples = first.samples();
    assert!(samples.last().unwrap().series, "{samples:?}");

    let mut second = Replica::new("kso-second", &server, dir.path()).await;
    second.start(dir.path());
    wait_until("the second replica exports as leader", || second.exporting_as_leader()).await;
    assert_eq!(holder(&server).as_deref(), Some("kso-second"));
    assert_no_overlap(&first, &second);
}

/// Another identity writes itself into the Lease (as a replica would after a partition): the
/// holder notices at its next renewal and stops exporting the leader-only series.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_whose_lease_is_taken_stops_its_leader_only_collectors() {
    let server = cluster_with_one_database().await;
    let dir = tempfile::tempdir().unwrap();
    let only = Replica::leading("kso-only", &server, dir.path()).await;

    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    server
        .apply(json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": LEASE, "namespace": "default"},
            "spec": {"holderIdentity": "intruder", "leaseDurationSeconds": 60, "acquireTime": now, "renewTime": now}
        }))
        .unwrap();
    let stepped_down = only.standing_by().await;
    eprintln!("leader-only series gone {stepped_down:?} after the Lease was taken");
    assert_eq!(holder(&server).as_deref(), Some("intruder"));
}

/// The API server goes away: the holder cannot renew and stops its leader-only collectors once
/// renewDeadline has passed since its last renewal (before the Lease could expire for others).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_cannot_renew_gives_up_within_the_renew_deadline() {
    let server = cluster_with_one_database().await;
    let dir = tempfile::tempdir().unwrap();
    let alone = Replica::leading("kso-alone", &server, dir.path()).await;

    drop(server);
    let stepped_down = alone.standing_by().await;
    eprintln!("leader-only series gone {stepped_down:?} after the API server stopped (renewDeadline 1.5s)");
}
