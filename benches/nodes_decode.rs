//! Per-object decode cost of the nodes collector's watch against its floor (parsing the same
//! bytes with `serde_json` alone): k8s-openapi's full `Pod` and `Node`, which the collector
//! decoded before, and its own types, which keep only what it reads. The metadata group shows
//! what a full `ObjectMeta` costs against the few members the own types keep, with the managed
//! fields a real API server sends.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_state_otel::collectors::nodes::{WatchedNode, WatchedPod};
use kube_state_otel_testkit::scale::{node, pod};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

/// Benchmarks decoding `bytes` as `T` under `name`.
fn decode<T: DeserializeOwned>(
    group: &mut BenchmarkGroup<'_, impl criterion::measurement::Measurement>,
    name: &str,
    bytes: &[u8],
) {
    group
        .bench_function(name, |b| b.iter(|| serde_json::from_slice::<T>(black_box(bytes)).expect("decodes")));
}

fn objects(c: &mut Criterion) {
    for (kind, object) in [("pod", pod(4242, 5000)), ("node", node(42))] {
        let bytes = serde_json::to_vec(&object).expect("serializable");
        let mut group = c.benchmark_group(kind);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        decode::<Value>(&mut group, "floor_serde_json_parse", &bytes);
        if kind == "pod" {
            decode::<Pod>(&mut group, "before_k8s_openapi", &bytes);
            decode::<WatchedPod>(&mut group, "watched", &bytes);
        } else {
            decode::<Node>(&mut group, "before_k8s_openapi", &bytes);
            decode::<WatchedNode>(&mut group, "watched", &bytes);
        }
        group.finish();
    }
}

/// A pod's metadata as an API server sends it, managed fields included.
fn server_metadata() -> Value {
    let mut metadata = pod(4242, 5000)["metadata"].clone();
    metadata["resourceVersion"] = json!("81234");
    metadata["creationTimestamp"] = json!("2026-11-22T10:00:00Z");
    metadata["managedFields"] = json!([
        {"manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1", "time": "2026-11-22T10:00:00Z",
         "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}},
            "f:ownerReferences": {".": {}, "k:{\"uid\":\"x\"}": {}}}, "f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {".": {}, "f:image": {}, "f:name": {}, "f:resources": {".": {}, "f:limits": {}, "f:requests": {}}}}}}},
        {"manager": "kubelet", "operation": "Update", "apiVersion": "v1", "time": "2026-11-22T10:00:05Z",
         "fieldsType": "FieldsV1", "subresource": "status",
         "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}}}, "f:phase": {}, "f:podIP": {}}}}
    ]);
    metadata
}

fn metadata(c: &mut Criterion) {
    let metadata = server_metadata();
    let alone = serde_json::to_vec(&metadata).expect("serializable");
    let wrapped = serde_json::to_vec(&json!({ "metadata": metadata })).expect("serializable");
    let mut group = c.benchmark_group("pod_metadata");
    group.throughput(Throughput::Bytes(alone.len() as u64));
    decode::<Value>(&mut group, "floor_serde_json_parse", &alone);
    decode::<ObjectMeta>(&mut group, "before_object_meta", &alone);
    decode::<WatchedPod>(&mut group, "watched", &wrapped);
    group.finish();
}

criterion_group!(benches, objects, metadata);
criterion_main!(benches);
