//! The Kubernetes API under stress: the whole agent, through its own Kubernetes client, against
//! a fake API server that throttles (429 with `Retry-After`), fails (500), answers slowly, or
//! delivers a burst of 10,000 watch events. Every case ends with every object exported, and
//! exports keep their rhythm meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube_state_otel_testkit::fake_apiserver::{FakeApiServer, FakeApiServerOptions, Fault};
use kube_state_otel_testkit::otlp_receiver::{value_where, OtlpReceiver};
use serde_json::json;

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{database, databases, replicas, start_agent, Agent, WAIT};

const CRDS: &str = "    metricsNamespace: test\n    resources:\n      - name: db\n        gvr: {group: example.com, version: v1, resource: databases}\n        metrics: [{type: gauge, name: replicas, path: spec.replicas}]\n";

/// A server holding `objects` databases `db-<i>` with `i` replicas.
async fn server_with(objects: usize, options: FakeApiServerOptions) -> FakeApiServer {
    let server = FakeApiServer::start_with(options).await;
    server.register_resource(databases());
    for i in 0..objects {
        server.apply(database("prod", &format!("db-{i:05}"), "postgres", json!(i), "Running")).unwrap();
    }
    server
}

fn expected(objects: usize, value: impl Fn(usize) -> f64) -> Vec<(String, f64)> {
    (0..objects).map(|i| (format!("db-{i:05}"), value(i))).collect()
}

/// When each list (not watch) of databases arrived.
fn list_times(server: &FakeApiServer) -> Vec<Instant> {
    let requests = server.requests();
    let lists =
        requests.iter().filter(|r| r.path.ends_with("/databases") && r.query_param("watch").is_none());
    lists.map(|r| r.at).collect()
}

fn gaps(times: &[Instant]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

async fn stop(agent: Agent) {
    agent.stop.cancel();
    tokio::time::timeout(Duration::from_secs(15), agent.task).await.unwrap().unwrap().unwrap();
}

/// A throttled list is tried again only after the server's `Retry-After`, not at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_is_retried_after_the_servers_retry_after() {
    let server = server_with(3, FakeApiServerOptions::default()).await;
    server.inject(Fault::status("/databases", 429, 2).retry_after(2));
    let receiver = OtlpReceiver::start().await;
    let agent = start_agent(&server, &receiver, CRDS);

    let all = expected(3, |i| i as f64);
    receiver.wait_for(WAIT, "every object after the throttling", |_| replicas(&receiver) == all).await;
    let lists = list_times(&server);
    assert!(lists.len() >= 3, "two throttled lists and one served: {lists:?}");
    for gap in &gaps(&lists[..3]) {
        assert!(*gap >= Duration::from_millis(1900), "retried before Retry-After (2 s) passed: {gap:?}");
    }
    stop(agent).await;
}

/// Server errors are retried with a growing wait, never in a hot loop, and the resource
/// recovers once the server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_backed_off_and_recovered_from() {
    let server = server_with(3, FakeApiServerOptions::default()).await;
    server.inject(Fault::status("/databases", 500, 3));
    let receiver = OtlpReceiver::start().await;
    let agent = start_agent(&server, &receiver, CRDS);

    let all = expected(3, |i| i as f64);
    receiver.wait_for(WAIT, "every object after the errors", |_| replicas(&receiver) == all).await;
    let lists = list_times(&server);
    assert_eq!(lists.len(), 4, "three failed lists and one served: {lists:?}");
    let waits = gaps(&lists);
    assert!(waits[0] >= Duration::from_millis(750), "the first retry waits: {waits:?}");
    assert!(waits.windows(2).all(|w| w[1] > w[0]), "each retry waits longer: {waits:?}");
    stop(agent).await;
}

/// A list that takes longer than several export intervals is waited for (one request, not
/// abandoned and repeated), and exports go on meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_list_is_waited_for_while_exports_go_on() {
    let server = server_with(3, FakeApiServerOptions::default()).await;
    let slow = Duration::from_secs(4);
    server.inject(Fault::slow("/databases", slow, 1));
    let receiver = OtlpReceiver::start().await;
    let agent = start_agent(&server, &receiver, CRDS);

    let all = expected(3, |i| i as f64);
    receiver.wait_for(WAIT, "every object after the slow list", |_| replicas(&receiver) == all).await;
    let lists = list_times(&server);
    assert_eq!(lists.len(), 1, "one list, waited for: {lists:?}");
    let during = receiver.arrivals().iter().filter(|a| a.at > lists[0] && a.at < lists[0] + slow).count();
    assert!(during >= 5, "exports every 200 ms go on during the 4 s list; saw {during}");
    stop(agent).await;
}

/// 10,000 watch events in a burst: every one is absorbed (counted, the final state exported)
/// and the exports keep their interval meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_ten_thousand_events_is_absorbed_without_a_missed_export() {
    let objects = 100;
    let rounds = 100;
    let options = FakeApiServerOptions { history_limit: 50_000, ..Default::default() };
    let server = Arc::new(server_with(objects, options).await);
    let receiver = OtlpReceiver::start().await;
    let agent = start_agent(&server, &receiver, CRDS);
    let listed = expected(objects, |i| i as f64);
    receiver.wait_for(WAIT, "every object listed", |_| replicas(&receiver) == listed).await;

    let started = Instant::now();
    let writer = server.clone();
    tokio::task::spawn_blocking(move || {
        for round in 1..=rounds {
            for i in 0..objects {
                let value = json!(round * 1000 + i);
                writer.apply(database("prod", &format!("db-{i:05}"), "postgres", value, "Running")).unwrap();
            }
        }
    })
    .await
    .unwrap();
    let last = expected(objects, |i| (rounds * 1000 + i) as f64);
    receiver
        .wait_for(Duration::from_secs(60), "the burst's final state", |_| replicas(&receiver) == last)
        .await;
    // Every event was delivered by the one watch: counted one by one, with no relist.
    let counted = |receiver: &OtlpReceiver, kind: &str| {
        let metric = receiver.latest_metric("kube_state_otel.watch.events")?;
        value_where(&metric, &[("collector", "crds/db"), ("type", kind)])
    };
    let events = (objects * rounds) as f64;
    receiver.wait_for(WAIT, "every event counted", |_| counted(&receiver, "apply") == Some(events)).await;
    assert_eq!(counted(&receiver, "init"), Some(1.0), "one list, no relist");

    let arrivals: Vec<Instant> =
        receiver.arrivals().iter().map(|a| a.at).filter(|at| *at >= started).collect();
    let longest = gaps(&arrivals).into_iter().max().unwrap_or_default();
    assert!(
        longest < Duration::from_secs(2),
        "exports every 200 ms went on through the burst; the longest gap was {longest:?}"
    );
    stop(agent).await;
}
