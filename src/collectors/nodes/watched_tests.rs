//! The collector's own Pod and Node types against k8s-openapi's: realistic objects, and random
//! edits of them, decode to the same facts and points both ways; what the typed decode refused
//! in a member the collector reads is still refused.
//!
//! The typed side is converted member by member (`from_typed_*`), so a member the own types
//! name wrongly, or skip when they should read it, shows up as a difference.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as typed;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_state_otel_testkit::arbitrary::{apply, cases, edit};
use kube_state_otel_testkit::scale;
use proptest::prelude::*;
use serde_json::{json, Value};

use super::config::NodesConfig;
use super::node::node_points;
use super::pod_parts::{Container, PodSpec, PodStatus, ResourceRequirements, Resources};
use super::watched_node::{NodeAddress, NodeCondition, NodeSpec, NodeStatus, NodeSystemInfo, WatchedNode};
use super::watched_pod::reduce_pod;
use super::watched_pod::WatchedPod;

fn resources(list: Option<BTreeMap<String, Quantity>>) -> Option<Resources> {
    list.map(|mut l| Resources { cpu: l.remove("cpu"), memory: l.remove("memory") })
}

fn container(c: typed::Container) -> Container {
    Container {
        resources: c
            .resources
            .map(|r| ResourceRequirements { requests: resources(r.requests), limits: resources(r.limits) }),
        restart_policy: c.restart_policy,
    }
}

/// What the typed decode gives, in the own type.
fn from_typed_pod(p: typed::Pod) -> WatchedPod {
    let metadata = ObjectMeta {
        uid: p.metadata.uid,
        resource_version: p.metadata.resource_version,
        ..ObjectMeta::default()
    };
    let spec = p.spec.map(|s| PodSpec {
        node_name: s.node_name,
        containers: Some(s.containers.into_iter().map(container).collect()),
        init_containers: s.init_containers.map(|l| l.into_iter().map(container).collect()),
        overhead: resources(s.overhead),
    });
    let status = p.status.map(|s| PodStatus { phase: s.phase });
    WatchedPod::from_parts(metadata, spec.as_ref(), status.as_ref())
}

/// What the typed decode gives, in the own type.
fn from_typed_node(n: typed::Node) -> WatchedNode {
    WatchedNode {
        metadata: ObjectMeta {
            name: n.metadata.name,
            uid: n.metadata.uid,
            resource_version: n.metadata.resource_version,
            labels: n.metadata.labels,
            ..ObjectMeta::default()
        },
        spec: n.spec.map(|s| NodeSpec { unschedulable: s.unschedulable }),
        status: n.status.map(|s| NodeStatus {
            conditions: s
                .conditions
                .map(|l| l.into_iter().map(|c| NodeCondition { type_: c.type_, status: c.status }).collect()),
            addresses: s
                .addresses
                .map(|l| l.into_iter().map(|a| NodeAddress { type_: a.type_, address: a.address }).collect()),
            allocatable: s.allocatable,
            capacity: s.capacity,
            node_info: s.node_info.map(|i| NodeSystemInfo {
                kubelet_version: i.kubelet_version,
                container_runtime_version: i.container_runtime_version,
                os_image: i.os_image,
                kernel_version: i.kernel_version,
            }),
        }),
    }
}

/// Metadata as a real API server sends it: managed fields, annotations, owners.
fn with_server_metadata(mut object: Value) -> Value {
    let meta = object["metadata"].as_object_mut().unwrap();
    meta.insert("resourceVersion".into(), json!("81234"));
    meta.insert("creationTimestamp".into(), json!("2026-11-22T10:00:00Z"));
    meta.insert("annotations".into(), json!({"kubectl.kubernetes.io/restartedAt": "2026-11-22T09:59:00Z"}));
    meta.insert(
        "managedFields".into(),
        json!([{"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-22T10:00:05Z",
                "fieldsType": "FieldsV1", "subresource": "status",
                "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}}}}}}]),
    );
    object
}

/// Pods of every shape the reduction distinguishes.
fn pods() -> Vec<Value> {
    let mut sidecars = with_server_metadata(scale::pod(7, 5));
    sidecars["spec"]["initContainers"] = json!([
        {"name": "mesh", "image": "mesh:1", "restartPolicy": "Always",
         "resources": {"requests": {"cpu": "100m", "memory": "32Mi", "ephemeral-storage": "1Gi"}, "limits": {"cpu": "1"}}},
        {"name": "migrate", "image": "migrate:1", "command": ["/migrate"],
         "resources": {"requests": {"cpu": 2, "memory": "1Gi"}, "limits": {"cpu": "3", "memory": "2Gi"}}}
    ]);
    sidecars["spec"]["overhead"] = json!({"cpu": "250m", "memory": "120Mi"});
    let mut pending = scale::pod(8, 5);
    pending["spec"].as_object_mut().unwrap().remove("nodeName");
    pending["status"] =
        json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False"}]});
    let mut done = with_server_metadata(scale::pod(9, 5));
    done["status"]["phase"] = json!("Succeeded");
    vec![scale::pod(1, 5), with_server_metadata(scale::pod(2, 5)), sidecars, pending, done]
}

fn nodes() -> Vec<Value> {
    let mut cordoned = with_server_metadata(scale::node(3));
    cordoned["spec"]["unschedulable"] = json!(true);
    cordoned["spec"]["taints"] = json!([{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]);
    cordoned["metadata"]["labels"]["node-role.kubernetes.io/control-plane"] = json!("");
    cordoned["status"]["capacity"]["hugepages-2Mi"] = json!("0");
    cordoned["status"]["daemonEndpoints"] = json!({"kubeletEndpoint": {"Port": 10250}});
    vec![scale::node(1), with_server_metadata(scale::node(2)), cordoned]
}

/// The shipped example objects, read as `render` reads them.
fn examples(kind: &str) -> Vec<Value> {
    let text = include_str!("../../../config/examples/nodes/objects.yaml");
    let list: Value = serde_saphyr::from_str(text).expect("the example objects parse");
    list["items"].as_array().unwrap().iter().filter(|o| o["kind"] == kind).cloned().collect()
}

/// Pod `text` decoded both ways; `None` when the typed decode fails.
fn pod_both_ways(text: &str) -> (Option<WatchedPod>, serde_json::Result<WatchedPod>) {
    let typed = serde_json::from_str::<typed::Pod>(text).ok().map(from_typed_pod);
    (typed, serde_json::from_str::<WatchedPod>(text))
}

fn node_both_ways(text: &str) -> (Option<WatchedNode>, serde_json::Result<WatchedNode>) {
    let typed = serde_json::from_str::<typed::Node>(text).ok().map(from_typed_node);
    (typed, serde_json::from_str::<WatchedNode>(text))
}

#[test]
fn realistic_pods_decode_to_what_the_typed_pod_holds() {
    for (i, pod) in pods().into_iter().chain(examples("Pod")).enumerate() {
        let (typed, pruned) = pod_both_ways(&pod.to_string());
        let (typed, pruned) = (typed.expect("the typed decode takes it"), pruned.unwrap());
        assert_eq!(pruned, typed, "pod {i}");
        assert_eq!(reduce_pod(&pruned), reduce_pod(&typed), "pod {i}");
        assert!(reduce_pod(&pruned).is_some(), "pod {i}");
    }
}

#[test]
fn realistic_nodes_decode_to_what_the_typed_node_holds() {
    let config = NodesConfig::default();
    for (i, node) in nodes().into_iter().chain(examples("Node")).enumerate() {
        let (typed, pruned) = node_both_ways(&node.to_string());
        let (typed, pruned) = (typed.expect("the typed decode takes it"), pruned.unwrap());
        assert_eq!(pruned, typed, "node {i}");
        let points = node_points(&pruned, &config);
        assert_eq!(points, node_points(&typed, &config), "node {i}");
        assert!(points.is_some_and(|p| p.points.len() > 10), "node {i}");
    }
}

#[test]
fn odd_members_nobody_reads_no_longer_fail_the_decode() {
    let mut pod = scale::pod(1, 5);
    pod["spec"]["containers"][0]["ports"] = json!("not a list");
    pod["spec"]["containers"][0]["resources"]["requests"]["nvidia.com/gpu"] = json!({"odd": true});
    pod["status"]["containerStatuses"] = json!(3);
    pod["metadata"]["annotations"] = json!(["no", "map"]);
    let (typed, pruned) = pod_both_ways(&pod.to_string());
    assert!(typed.is_none(), "the typed decode refused the pod");
    let facts = reduce_pod(&pruned.unwrap()).unwrap().1;
    assert_eq!((facts.requests.cpu_milli, facts.node.as_deref()), (300, Some("node-00001")));

    let mut node = scale::node(1);
    node["status"]["images"] = json!("none");
    node["status"]["nodeInfo"].as_object_mut().unwrap().remove("bootID");
    node["status"]["conditions"][0]["lastHeartbeatTime"] = json!(12);
    node["status"]["capacity"] = Value::Null;
    let (_, pruned) = node_both_ways(&node.to_string());
    let points = node_points(&pruned.unwrap(), &NodesConfig::default()).unwrap();
    assert!(points.errors.is_empty() && !points.points.is_empty());
}

#[test]
fn wrong_types_in_read_members_still_fail_the_decode() {
    let pod = scale::pod(1, 5);
    let mut node = scale::node(1);
    node["spec"]["unschedulable"] = json!(false);
    let odd = [
        ("/spec/nodeName", json!(7)),
        ("/spec/containers", json!({"name": "app"})),
        ("/spec/containers/0/resources", json!([{"requests": {"cpu": "1"}}])),
        ("/spec/containers/0/resources/requests/cpu", json!(true)),
        ("/status", json!(["Running"])),
        ("/status/phase", json!({"Running": true})),
        ("/metadata/uid", json!(1)),
    ];
    for (at, value) in odd {
        let mut pod = pod.clone();
        *pod.pointer_mut(at).unwrap() = value;
        let (typed, pruned) = pod_both_ways(&pod.to_string());
        assert!(typed.is_none() && pruned.is_err(), "pod {at}");
    }
    let odd = [
        ("/spec/unschedulable", json!("yes")),
        ("/status/conditions/0", json!(["Ready", "True"])),
        ("/status/conditions/0/status", json!(true)),
        ("/status/allocatable", json!(3)),
        ("/status/nodeInfo/osImage", json!(["linux"])),
        ("/metadata/labels/kubernetes.io~1os", json!(1)),
    ];
    for (at, value) in odd {
        let mut node = node.clone();
        *node.pointer_mut(at).unwrap() = value;
        let (typed, pruned) = node_both_ways(&node.to_string());
        assert!(typed.is_none() && pruned.is_err(), "node {at}");
    }
}

proptest! {
    #![proptest_config(cases(256))]

    /// Whatever the typed decode takes, the own types take with the same facts; whatever they
    /// refuse, the typed decode refused too.
    #[test]
    fn edited_pods_reduce_as_the_typed_pod(which in 0usize..5, edits in prop::collection::vec(edit(), 1..4)) {
        let pod = edits.iter().fold(pods()[which].clone(), |doc, e| apply(&doc, e));
        let (typed, pruned) = pod_both_ways(&pod.to_string());
        match (typed, pruned) {
            (Some(typed), Ok(pruned)) => prop_assert_eq!(reduce_pod(&pruned), reduce_pod(&typed)),
            (Some(_), Err(e)) => prop_assert!(false, "only the own type refused: {}", e),
            (None, _) => {}
        }
    }

    #[test]
    fn edited_nodes_give_the_typed_nodes_points(which in 0usize..3, edits in prop::collection::vec(edit(), 1..4)) {
        let node = edits.iter().fold(nodes()[which].clone(), |doc, e| apply(&doc, e));
        let config = NodesConfig::default();
        let (typed, pruned) = node_both_ways(&node.to_string());
        match (typed, pruned) {
            (Some(typed), Ok(pruned)) => {
                prop_assert_eq!(node_points(&pruned, &config), node_points(&typed, &config))
            }
            (Some(_), Err(e)) => prop_assert!(false, "only the own type refused: {}", e),
            (None, _) => {}
        }
    }
}
