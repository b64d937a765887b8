//! Table-driven tests of the pure steps: node points, pod reduction and the running totals.

use super::watched_node::WatchedNode as Node;
use super::watched_pod::{reduce_pod, WatchedPod as Pod};
use kube::runtime::watcher::Event;
use serde_json::{json, Value};

use super::config::NodesConfig;
use super::metrics::NodeMetric;
use super::node::{node_points, Readiness};
use super::pod::{Amounts, Phase};
use super::state::NodesState;
use crate::series::{Point, SeriesTable};

fn node(name: &str, uid: &str, ready: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "uid": uid, "labels": {
            "node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": "", "zone": "a"}},
        "spec": {"unschedulable": true},
        "status": {
            "allocatable": {"cpu": "3800m", "memory": "15Gi", "ephemeral-storage": "100M", "pods": "110"},
            "capacity": {"cpu": "4", "memory": "1e3", "ephemeral-storage": "129e6", "pods": "1k"},
            "conditions": [
                {"type": "Ready", "status": ready},
                {"type": "MemoryPressure", "status": "False"}
            ],
            "addresses": [{"type": "Hostname", "address": name}, {"type": "InternalIP", "address": "10.0.0.7"}],
            "nodeInfo": {"kubeletVersion": "v1.35.0", "containerRuntimeVersion": "containerd://2.1.0",
                "osImage": "Debian GNU/Linux 13", "kernelVersion": "6.12.0", "architecture": "amd64",
                "bootID": "", "machineID": "", "systemUUID": "", "kubeProxyVersion": "", "operatingSystem": "linux"}
        }
    })
}

fn pod(uid: &str, node: Option<&str>, phase: &str, cpu: &str, memory: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": uid, "namespace": "default", "uid": uid},
        "spec": {"nodeName": node, "containers": [
            {"name": "a", "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": "1", "memory": "1Gi"}}},
            {"name": "b", "resources": {"requests": {"cpu": "100m"}}}
        ]},
        "status": {"phase": phase}
    })
}

fn value_of(points: &[Point], metric: NodeMetric, attr: Option<(&str, &str)>) -> Option<f64> {
    points
        .iter()
        .find(|p| {
            p.metric == metric.id()
                && attr.is_none_or(|(k, v)| {
                    p.attributes.iter().any(|kv| kv.key.as_str() == k && kv.value.as_str() == v)
                })
        })
        .map(|p| p.value)
}

#[test]
fn node_points_cover_every_node_metric() {
    let n: Node = serde_json::from_value(node("n1", "u1", "True")).unwrap();
    let e = node_points(&n, &NodesConfig::default()).unwrap();
    assert_eq!((e.name.as_str(), e.uid.as_str(), e.ready), ("n1", "u1", Readiness::True));
    assert!(e.errors.is_empty());
    let p = &e.points;
    assert!(p
        .iter()
        .all(|p| p.attributes[0].value.as_str() == "n1" && p.attributes[1].value.as_str() == "u1"));
    let cases = [
        (NodeMetric::CpuAllocatable, 3.8),
        (NodeMetric::MemoryAllocatable, 16_106_127_360.0),
        (NodeMetric::EphemeralAllocatable, 100_000_000.0),
        (NodeMetric::PodAllocatable, 110.0),
        (NodeMetric::CpuCapacity, 4.0),
        (NodeMetric::MemoryCapacity, 1000.0),
        (NodeMetric::EphemeralCapacity, 129_000_000.0),
        (NodeMetric::PodCapacity, 1000.0),
        (NodeMetric::Unschedulable, 1.0),
        (NodeMetric::Info, 1.0),
    ];
    for (metric, want) in cases {
        assert_eq!(value_of(p, metric, None), Some(want), "{metric:?}");
    }
    let conditions: Vec<&Point> = p.iter().filter(|p| p.metric == NodeMetric::Condition.id()).collect();
    assert_eq!(conditions.len(), 6, "three statuses per condition type");
    assert_eq!(value_of(p, NodeMetric::Condition, Some(("k8s.node.condition.status", "true"))), Some(1.0));
    let info = p.iter().find(|p| p.metric == NodeMetric::Info.id()).unwrap();
    let attr = |k: &str| info.attributes.iter().find(|kv| kv.key.as_str() == k).unwrap().value.to_string();
    assert_eq!(attr("k8s.node.roles"), "infra,worker");
    assert_eq!(attr("k8s.node.internal_ip"), "10.0.0.7");
    assert_eq!(attr("k8s.kubelet.version"), "v1.35.0");
    assert_eq!(attr("container.runtime.version"), "containerd://2.1.0");
    assert_eq!(attr("os.description"), "Debian GNU/Linux 13");
    assert_eq!(attr("k8s.node.kernel.version"), "6.12.0");
}

#[test]
fn conditions_filter_and_bad_quantities() {
    let mut v = node("n1", "u1", "Unknown");
    v["status"]["allocatable"]["cpu"] = json!("lots");
    let n: Node = serde_json::from_value(v).unwrap();
    let config = NodesConfig { conditions: vec!["MemoryPressure".into()], ..Default::default() };
    let e = node_points(&n, &config).unwrap();
    assert_eq!(e.ready, Readiness::Unknown, "readiness is known even when Ready is filtered out");
    assert_eq!(e.errors, vec!["k8s.node.cpu.allocatable"]);
    assert_eq!(value_of(&e.points, NodeMetric::CpuAllocatable, None), None);
    let types: Vec<String> = e
        .points
        .iter()
        .filter(|p| p.metric == NodeMetric::Condition.id())
        .map(|p| p.attributes[2].value.to_string())
        .collect();
    assert_eq!(types, vec!["MemoryPressure"; 3]);
}

#[test]
fn pods_reduce_to_effective_amounts() {
    let cases: Vec<(Value, Phase, Amounts, Amounts)> = vec![
        (
            pod("p", Some("n1"), "Running", "250m", "100M"),
            Phase::Running,
            Amounts { cpu_milli: 350, memory: 100_000_000 },
            Amounts { cpu_milli: 1000, memory: 1 << 30 },
        ),
        (
            pod("p", None, "Mystery", "0.1", "1500m"),
            Phase::Unknown,
            Amounts { cpu_milli: 200, memory: 2 },
            Amounts { cpu_milli: 1000, memory: 1 << 30 },
        ),
        (
            json!({"metadata": {"uid": "p"}, "spec": {
                "containers": [{"name": "app", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}],
                "initContainers": [
                    {"name": "sidecar", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}},
                    {"name": "migrate", "resources": {"requests": {"cpu": "2", "memory": "1Mi"}}}
                ],
                "overhead": {"cpu": "10m", "memory": "1Ki"}}}),
            Phase::Pending,
            Amounts { cpu_milli: 2510, memory: (1 << 30) + 1024 },
            Amounts::default(),
        ),
    ];
    for (i, (v, phase, requests, limits)) in cases.into_iter().enumerate() {
        let p: Pod = serde_json::from_value(v).unwrap();
        let (_, facts) = reduce_pod(&p).unwrap();
        assert_eq!((facts.phase, facts.requests, facts.limits), (phase, requests, limits), "case {i}");
    }
}

fn apply_pod(state: &mut NodesState, table: &SeriesTable, v: Value) {
    state.apply_pod(&serde_json::from_value(v).unwrap(), table);
}

#[test]
fn totals_follow_pods_and_nodes() {
    let table = SeriesTable::new("nodes", NodeMetric::specs());
    let mut state = NodesState::new(NodesConfig::default());
    // A pod arriving before its node is counted once the node appears.
    apply_pod(&mut state, &table, pod("a", Some("n1"), "Running", "1", "1Gi"));
    assert!(table.points_of("pods/n1").is_empty());
    state.apply_node(&serde_json::from_value(node("n1", "u1", "True")).unwrap(), &table);
    apply_pod(&mut state, &table, pod("b", Some("n1"), "Succeeded", "2", "2Gi"));
    apply_pod(&mut state, &table, pod("c", None, "Pending", "2", "2Gi"));
    let row = table.points_of("pods/n1");
    let phase = |p: &[Point], ph: &str| value_of(p, NodeMetric::PodCount, Some(("k8s.pod.status.phase", ph)));
    let cluster_phase =
        |p: &[Point], ph: &str| value_of(p, NodeMetric::ClusterPods, Some(("k8s.pod.status.phase", ph)));
    assert_eq!(row.iter().filter(|p| p.metric == NodeMetric::PodCount.id()).count(), 5, "every phase");
    assert_eq!(
        (phase(&row, "Running"), phase(&row, "Succeeded"), phase(&row, "Failed")),
        (Some(1.0), Some(1.0), Some(0.0))
    );
    assert_eq!(value_of(&row, NodeMetric::CpuRequest, None), Some(1.1), "terminated pods hold nothing");
    assert_eq!(value_of(&row, NodeMetric::MemoryRequest, None), Some((1u64 << 30) as f64));
    assert_eq!(value_of(&row, NodeMetric::CpuLimit, None), Some(1.0));
    let cluster = table.points_of("cluster");
    assert_eq!(cluster_phase(&cluster, "Pending"), Some(1.0), "unscheduled pods count in the cluster");
    assert_eq!(cluster_phase(&cluster, "Running"), Some(1.0));
    assert_eq!(value_of(&cluster, NodeMetric::ClusterNodes, Some(("ready", "true"))), Some(1.0));
    assert_eq!(value_of(&cluster, NodeMetric::ClusterNodes, Some(("ready", "false"))), Some(0.0));

    // The running pod moves away, then its node relists without n1.
    apply_pod(&mut state, &table, pod("a", Some("n2"), "Running", "1", "1Gi"));
    let row = table.points_of("pods/n1");
    assert_eq!(
        (phase(&row, "Running"), value_of(&row, NodeMetric::CpuRequest, None)),
        (Some(0.0), Some(0.0))
    );
    state.node_event(Event::Init, &table);
    state.node_event(Event::InitDone, &table);
    assert!(table.points_of("node/n1").is_empty() && table.points_of("pods/n1").is_empty());
    assert_eq!(
        value_of(&table.points_of("cluster"), NodeMetric::ClusterNodes, Some(("ready", "true"))),
        Some(0.0)
    );
    state.pod_event(Event::Init, &table);
    state.pod_event(
        Event::InitApply(serde_json::from_value(pod("c", None, "Pending", "2", "2Gi")).unwrap()),
        &table,
    );
    state.pod_event(Event::InitDone, &table);
    assert_eq!(state.pod_count(), 1);
    assert_eq!(cluster_phase(&table.points_of("cluster"), "Running"), Some(0.0));
    assert_eq!(cluster_phase(&table.points_of("cluster"), "Pending"), Some(1.0));
}

#[test]
fn a_node_recreated_under_its_name_takes_the_new_uid() {
    let table = SeriesTable::new("nodes", NodeMetric::specs());
    let mut state = NodesState::new(NodesConfig::default());
    let apply_node =
        |state: &mut NodesState, v: Value| state.apply_node(&serde_json::from_value(v).unwrap(), &table);
    apply_node(&mut state, node("n1", "old", "True"));
    apply_pod(&mut state, &table, pod("a", Some("n1"), "Running", "1", "1Gi"));
    apply_node(&mut state, node("n1", "new", "False"));
    for key in ["node/n1", "pods/n1"] {
        let points = table.points_of(key);
        assert!(!points.is_empty());
        assert!(points.iter().all(|p| p.attributes[1].value.as_str() == "new"), "{key}");
    }
    assert_eq!(value_of(&table.points_of("pods/n1"), NodeMetric::CpuRequest, None), Some(1.1));
    let cluster = table.points_of("cluster");
    assert_eq!(value_of(&cluster, NodeMetric::ClusterNodes, Some(("ready", "true"))), Some(0.0));
    assert_eq!(value_of(&cluster, NodeMetric::ClusterNodes, Some(("ready", "false"))), Some(1.0));
}

/// Amounts beyond what an `i64` holds neither panic nor leave anything behind: a pod's sum
/// saturates, and a node's totals take back exactly what a pod added.
#[test]
fn enormous_amounts_saturate_and_leave_the_totals_exact() {
    let huge = pod("h", Some("n1"), "Running", "1", "8E");
    let mut two = huge.clone();
    two["spec"]["containers"][1]["resources"]["requests"]["memory"] = json!("8E");
    let (_, facts) = reduce_pod(&serde_json::from_value(two.clone()).unwrap()).unwrap();
    assert_eq!(facts.requests.memory, i64::MAX, "8E + 8E saturates");

    let table = SeriesTable::new("nodes", NodeMetric::specs());
    let mut state = NodesState::new(NodesConfig::default());
    state.apply_node(&serde_json::from_value(node("n1", "u1", "True")).unwrap(), &table);
    apply_pod(&mut state, &table, two);
    apply_pod(&mut state, &table, pod("small", Some("n1"), "Running", "1", "1Gi"));
    apply_pod(&mut state, &table, huge.clone());
    apply_pod(&mut state, &table, pod("h", Some("n1"), "Succeeded", "1", "8E"));
    apply_pod(
        &mut state,
        &table,
        json!({"metadata": {"uid": "h"}, "spec": {"nodeName": "n2"}, "status": {"phase": "Failed"}}),
    );
    let row = table.points_of("pods/n1");
    assert_eq!(
        value_of(&row, NodeMetric::MemoryRequest, None),
        Some((1u64 << 30) as f64),
        "only the small pod is left"
    );
}

/// A state deferring the first pod list writes the rows pods change once, when that list
/// completes, and then holds what a state writing at every pod holds; node events still write
/// at once, and after the first list pods write at once again.
#[test]
fn the_first_pod_list_writes_its_rows_once_at_its_end() {
    let events = |state: &mut NodesState, table: &SeriesTable| {
        state.node_event(Event::Init, table);
        state.node_event(Event::InitApply(serde_json::from_value(node("n1", "u1", "True")).unwrap()), table);
        state.node_event(Event::InitDone, table);
        state.pod_event(Event::Init, table);
        for (uid, phase) in [("a", "Running"), ("b", "Pending"), ("c", "Succeeded")] {
            let pod = pod(uid, Some("n1"), phase, "1", "1Gi");
            state.pod_event(Event::InitApply(serde_json::from_value(pod).unwrap()), table);
        }
    };
    let (eager, deferred) =
        (SeriesTable::new("nodes", NodeMetric::specs()), SeriesTable::new("nodes", NodeMetric::specs()));
    let mut at_once = NodesState::new(NodesConfig::default());
    let mut once = NodesState::new(NodesConfig::default()).deferring_first_pod_list();
    events(&mut at_once, &eager);
    events(&mut once, &deferred);
    let running = |t: &SeriesTable, key: &str| {
        value_of(&t.points_of(key), NodeMetric::PodCount, Some(("k8s.pod.status.phase", "Running")))
    };
    assert_eq!(running(&eager, "pods/n1"), Some(1.0));
    assert_eq!(running(&deferred, "pods/n1"), Some(0.0), "written by the node event, before any pod");
    at_once.pod_event(Event::InitDone, &eager);
    once.pod_event(Event::InitDone, &deferred);
    for key in ["pods/n1", "cluster", "node/n1"] {
        assert_eq!(deferred.points_of(key), eager.points_of(key), "{key}");
    }
    apply_pod(&mut once, &deferred, pod("d", Some("n1"), "Running", "1", "1Gi"));
    assert_eq!(running(&deferred, "pods/n1"), Some(2.0), "after the first list, at once");
}
