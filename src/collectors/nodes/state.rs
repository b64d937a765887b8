//! What the collector keeps between events, and how it turns into table rows.
//!
//! One table, three kinds of rows: `node/<name>` (the node's own points), `pods/<name>` (the
//! pod figures of that node) and `cluster` (the totals). Rows are keyed by node *name* because
//! pods refer to their node by name; every point still carries `k8s.node.uid`, and a node
//! re-created under the same name replaces its rows. Per-node pod figures are kept as running
//! integer totals updated by each pod's old and new facts, so a pod event costs O(1).

use foldhash::{HashMap, HashMapExt};

use kube::runtime::watcher::Event;
use opentelemetry::KeyValue;

use super::config::NodesConfig;
use super::metrics::*;
use super::node::{node_attributes, node_points, Readiness};
use super::pod::{Amounts, Phase, PodFacts};
use super::watched_node::WatchedNode as Node;
use super::watched_pod::{reduce_pod, WatchedPod as Pod};
use crate::collectors::relist::{Change, Relist};
use crate::series::{Point, SeriesTable};

const CLUSTER_KEY: &str = "cluster";

struct NodeEntry {
    uid: String,
    ready: Readiness,
}

/// Running totals of the pods bound to one node.
#[derive(Debug, Default, Clone, PartialEq)]
struct PodTotals {
    phases: [i64; 5],
    requests: Amounts,
    limits: Amounts,
}

impl PodTotals {
    /// Adds (`sign` 1) or removes (`sign` -1) a pod. The sums wrap rather than overflow, so
    /// removing a pod always takes back exactly what adding it put in, whatever its amounts.
    fn apply(&mut self, pod: &PodFacts, sign: i64) {
        self.phases[pod.phase.index()] += sign;
        if !pod.phase.is_terminated() {
            let add = |total: &mut i64, amount: i64| *total = total.wrapping_add(sign.wrapping_mul(amount));
            add(&mut self.requests.cpu_milli, pod.requests.cpu_milli);
            add(&mut self.requests.memory, pod.requests.memory);
            add(&mut self.limits.cpu_milli, pod.limits.cpu_milli);
            add(&mut self.limits.memory, pod.limits.memory);
        }
    }

    fn is_empty(&self) -> bool {
        self.phases.iter().all(|&n| n == 0)
    }
}

/// The collector's state; `table` receives every change at once.
pub struct NodesState {
    config: NodesConfig,
    nodes: HashMap<String, NodeEntry>,
    pods: HashMap<String, PodFacts>,
    per_node: HashMap<Box<str>, PodTotals>,
    cluster_pods: [i64; 5],
    cluster_nodes: [i64; 3],
    /// Relists of the node watcher (nodes held by name) and of the pod watcher (by uid).
    node_relist: Relist<Node>,
    pod_relist: Relist<Pod>,
    /// Whether the pods of the first pod list leave their node's pod row and the cluster row to
    /// be written once, when that list completes (see [`NodesState::deferring_first_pod_list`]).
    defer_first_pod_list: bool,
}

impl NodesState {
    /// No node or pod known yet.
    pub fn new(config: NodesConfig) -> Self {
        NodesState {
            config,
            nodes: HashMap::new(),
            pods: HashMap::new(),
            per_node: HashMap::new(),
            cluster_pods: [0; 5],
            cluster_nodes: [0; 3],
            // A node without uid yields no points (`node_points`), so it is never held.
            node_relist: Relist::new(|node| node.metadata.uid.as_ref().and(node.metadata.name.clone())),
            pod_relist: Relist::new(|pod| pod.metadata.uid.clone()),
            defer_first_pod_list: false,
        }
    }

    /// The same state, writing the rows pods change (their node's pod row, the cluster row)
    /// once when the first pod list completes rather than at each listed pod: at 50,000 pods the
    /// rewrites were a fifth of the initial sync. Node events still write them at once, so a pod
    /// list that never completes still leaves every node's row and the cluster row written.
    pub fn deferring_first_pod_list(mut self) -> Self {
        self.defer_first_pod_list = true;
        self
    }

    /// Whether pod events leave the rows they change for later (during the first pod list).
    fn pods_deferred(&self) -> bool {
        self.defer_first_pod_list && !self.pod_relist.is_listed()
    }

    /// Number of pods kept.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }

    /// A node added or changed; returns the metrics that could not be parsed.
    pub fn apply_node(&mut self, node: &Node, table: &SeriesTable) -> Vec<&'static str> {
        let Some(extract) = node_points(node, &self.config) else { return Vec::new() };
        table.replace(&format!("node/{}", extract.name), extract.points);
        self.cluster_nodes[extract.ready as usize] += 1;
        let entry = NodeEntry { uid: extract.uid, ready: extract.ready };
        if let Some(old) = self.nodes.insert(extract.name.clone(), entry) {
            self.cluster_nodes[old.ready as usize] -= 1;
        }
        self.write_pods_row(&extract.name, table);
        self.write_cluster_row(table);
        extract.errors
    }

    /// A node deleted: its rows go, and it leaves the cluster count.
    pub fn delete_node(&mut self, node: &Node, table: &SeriesTable) {
        if let Some(name) = &node.metadata.name {
            self.forget_node(name, table);
            self.write_cluster_row(table);
        }
    }

    fn forget_node(&mut self, name: &str, table: &SeriesTable) {
        if let Some(old) = self.nodes.remove(name) {
            self.cluster_nodes[old.ready as usize] -= 1;
        }
        table.remove(&format!("node/{name}"));
        table.remove(&format!("pods/{name}"));
    }

    /// A pod added or changed: its old facts leave the totals, the new ones enter.
    pub fn apply_pod(&mut self, pod: &Pod, table: &SeriesTable) {
        let Some((uid, facts)) = reduce_pod(pod) else { return };
        let old = self.pods.insert(uid, facts.clone());
        if old.as_ref() == Some(&facts) {
            return;
        }
        if let Some(old) = old {
            self.account(&old, -1, table);
        }
        self.account(&facts, 1, table);
        if !self.pods_deferred() {
            self.write_cluster_row(table);
        }
    }

    /// A pod deleted: its facts leave the totals.
    pub fn delete_pod(&mut self, pod: &Pod, table: &SeriesTable) {
        if let Some(uid) = &pod.metadata.uid {
            self.forget_pod(uid, table);
            if !self.pods_deferred() {
                self.write_cluster_row(table);
            }
        }
    }

    fn forget_pod(&mut self, uid: &str, table: &SeriesTable) {
        if let Some(old) = self.pods.remove(uid) {
            self.account(&old, -1, table);
        }
    }

    fn account(&mut self, pod: &PodFacts, sign: i64, table: &SeriesTable) {
        self.cluster_pods[pod.phase.index()] += sign;
        let Some(node) = &pod.node else { return };
        let totals = self.per_node.entry(node.clone()).or_default();
        totals.apply(pod, sign);
        if totals.is_empty() {
            self.per_node.remove(node);
        }
        if !self.pods_deferred() {
            self.write_pods_row(node, table);
        }
    }

    /// One event of the node watcher; returns the metrics that could not be parsed.
    pub fn node_event(&mut self, event: Event<Node>, table: &SeriesTable) -> Vec<&'static str> {
        match self.node_relist.apply(event) {
            Change::Apply(node) => return self.apply_node(&node, table),
            Change::Delete(node) => self.delete_node(&node, table),
            Change::RelistStarted => {}
            Change::Listed(listed) => {
                for name in listed.vanished(self.nodes.keys()) {
                    self.forget_node(&name, table);
                }
                self.write_cluster_row(table);
            }
        }
        Vec::new()
    }

    /// One event of the pod watcher.
    pub fn pod_event(&mut self, event: Event<Pod>, table: &SeriesTable) {
        match self.pod_relist.apply(event) {
            Change::Apply(pod) => self.apply_pod(&pod, table),
            Change::Delete(pod) => self.delete_pod(&pod, table),
            Change::RelistStarted => {}
            Change::Listed(listed) => {
                for uid in listed.vanished(self.pods.keys()) {
                    self.forget_pod(&uid, table);
                }
                if std::mem::take(&mut self.defer_first_pod_list) {
                    for name in self.nodes.keys() {
                        self.write_pods_row(name, table);
                    }
                }
                self.write_cluster_row(table);
            }
        }
    }

    /// Whether both watchers have completed their first list.
    pub fn is_listed(&self) -> bool {
        self.node_relist.is_listed() && self.pod_relist.is_listed()
    }

    /// The pod figures of a known node (every phase, zeros included).
    fn write_pods_row(&self, name: &str, table: &SeriesTable) {
        let Some(node) = self.nodes.get(name) else { return };
        let base = node_attributes(name, &node.uid);
        let totals = self.per_node.get(name).cloned().unwrap_or_default();
        let mut points = Vec::with_capacity(9);
        for phase in Phase::ALL {
            let attrs = phase_attributes(&base, phase);
            points.push(Point::new(NodeMetric::PodCount, attrs, totals.phases[phase.index()] as f64));
        }
        let cpu = |m: i64| m as f64 / 1000.0;
        points.push(Point::new(NodeMetric::CpuRequest, base.clone(), cpu(totals.requests.cpu_milli)));
        points.push(Point::new(NodeMetric::MemoryRequest, base.clone(), totals.requests.memory as f64));
        points.push(Point::new(NodeMetric::CpuLimit, base.clone(), cpu(totals.limits.cpu_milli)));
        points.push(Point::new(NodeMetric::MemoryLimit, base, totals.limits.memory as f64));
        table.replace(&format!("pods/{name}"), points);
    }

    fn write_cluster_row(&self, table: &SeriesTable) {
        let mut points = Vec::with_capacity(8);
        for ready in Readiness::ALL {
            let count = self.cluster_nodes[ready as usize];
            points.push(Point::new(
                NodeMetric::ClusterNodes,
                vec![KeyValue::new(READY, ready.as_str())],
                count as f64,
            ));
        }
        for phase in Phase::ALL {
            let count = self.cluster_pods[phase.index()];
            points.push(Point::new(NodeMetric::ClusterPods, phase_attributes(&[], phase), count as f64));
        }
        table.replace(CLUSTER_KEY, points);
    }
}

fn phase_attributes(base: &[KeyValue], phase: Phase) -> Vec<KeyValue> {
    let mut attrs = base.to_vec();
    attrs.push(KeyValue::new(POD_PHASE, phase.as_str()));
    attrs
}
