//! The metrics of the nodes collector: names, units and instrument kinds (SPEC §5), following
//! the OpenTelemetry k8s semantic conventions (resource amounts and counts are
//! UpDownCounters there; flags and info are gauges).

use crate::series::{Aggregation, InstrumentKind, MetricId, MetricSpec};

pub const CONDITION: MetricId = MetricId(0);
pub const CPU_ALLOCATABLE: MetricId = MetricId(1);
pub const MEMORY_ALLOCATABLE: MetricId = MetricId(2);
pub const EPHEMERAL_ALLOCATABLE: MetricId = MetricId(3);
pub const POD_ALLOCATABLE: MetricId = MetricId(4);
pub const CPU_CAPACITY: MetricId = MetricId(5);
pub const MEMORY_CAPACITY: MetricId = MetricId(6);
pub const EPHEMERAL_CAPACITY: MetricId = MetricId(7);
pub const POD_CAPACITY: MetricId = MetricId(8);
pub const CPU_REQUEST: MetricId = MetricId(9);
pub const MEMORY_REQUEST: MetricId = MetricId(10);
pub const CPU_LIMIT: MetricId = MetricId(11);
pub const MEMORY_LIMIT: MetricId = MetricId(12);
pub const POD_COUNT: MetricId = MetricId(13);
pub const UNSCHEDULABLE: MetricId = MetricId(14);
pub const INFO: MetricId = MetricId(15);
pub const CLUSTER_NODES: MetricId = MetricId(16);
pub const CLUSTER_PODS: MetricId = MetricId(17);

fn up_down(name: &str, unit: &str, description: &str) -> MetricSpec {
    MetricSpec {
        kind: InstrumentKind::UpDownCounter,
        aggregation: Aggregation::PerObject,
        ..MetricSpec::gauge(name, unit, description)
    }
}

/// Every metric, in the order of the ids above.
pub fn specs() -> Vec<MetricSpec> {
    vec![
        up_down(
            "k8s.node.condition.status",
            "{node}",
            "Node condition: 1 for the current status of each type, 0 for the others",
        ),
        up_down("k8s.node.cpu.allocatable", "{cpu}", "CPU of the node available to pods"),
        up_down("k8s.node.memory.allocatable", "By", "Memory of the node available to pods"),
        up_down(
            "k8s.node.ephemeral_storage.allocatable",
            "By",
            "Ephemeral storage of the node available to pods",
        ),
        up_down("k8s.node.pod.allocatable", "{pod}", "Pods the node can hold"),
        up_down("k8s.node.cpu.capacity", "{cpu}", "CPU of the node"),
        up_down("k8s.node.memory.capacity", "By", "Memory of the node"),
        up_down("k8s.node.ephemeral_storage.capacity", "By", "Ephemeral storage of the node"),
        up_down("k8s.node.pod.capacity", "{pod}", "Pod capacity of the node"),
        up_down("k8s.node.cpu.request", "{cpu}", "CPU requested by the non-terminated pods on the node"),
        up_down("k8s.node.memory.request", "By", "Memory requested by the non-terminated pods on the node"),
        up_down("k8s.node.cpu.limit", "{cpu}", "CPU limits of the non-terminated pods on the node"),
        up_down("k8s.node.memory.limit", "By", "Memory limits of the non-terminated pods on the node"),
        up_down("k8s.node.pod.count", "{pod}", "Pods on the node by phase"),
        MetricSpec::gauge("k8s.node.unschedulable", "1", "1 when the node is cordoned"),
        MetricSpec::gauge("k8s.node.info", "1", "Always 1; the attributes describe the node"),
        up_down("k8s.cluster.node.count", "{node}", "Nodes by Ready condition status"),
        up_down("k8s.cluster.pod.count", "{pod}", "Pods by phase, scheduled or not"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_match_spec_order() {
        let specs = specs();
        let at = |id: MetricId| specs[id.0 as usize].name.as_str();
        assert_eq!(specs.len(), 18);
        assert_eq!(at(CONDITION), "k8s.node.condition.status");
        assert_eq!(at(POD_CAPACITY), "k8s.node.pod.capacity");
        assert_eq!(at(MEMORY_LIMIT), "k8s.node.memory.limit");
        assert_eq!(at(INFO), "k8s.node.info");
        assert_eq!(at(CLUSTER_PODS), "k8s.cluster.pod.count");
        for spec in &specs {
            crate::collectors::shared::instrument::validate_instrument_name(&spec.name).unwrap();
        }
    }
}
