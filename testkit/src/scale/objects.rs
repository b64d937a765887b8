//! Synthetic objects of realistic size for the scale harness: KubeBlocks `Cluster` custom
//! resources (~3 KB, with status, conditions and a components map), nodes and pods, and the
//! agent configuration that watches them (a five-metric CRD config plus the nodes collector).

use serde_json::{json, Value};

use crate::fake_apiserver::ResourceSpec;

/// The custom resource served by the fake API server.
pub fn cluster_resource() -> ResourceSpec {
    ResourceSpec::new("apps.kubeblocks.io", "v1alpha1", "Cluster", "clusters", true)
}

/// The custom resource's name in the agent config (its watch events count as `crds/<name>`).
pub const CRD_RESOURCE: &str = "kubeblocks-cluster";

/// The custom resource's `maxSeries`: room for 100 points per cluster of a million.
const MAX_SERIES: usize = 100_000_000;

/// Objects are spread over this many namespaces.
const NAMESPACES: usize = 500;

const PHASES: [&str; 8] =
    ["Creating", "Running", "Updating", "Stopping", "Stopped", "Deleting", "Failed", "Abnormal"];
const COMPONENTS: [(&str, &str); 3] = [("mysql", "mysql"), ("proxy", "wescale"), ("etcd", "etcd")];
const CONDITIONS: [(&str, &str); 4] = [
    ("ProvisioningStarted", "PreCheckSucceed"),
    ("ApplyResources", "ApplyResourcesSucceed"),
    ("ReplicasReady", "AllReplicasReady"),
    ("Ready", "ClusterReady"),
];

pub fn namespace_of(i: usize) -> String {
    format!("tenant-{:04}", i % NAMESPACES)
}

pub fn cluster_name(i: usize) -> String {
    format!("db-{i:07}")
}

/// A deterministic version-4 style UID, unique per `(kind, i)`.
fn uid(kind: u8, i: usize) -> String {
    format!("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", i, kind, i % 4096, (i / 4096) % 4096, i)
}

/// Most clusters run; one in eight is in another phase.
fn phase_of(i: usize, revision: u64) -> &'static str {
    let slot = (i as u64).wrapping_mul(2654435761).wrapping_add(revision) % 64;
    if slot < 56 {
        "Running"
    } else {
        PHASES[(slot % 8) as usize]
    }
}

/// Cluster `i` at `revision` (the churn phase bumps the revision to change its status).
pub fn cluster(i: usize, revision: u64) -> Value {
    let name = cluster_name(i);
    let namespace = namespace_of(i);
    let phase = phase_of(i, revision);
    let component_specs: Vec<Value> = COMPONENTS
        .iter()
        .map(|(component, def)| {
            json!({
                "name": component,
                "componentDefRef": def,
                "replicas": 3,
                "monitor": true,
                "serviceAccountName": format!("kb-{name}"),
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}},
                "volumeClaimTemplates": [{
                    "name": "data",
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}, "storageClassName": "openebs-lvmpv"}
                }],
            })
        })
        .collect();
    let components: serde_json::Map<String, Value> = COMPONENTS
        .iter()
        .enumerate()
        .map(|(c, (component, _))| {
            let component_phase = if c == 0 { phase } else { "Running" };
            let value = json!({
                "phase": component_phase,
                "podsReady": component_phase == "Running",
                "podsReadyTime": "2026-11-20T08:15:42Z",
                "message": {},
            });
            (component.to_string(), value)
        })
        .collect();
    let conditions: Vec<Value> = CONDITIONS
        .iter()
        .map(|(kind, reason)| {
            let ready = *kind != "Ready" || phase == "Running";
            json!({
                "type": kind,
                "status": if ready { "True" } else { "False" },
                "reason": if ready { *reason } else { "ComponentsNotReady" },
                "message": format!("{kind} of Cluster {name} in {namespace}: {reason}"),
                "lastTransitionTime": "2026-11-20T08:15:42Z",
                "observedGeneration": 3,
            })
        })
        .collect();
    json!({
        "apiVersion": "apps.kubeblocks.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": uid(1, i),
            "generation": 3,
            "labels": {
                "app.kubernetes.io/instance": name,
                "app.kubernetes.io/managed-by": "kubeblocks",
                "clusterdefinition.kubeblocks.io/name": "apecloud-mysql",
                "clusterversion.kubeblocks.io/name": "ac-mysql-8.0.30",
                "sealos-db-provider-cr": name,
            },
            "annotations": {"kubeblocks.io/reconcile": format!("2026-11-20T08:15:42Z/{revision}")},
            "finalizers": ["cluster.kubeblocks.io/finalizer"],
        },
        "spec": {
            "clusterDefinitionRef": "apecloud-mysql",
            "clusterVersionRef": "ac-mysql-8.0.30",
            "terminationPolicy": "Delete",
            "affinity": {"podAntiAffinity": "Preferred", "topologyKeys": ["kubernetes.io/hostname"], "tenancy": "SharedNode"},
            "tolerations": [{"key": "kb-data", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
            "componentSpecs": component_specs,
        },
        "status": {
            "phase": phase,
            "observedGeneration": 3,
            "clusterDefGeneration": 2,
            "components": components,
            "conditions": conditions,
        },
    })
}

pub fn node_name(i: usize) -> String {
    format!("node-{i:05}")
}

/// A worker node as the kubelet reports it (conditions, addresses, node info, images).
pub fn node(i: usize) -> Value {
    let name = node_name(i);
    let images: Vec<Value> = (0..8)
        .map(|k| {
            json!({
                "names": [format!("registry.example.com/platform/image-{k}@sha256:{:064x}", k * 7919 + 1), format!("registry.example.com/platform/image-{k}:v1.{k}.0")],
                "sizeBytes": 50_000_000 + k * 1_000_003,
            })
        })
        .collect();
    let condition = |kind: &str, status: &str, reason: &str| {
        json!({"type": kind, "status": status, "reason": reason, "message": format!("kubelet reports {reason}"),
               "lastHeartbeatTime": "2026-11-23T10:00:00Z", "lastTransitionTime": "2026-11-01T10:00:00Z"})
    };
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": uid(2, i),
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node-role.kubernetes.io/worker": "",
                "topology.kubernetes.io/zone": format!("zone-{}", i % 3),
            },
        },
        "spec": {"podCIDR": format!("10.{}.{}.0/24", (i / 256) % 256, i % 256), "providerID": format!("fake://{name}")},
        "status": {
            "capacity": {"cpu": "16", "memory": "65843212Ki", "ephemeral-storage": "203056560Ki", "pods": "110"},
            "allocatable": {"cpu": "15800m", "memory": "64692236Ki", "ephemeral-storage": "187136925387", "pods": "110"},
            "conditions": [
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID"),
                condition("Ready", "True", "KubeletReady"),
            ],
            "addresses": [{"type": "InternalIP", "address": format!("10.0.{}.{}", (i / 256) % 256, i % 256)}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": "v1.35.0", "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://2.1.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)", "kernelVersion": "6.1.0-28-amd64",
                "architecture": "amd64", "operatingSystem": "linux",
                "machineID": format!("{:032x}", i), "systemUUID": uid(3, i), "bootID": uid(4, i),
            },
            "images": images,
        },
    })
}

pub fn pod_name(i: usize) -> String {
    format!("app-{i:06}")
}

/// A running pod with two containers, scheduled on one of `nodes` nodes.
pub fn pod(i: usize, nodes: usize) -> Value {
    let name = pod_name(i);
    let node = node_name(i % nodes.max(1));
    let container = |c: &str, cpu: &str, memory: &str| {
        json!({
            "name": c,
            "image": format!("registry.example.com/apps/{c}:1.4.{}", i % 10),
            "ports": [{"containerPort": 8080, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
        })
    };
    let status = |c: &str| {
        json!({"name": c, "ready": true, "restartCount": i % 3, "image": format!("registry.example.com/apps/{c}:1.4.{}", i % 10),
               "containerID": format!("containerd://{:064x}", i), "started": true,
               "state": {"running": {"startedAt": "2026-11-22T10:00:00Z"}}})
    };
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace_of(i),
            "uid": uid(5, i),
            "labels": {"app": format!("app-{}", i % 100), "pod-template-hash": format!("{:x}", i % 65536)},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("app-{}-{:x}", i % 100, i % 65536), "uid": uid(6, i), "controller": true}],
        },
        "spec": {
            "nodeName": node,
            "containers": [container("app", "250m", "256Mi"), container("sidecar", "50m", "64Mi")],
            "restartPolicy": "Always",
            "serviceAccountName": "default",
        },
        "status": {
            "phase": "Running",
            "podIP": format!("10.{}.{}.{}", (i / 65536) % 256, (i / 256) % 256, i % 256),
            "hostIP": "10.0.0.1",
            "qosClass": "Burstable",
            "startTime": "2026-11-22T10:00:00Z",
            "conditions": [
                {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-11-22T10:00:00Z"},
                {"type": "Ready", "status": "True", "lastTransitionTime": "2026-11-22T10:00:05Z"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "2026-11-22T10:00:05Z"},
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-11-22T10:00:00Z"},
            ],
            "containerStatuses": [status("app"), status("sidecar")],
        },
    })
}

/// The agent's configuration: the five KubeBlocks cluster metrics of the example config and
/// the nodes collector, exporting to `otlp_endpoint` every `interval_ms`. `maxSeries` is raised
/// far above its default (100,000 points per resource, about 5,900 of these clusters) so that
/// every object's points are held.
pub fn agent_config(kubeconfig: &str, otlp_endpoint: &str, health_port: u16, interval_ms: u64) -> String {
    agent_config_with(kubeconfig, otlp_endpoint, health_port, interval_ms, ConfigExtras::default())
}

/// What the harness sets beyond [`agent_config`]'s defaults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfigExtras<'a> {
    /// `export.otlp.compression` (`none`, `gzip`, `zstd`); absent: the agent's default.
    pub compression: Option<&'a str>,
    /// `sharding: {totalShards, shard}` as `(total, shard)`.
    pub shard: Option<(u32, u32)>,
}

/// [`agent_config`] with a compression and a shard.
pub fn agent_config_with(
    kubeconfig: &str,
    otlp_endpoint: &str,
    health_port: u16,
    interval_ms: u64,
    extras: ConfigExtras,
) -> String {
    let compression = extras.compression.map(|c| format!(", compression: {c}")).unwrap_or_default();
    let sharding = extras
        .shard
        .map(|(total, shard)| format!("sharding: {{totalShards: {total}, shard: {shard}}}\n"))
        .unwrap_or_default();
    format!(
        r#"kubernetes: {{kubeconfig: "{kubeconfig}", qps: 1000, burst: 2000}}
export:
  interval: {interval_ms}ms
  timeout: 60s
  otlp: {{endpoint: "{otlp_endpoint}"{compression}}}
{sharding}server: {{listen: "127.0.0.1:{health_port}"}}
logging: {{level: info, format: text}}
leaderElection: {{enabled: false}}
collectors:
  nodes: {{enabled: true}}
  crds:
    enabled: true
    metricsNamespace: sealos
    resources:
      - name: {CRD_RESOURCE}
        gvr: {{group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}}
        commonLabels: {{cluster: metadata.name, namespace: metadata.namespace}}
        maxSeries: {MAX_SERIES}
        metrics:
          - {{type: state, name: phase, path: status.phase, states: [{states}]}}
          - {{type: map_state, name: component_phase, path: status.components, keyLabel: component, valueLabel: phase, valuePath: phase}}
          - {{type: conditions, name: condition, path: status.conditions}}
          - type: info
            name: info
            labels: {{cluster_definition: spec.clusterDefinitionRef, cluster_version: spec.clusterVersionRef, termination_policy: spec.terminationPolicy}}
          - {{type: count, name: by_phase, path: status.phase, valueLabel: phase}}
"#,
        states = PHASES.join(", "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_have_realistic_sizes() {
        let size = |v: Value| serde_json::to_vec(&v).unwrap().len();
        let cluster = size(cluster(12345, 0));
        assert!((2500..3500).contains(&cluster), "cluster is {cluster} bytes");
        assert!(size(node(7)) > 2000);
        assert!(size(pod(7, 5)) > 1500);
    }

    #[test]
    fn extras_go_into_the_config() {
        let plain = agent_config("k", "http://e", 1, 1000);
        assert!(!plain.contains("compression") && !plain.contains("sharding"));
        let extras = ConfigExtras { compression: Some("none"), shard: Some((3, 1)) };
        let text = agent_config_with("k", "http://e", 1, 1000, extras);
        assert!(text.contains(r#"otlp: {endpoint: "http://e", compression: none}"#), "{text}");
        assert!(text.contains("\nsharding: {totalShards: 3, shard: 1}\nserver:"), "{text}");
    }

    #[test]
    fn churn_changes_the_status() {
        let changed = (0..64).filter(|r| cluster(3, *r)["status"] != cluster(3, 0)["status"]).count();
        assert!(changed > 0);
        assert_eq!(cluster(3, 5)["metadata"]["name"], "db-0000003");
    }
}
