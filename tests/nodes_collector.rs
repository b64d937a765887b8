//! The nodes collector against the fake API server, read back through the OTLP receiver.

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/nodes.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use kube_state_otel::collectors::nodes::{NodeMetric, NodesConfig, NodesState};
use kube_state_otel::series::SeriesTable;
use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use serde_json::json;
use support::{node, pod, Export, Running};

/// Counts the live heap bytes of each thread, so the per-pod memory figure is measured, not
/// estimated, and the tests running beside it do not blur it.
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = LIVE.try_with(|l| l.set(l.get() + layout.size() as isize));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let _ = LIVE.try_with(|l| l.set(l.get() - layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const N1: [(&str, &str); 2] = [("k8s.node.name", "n1"), ("k8s.node.uid", "uid-n1")];

fn phase_of(e: &Export, metric: &str, node: &str, phase: &str) -> Option<f64> {
    let mut attrs = vec![("k8s.pod.status.phase", phase)];
    if !node.is_empty() {
        attrs.push(("k8s.node.name", node));
    }
    e.value(metric, &attrs)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_with_exact_values_units_and_kinds() {
    let server = FakeApiServer::start().await;
    server.apply(node("n1", "uid-n1", "True")).unwrap();
    server.apply(pod("run", Some("n1"), "Running", "3800m", "100M")).unwrap();
    server.apply(pod("done", Some("n1"), "Succeeded", "1", "1Gi")).unwrap();
    server.apply(pod("wait", None, "Pending", "1", "1Gi")).unwrap();
    let running = Running::start(server, NodesConfig::default()).await;
    let e = running
        .wait_until("all pods counted", |e| phase_of(e, "k8s.cluster.pod.count", "", "Pending") == Some(1.0))
        .await;
    assert!(running.status.is_ready() && running.status.is_up());

    let shapes = [
        ("k8s.node.condition.status", "{node}", "updown"),
        ("k8s.node.cpu.allocatable", "{cpu}", "updown"),
        ("k8s.node.memory.allocatable", "By", "updown"),
        ("k8s.node.ephemeral_storage.allocatable", "By", "updown"),
        ("k8s.node.pod.allocatable", "{pod}", "updown"),
        ("k8s.node.cpu.capacity", "{cpu}", "updown"),
        ("k8s.node.memory.capacity", "By", "updown"),
        ("k8s.node.ephemeral_storage.capacity", "By", "updown"),
        ("k8s.node.pod.capacity", "{pod}", "updown"),
        ("k8s.node.cpu.request", "{cpu}", "updown"),
        ("k8s.node.memory.request", "By", "updown"),
        ("k8s.node.cpu.limit", "{cpu}", "updown"),
        ("k8s.node.memory.limit", "By", "updown"),
        ("k8s.node.pod.count", "{pod}", "updown"),
        ("k8s.node.unschedulable", "1", "gauge"),
        ("k8s.node.info", "1", "gauge"),
        ("k8s.cluster.node.count", "{node}", "updown"),
        ("k8s.cluster.pod.count", "{pod}", "updown"),
    ];
    for (name, unit, kind) in shapes {
        assert_eq!(e.shape(name), (unit.to_owned(), kind), "{name}");
    }
    let values = [
        ("k8s.node.cpu.allocatable", 3.8),
        ("k8s.node.memory.allocatable", 16_106_127_360.0),
        ("k8s.node.ephemeral_storage.allocatable", 100_000_000.0),
        ("k8s.node.pod.allocatable", 110.0),
        ("k8s.node.cpu.capacity", 4.0),
        ("k8s.node.memory.capacity", 17_179_869_184.0),
        ("k8s.node.ephemeral_storage.capacity", 1000.0),
        ("k8s.node.pod.capacity", 110.0),
        // Only the running pod: the succeeded one holds nothing, the pending one has no node.
        ("k8s.node.cpu.request", 3.8),
        ("k8s.node.memory.request", 100_000_000.0),
        ("k8s.node.cpu.limit", 2.0),
        ("k8s.node.memory.limit", 1_073_741_824.0),
        ("k8s.node.unschedulable", 0.0),
        ("k8s.node.info", 1.0),
    ];
    for (name, want) in values {
        assert_eq!(e.value(name, &N1), Some(want), "{name}");
    }
    for (phase, want) in
        [("Pending", 0.0), ("Running", 1.0), ("Succeeded", 1.0), ("Failed", 0.0), ("Unknown", 0.0)]
    {
        assert_eq!(phase_of(&e, "k8s.node.pod.count", "n1", phase), Some(want), "node {phase}");
    }
    for (phase, want) in
        [("Pending", 1.0), ("Running", 1.0), ("Succeeded", 1.0), ("Failed", 0.0), ("Unknown", 0.0)]
    {
        assert_eq!(phase_of(&e, "k8s.cluster.pod.count", "", phase), Some(want), "cluster {phase}");
    }
    for (condition, current) in [("Ready", "true"), ("MemoryPressure", "false"), ("DiskPressure", "unknown")]
    {
        for status in ["true", "false", "unknown"] {
            let attrs =
                [N1[0], N1[1], ("k8s.node.condition.type", condition), ("k8s.node.condition.status", status)];
            let want = if status == current { 1.0 } else { 0.0 };
            assert_eq!(e.value("k8s.node.condition.status", &attrs), Some(want), "{condition} {status}");
        }
    }
    for (ready, want) in [("true", 1.0), ("false", 0.0), ("unknown", 0.0)] {
        assert_eq!(e.value("k8s.cluster.node.count", &[("ready", ready)]), Some(want), "ready={ready}");
    }
    let info = &e.find("k8s.node.info", &N1)[0].attributes;
    for (key, want) in [
        ("k8s.kubelet.version", "v1.35.0"),
        ("container.runtime.version", "containerd://2.1.0"),
        ("os.description", "Debian GNU/Linux 13 (trixie)"),
        ("k8s.node.kernel.version", "6.12.0-1-amd64"),
        ("k8s.node.roles", "control-plane"),
        ("k8s.node.internal_ip", "10.1.2.3"),
    ] {
        assert!(info.contains(&(key.to_owned(), want.to_owned())), "{key}: {info:?}");
    }
    // Every point of a node metric carries both node attributes.
    for m in
        e.0.resource_metrics[0].scope_metrics[0].metrics.iter().filter(|m| m.name.starts_with("k8s.node."))
    {
        for p in kube_state_otel_testkit::otlp_receiver::points(m) {
            assert!(p.attributes.contains(&("k8s.node.uid".into(), "uid-n1".into())), "{}", m.name);
        }
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_changes_and_the_conditions_filter() {
    let server = FakeApiServer::start().await;
    server.apply(node("n1", "uid-n1", "True")).unwrap();
    let config =
        NodesConfig { conditions: vec!["Ready".into(), "DiskPressure".into()], ..Default::default() };
    let running = Running::start(server, config).await;
    let ready = |status: &'static str| {
        [N1[0], ("k8s.node.condition.type", "Ready"), ("k8s.node.condition.status", status)]
    };
    let e = running
        .wait_until("Ready true", |e| e.value("k8s.node.condition.status", &ready("true")) == Some(1.0))
        .await;
    let types: std::collections::BTreeSet<String> = e
        .find("k8s.node.condition.status", &[])
        .iter()
        .flat_map(|p| {
            p.attributes.iter().filter(|(k, _)| k == "k8s.node.condition.type").map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(types.into_iter().collect::<Vec<_>>(), vec!["DiskPressure", "Ready"]);

    let mut changed = node("n1", "uid-n1", "False");
    changed["spec"] = json!({"unschedulable": true});
    running.apply(changed);
    let e = running
        .wait_until("Ready false", |e| e.value("k8s.node.condition.status", &ready("false")) == Some(1.0))
        .await;
    assert_eq!(e.value("k8s.node.condition.status", &ready("true")), Some(0.0));
    assert_eq!(e.value("k8s.node.condition.status", &ready("unknown")), Some(0.0));
    assert_eq!(e.value("k8s.node.unschedulable", &N1), Some(1.0));
    assert_eq!(e.value("k8s.cluster.node.count", &[("ready", "false")]), Some(1.0));
    assert_eq!(e.value("k8s.cluster.node.count", &[("ready", "true")]), Some(0.0));
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_change_phase_move_get_scheduled_and_nodes_go() {
    let server = FakeApiServer::start().await;
    server.apply(node("n1", "uid-n1", "True")).unwrap();
    server.apply(node("n2", "uid-n2", "True")).unwrap();
    server.apply(pod("a", Some("n1"), "Running", "0.5", "1e3")).unwrap();
    server.apply(pod("b", None, "Pending", "250m", "15Gi")).unwrap();
    let running = Running::start(server, NodesConfig::default()).await;
    let cpu = |e: &Export, node: &str| e.value("k8s.node.cpu.request", &[("k8s.node.name", node)]);
    let mem = |e: &Export, node: &str| e.value("k8s.node.memory.request", &[("k8s.node.name", node)]);
    let e = running.wait_until("pod a on n1", |e| cpu(e, "n1") == Some(0.5)).await;
    assert_eq!((mem(&e, "n1"), cpu(&e, "n2")), (Some(1000.0), Some(0.0)));
    assert_eq!(phase_of(&e, "k8s.cluster.pod.count", "", "Pending"), Some(1.0));
    assert_eq!(phase_of(&e, "k8s.node.pod.count", "n2", "Pending"), Some(0.0));

    // The unscheduled pod is bound to n2: it now counts there too.
    running.apply(pod("b", Some("n2"), "Pending", "250m", "15Gi"));
    let e = running.wait_until("pod b on n2", |e| cpu(e, "n2") == Some(0.25)).await;
    assert_eq!(mem(&e, "n2"), Some(16_106_127_360.0));
    assert_eq!(phase_of(&e, "k8s.node.pod.count", "n2", "Pending"), Some(1.0));
    assert_eq!(phase_of(&e, "k8s.cluster.pod.count", "", "Pending"), Some(1.0));

    // Pod a fails: counted as Failed, no longer in the sums.
    running.apply(pod("a", Some("n1"), "Failed", "0.5", "1e3"));
    let e = running
        .wait_until("pod a failed", |e| phase_of(e, "k8s.node.pod.count", "n1", "Failed") == Some(1.0))
        .await;
    assert_eq!((cpu(&e, "n1"), mem(&e, "n1")), (Some(0.0), Some(0.0)));
    assert_eq!(phase_of(&e, "k8s.node.pod.count", "n1", "Running"), Some(0.0));
    assert_eq!(phase_of(&e, "k8s.cluster.pod.count", "", "Failed"), Some(1.0));

    // A pod replaced on another node (same uid, new nodeName) moves its figures.
    running.apply(pod("c", Some("n1"), "Running", "1", "1Mi"));
    running.wait_until("pod c on n1", |e| cpu(e, "n1") == Some(1.0)).await;
    running.server.delete("v1", "Pod", Some("default"), "c").unwrap();
    running.apply(pod("c", Some("n2"), "Running", "1", "1Mi"));
    let e =
        running.wait_until("pod c on n2", |e| cpu(e, "n2") == Some(1.25) && cpu(e, "n1") == Some(0.0)).await;
    assert_eq!(phase_of(&e, "k8s.node.pod.count", "n2", "Running"), Some(1.0));

    // Node n1 is deleted: every point naming it is gone; the cluster totals follow.
    running.server.delete("v1", "Node", None, "n1").unwrap();
    let e = running.wait_until("n1 gone", |e| e.points_of_node("n1") == 0).await;
    assert!(e.points_of_node("n2") > 0);
    assert_eq!(e.value("k8s.cluster.node.count", &[("ready", "true")]), Some(1.0));

    // Deleted pods leave the counts, even when the deletion is only seen through a relist.
    running.server.drop_watches();
    running.server.compact();
    running.server.delete("v1", "Pod", Some("default"), "c").unwrap();
    running.server.compact();
    let e = running.wait_until("pod c gone", |e| cpu(e, "n2") == Some(0.25)).await;
    assert_eq!(phase_of(&e, "k8s.cluster.pod.count", "", "Running"), Some(0.0));
    running.stop().await;
}

/// Heap kept per pod by the collector state (pods spread over 100 nodes). Printed for
/// docs/nodes.md.
#[test]
fn memory_kept_per_pod() {
    let table = SeriesTable::new("nodes", NodeMetric::specs());
    let mut state = NodesState::new(NodesConfig::default());
    for i in 0..100 {
        state.apply_node(
            &serde_json::from_value(node(&format!("node-{i}"), &format!("uid-node-{i}"), "True")).unwrap(),
            &table,
        );
    }
    let pods: Vec<kube_state_otel::collectors::nodes::WatchedPod> = (0..20_000)
        .map(|i| {
            let node = format!("node-{}", i % 100);
            let mut p = pod(&format!("pod-{i}"), Some(&node), "Running", "100m", "128Mi");
            p["metadata"]["uid"] = json!(format!("{:08x}-1111-2222-3333-444455556666", i));
            serde_json::from_value(p).unwrap()
        })
        .collect();
    let before = live();
    for p in &pods {
        state.apply_pod(p, &table);
    }
    let per_pod = (live() - before) as f64 / pods.len() as f64;
    eprintln!("nodes collector: {per_pod:.0} bytes kept per pod ({} pods)", state.pod_count());
    assert_eq!(state.pod_count(), 20_000);
    assert!(per_pod < 256.0, "{per_pod} bytes per pod");
}

/// The whole agent, configured by YAML: the nodes collector runs by default and reports ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_runs_the_nodes_collector_by_default() {
    use kube_state_otel::config::{load_str, Env};
    use kube_state_otel_testkit::otlp_receiver::{value_where, OtlpReceiver};

    let server = FakeApiServer::start().await;
    server.apply(node("n1", "uid-n1", "True")).unwrap();
    let receiver = OtlpReceiver::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, server.kubeconfig_yaml()).unwrap();
    let yaml = format!(
        "kubernetes: {{kubeconfig: {}}}\nexport: {{interval: 200ms, otlp: {{endpoint: \"{}\"}}}}\nserver: {{listen: 127.0.0.1:0}}\nleaderElection: {{enabled: false}}\n",
        kubeconfig.display(),
        receiver.grpc_endpoint()
    );
    let config = load_str(&yaml, &Env::from_pairs::<&str, &str>([])).unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let agent =
        tokio::spawn(kube_state_otel::runtime::run(config, Env::from_pairs::<&str, &str>([]), stop.clone()));
    receiver
        .wait_for(support::WAIT, "nodes ready and n1 exported", |_| {
            let ready = receiver.latest_metric("kube_state_otel.collector.ready");
            let info = receiver.latest_metric("k8s.node.info");
            ready.and_then(|m| value_where(&m, &[("collector", "nodes")])) == Some(1.0)
                && info.and_then(|m| value_where(&m, &N1)) == Some(1.0)
        })
        .await;
    stop.cancel();
    agent.await.unwrap().unwrap();
}
