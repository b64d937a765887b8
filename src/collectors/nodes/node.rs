//! Pure extraction of a node's own points (conditions, resources, flags, info).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use opentelemetry::KeyValue;

use super::config::NodesConfig;
use super::metrics::*;
use super::watched_node::{NodeSystemInfo, WatchedNode};
use crate::collectors::shared::quantity::{to_milli, to_units};
use crate::series::Point;

/// Status of a node's Ready condition, as `k8s.cluster.node.count` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    True,
    False,
    Unknown,
}

impl Readiness {
    pub const ALL: [Readiness; 3] = [Readiness::True, Readiness::False, Readiness::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            Readiness::True => "true",
            Readiness::False => "false",
            Readiness::Unknown => "unknown",
        }
    }

    fn parse(status: &str) -> Readiness {
        match status {
            "True" => Readiness::True,
            "False" => Readiness::False,
            _ => Readiness::Unknown,
        }
    }
}

/// What extraction gives for one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeExtract {
    pub name: String,
    pub uid: String,
    pub ready: Readiness,
    pub points: Vec<Point>,
    /// Metrics whose value could not be parsed (counted as extract errors).
    pub errors: Vec<&'static str>,
}

/// `k8s.node.name` and `k8s.node.uid`, carried by every point of the node.
pub fn node_attributes(name: &str, uid: &str) -> Vec<KeyValue> {
    vec![KeyValue::new(NODE_NAME, name.to_owned()), KeyValue::new(NODE_UID, uid.to_owned())]
}

fn with(base: &[KeyValue], extra: impl IntoIterator<Item = KeyValue>) -> Vec<KeyValue> {
    base.iter().cloned().chain(extra).collect()
}

/// The node's points; `None` for a node without name or uid.
pub fn node_points(node: &WatchedNode, config: &NodesConfig) -> Option<NodeExtract> {
    let name = node.metadata.name.clone()?;
    let uid = node.metadata.uid.clone()?;
    let base = node_attributes(&name, &uid);
    let status = node.status.as_ref();
    let mut points = Vec::new();
    let mut errors = Vec::new();
    let mut ready = Readiness::Unknown;
    for c in status.and_then(|s| s.conditions.as_deref()).unwrap_or_default() {
        let current = Readiness::parse(&c.status);
        if c.type_ == "Ready" {
            ready = current;
        }
        if !config.reports_condition(&c.type_) {
            continue;
        }
        for s in Readiness::ALL {
            let attrs = with(
                &base,
                [KeyValue::new(CONDITION_TYPE, c.type_.clone()), KeyValue::new(CONDITION_STATUS, s.as_str())],
            );
            points.push(Point::new(NodeMetric::Condition, attrs, if s == current { 1.0 } else { 0.0 }));
        }
    }
    push_resources(&mut points, &mut errors, &base, status.and_then(|s| s.allocatable.as_ref()), ALLOCATABLE);
    push_resources(&mut points, &mut errors, &base, status.and_then(|s| s.capacity.as_ref()), CAPACITY);
    let unschedulable = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    points.push(Point::new(NodeMetric::Unschedulable, base.clone(), if unschedulable { 1.0 } else { 0.0 }));
    points.push(Point::new(NodeMetric::Info, with(&base, info_attributes(node)), 1.0));
    Some(NodeExtract { name, uid, ready, points, errors })
}

/// (metric, resource key, whether the value is CPU).
type ResourceMetric = (NodeMetric, &'static str, bool);

const ALLOCATABLE: [ResourceMetric; 4] = [
    (NodeMetric::CpuAllocatable, "cpu", true),
    (NodeMetric::MemoryAllocatable, "memory", false),
    (NodeMetric::EphemeralAllocatable, "ephemeral-storage", false),
    (NodeMetric::PodAllocatable, "pods", false),
];

const CAPACITY: [ResourceMetric; 4] = [
    (NodeMetric::CpuCapacity, "cpu", true),
    (NodeMetric::MemoryCapacity, "memory", false),
    (NodeMetric::EphemeralCapacity, "ephemeral-storage", false),
    (NodeMetric::PodCapacity, "pods", false),
];

fn push_resources(
    points: &mut Vec<Point>,
    errors: &mut Vec<&'static str>,
    base: &[KeyValue],
    list: Option<&BTreeMap<String, Quantity>>,
    metrics: [ResourceMetric; 4],
) {
    let Some(list) = list else { return };
    for (metric, key, is_cpu) in metrics {
        let Some(q) = list.get(key) else { continue };
        let value =
            if is_cpu { to_milli(&q.0).map(|m| m as f64 / 1000.0) } else { to_units(&q.0).map(|v| v as f64) };
        match value {
            Some(v) => points.push(Point::new(metric, base.to_vec(), v)),
            None => errors.push(metric.declaration().name),
        }
    }
}

/// Roles come from `node-role.kubernetes.io/<role>` labels, sorted and comma-joined.
fn info_attributes(node: &WatchedNode) -> Vec<KeyValue> {
    let info = node.status.as_ref().and_then(|s| s.node_info.as_ref());
    let text = |f: fn(&NodeSystemInfo) -> &String| info.map(|i| f(i).clone()).unwrap_or_default();
    let mut roles: Vec<&str> = node
        .metadata
        .labels
        .iter()
        .flatten()
        .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
        .filter(|r| !r.is_empty())
        .collect();
    roles.sort_unstable();
    let internal_ip = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_ref())
        .and_then(|a| a.iter().find(|a| a.type_ == "InternalIP"))
        .map(|a| a.address.clone())
        .unwrap_or_default();
    vec![
        KeyValue::new(KUBELET_VERSION, text(|i| &i.kubelet_version)),
        KeyValue::new(CONTAINER_RUNTIME_VERSION, text(|i| &i.container_runtime_version)),
        KeyValue::new(OS_DESCRIPTION, text(|i| &i.os_image)),
        KeyValue::new(KERNEL_VERSION, text(|i| &i.kernel_version)),
        KeyValue::new(ROLES, roles.join(",")),
        KeyValue::new(INTERNAL_IP, internal_ip),
    ]
}
