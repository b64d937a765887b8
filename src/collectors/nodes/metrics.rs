//! The metrics of the nodes collector: names, units, instrument kinds and attributes (SPEC §5),
//! following the OpenTelemetry k8s semantic conventions (resource amounts and counts are
//! UpDownCounters there; flags and info are gauges).

use crate::collectors::declare::declare_metrics;

/// The node's name; rows are keyed by it.
pub const NODE_NAME: &str = "k8s.node.name";
/// The node's uid.
pub const NODE_UID: &str = "k8s.node.uid";
/// A node condition's type (`Ready`, `MemoryPressure`, ...).
pub const CONDITION_TYPE: &str = "k8s.node.condition.type";
/// A status a condition point stands for (`true`, `false`, `unknown`).
pub const CONDITION_STATUS: &str = "k8s.node.condition.status";
/// A pod phase (`Pending`, `Running`, ...).
pub const POD_PHASE: &str = "k8s.pod.status.phase";
/// The status of a node's Ready condition, in the cluster node count.
pub const READY: &str = "ready";
/// `nodeInfo.kubeletVersion`.
pub const KUBELET_VERSION: &str = "k8s.kubelet.version";
/// `nodeInfo.containerRuntimeVersion`.
pub const CONTAINER_RUNTIME_VERSION: &str = "container.runtime.version";
/// `nodeInfo.osImage`.
pub const OS_DESCRIPTION: &str = "os.description";
/// `nodeInfo.kernelVersion`.
pub const KERNEL_VERSION: &str = "k8s.node.kernel.version";
/// The node's roles from its `node-role.kubernetes.io/<role>` labels.
pub const ROLES: &str = "k8s.node.roles";
/// The node's `InternalIP` address.
pub const INTERNAL_IP: &str = "k8s.node.internal_ip";

declare_metrics! {
    /// Every metric of the nodes collector; the discriminant indexes the table's specs.
    pub enum NodeMetric {
        Condition {
            name: "k8s.node.condition.status",
            unit: "{node}",
            instrument: UpDownCounter,
            description: "Node condition: 1 for the current status of each type, 0 for the others",
            attributes: [NODE_NAME, NODE_UID, CONDITION_TYPE, CONDITION_STATUS],
        },
        CpuAllocatable {
            name: "k8s.node.cpu.allocatable",
            unit: "{cpu}",
            instrument: UpDownCounter,
            description: "CPU of the node available to pods",
            attributes: [NODE_NAME, NODE_UID],
        },
        MemoryAllocatable {
            name: "k8s.node.memory.allocatable",
            unit: "By",
            instrument: UpDownCounter,
            description: "Memory of the node available to pods",
            attributes: [NODE_NAME, NODE_UID],
        },
        EphemeralAllocatable {
            name: "k8s.node.ephemeral_storage.allocatable",
            unit: "By",
            instrument: UpDownCounter,
            description: "Ephemeral storage of the node available to pods",
            attributes: [NODE_NAME, NODE_UID],
        },
        PodAllocatable {
            name: "k8s.node.pod.allocatable",
            unit: "{pod}",
            instrument: UpDownCounter,
            description: "Pods the node can hold",
            attributes: [NODE_NAME, NODE_UID],
        },
        CpuCapacity {
            name: "k8s.node.cpu.capacity",
            unit: "{cpu}",
            instrument: UpDownCounter,
            description: "CPU of the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        MemoryCapacity {
            name: "k8s.node.memory.capacity",
            unit: "By",
            instrument: UpDownCounter,
            description: "Memory of the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        EphemeralCapacity {
            name: "k8s.node.ephemeral_storage.capacity",
            unit: "By",
            instrument: UpDownCounter,
            description: "Ephemeral storage of the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        PodCapacity {
            name: "k8s.node.pod.capacity",
            unit: "{pod}",
            instrument: UpDownCounter,
            description: "Pod capacity of the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        CpuRequest {
            name: "k8s.node.cpu.request",
            unit: "{cpu}",
            instrument: UpDownCounter,
            description: "CPU requested by the non-terminated pods on the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        MemoryRequest {
            name: "k8s.node.memory.request",
            unit: "By",
            instrument: UpDownCounter,
            description: "Memory requested by the non-terminated pods on the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        CpuLimit {
            name: "k8s.node.cpu.limit",
            unit: "{cpu}",
            instrument: UpDownCounter,
            description: "CPU limits of the non-terminated pods on the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        MemoryLimit {
            name: "k8s.node.memory.limit",
            unit: "By",
            instrument: UpDownCounter,
            description: "Memory limits of the non-terminated pods on the node",
            attributes: [NODE_NAME, NODE_UID],
        },
        PodCount {
            name: "k8s.node.pod.count",
            unit: "{pod}",
            instrument: UpDownCounter,
            description: "Pods on the node by phase",
            attributes: [NODE_NAME, NODE_UID, POD_PHASE],
        },
        Unschedulable {
            name: "k8s.node.unschedulable",
            unit: "1",
            instrument: Gauge,
            description: "1 when the node is cordoned",
            attributes: [NODE_NAME, NODE_UID],
        },
        Info {
            name: "k8s.node.info",
            unit: "1",
            instrument: Gauge,
            description: "Always 1; the attributes describe the node",
            attributes: [
                NODE_NAME,
                NODE_UID,
                KUBELET_VERSION,
                CONTAINER_RUNTIME_VERSION,
                OS_DESCRIPTION,
                KERNEL_VERSION,
                ROLES,
                INTERNAL_IP,
            ],
        },
        ClusterNodes {
            name: "k8s.cluster.node.count",
            unit: "{node}",
            instrument: UpDownCounter,
            description: "Nodes by Ready condition status",
            attributes: [READY],
        },
        ClusterPods {
            name: "k8s.cluster.pod.count",
            unit: "{pod}",
            instrument: UpDownCounter,
            description: "Pods by phase, scheduled or not",
            attributes: [POD_PHASE],
        },
    }
}
