//! Per-object cost of the custom-resource pipeline against its floor, parsing the same bytes
//! with `serde_json` alone: path compilation, extraction, the agent's whole per-object path
//! (decode only the members the resource reads, as the watch does, then extract), the path it
//! replaced (decode into `DynamicObject`, turn it into one JSON value, extract), a whole list
//! page as the watch handles it, as the watch finds its objects and as the depth guard scans it,
//! and value conversion.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kube::api::DynamicObject;
use kube_state_otel::collectors::crds::{
    compile_crds, decode_watched, extract, into_value, to_number, CompiledResource, Needed, Path,
};
use kube_state_otel::config::{load_str, Env};
use kube_state_otel::kubernetes::guard_text;
use kube_state_otel::kubernetes::list_items::layout;
use kube_state_otel::series::SeriesTable;
use kube_state_otel_testkit::scale::{agent_config, cluster};
use serde_json::Value;

fn resource() -> CompiledResource {
    let yaml = agent_config("", "http://127.0.0.1:4317", 8080, 10_000);
    let config = load_str(&yaml, &Env::from_pairs::<&str, &str>([])).expect("scale config loads");
    compile_crds(&config.config.collectors.crds).expect("scale config compiles").remove(0)
}

fn compilation(c: &mut Criterion) {
    let yaml = agent_config("", "http://127.0.0.1:4317", 8080, 10_000);
    let config = load_str(&yaml, &Env::from_pairs::<&str, &str>([])).expect("scale config loads");
    c.bench_function("compile/path", |b| {
        b.iter(|| Path::compile(black_box("status.components.mysql.phase")))
    });
    c.bench_function("compile/crd_config_5_metrics", |b| {
        b.iter(|| compile_crds(black_box(&config.config.collectors.crds)))
    });
}

fn per_object(c: &mut Criterion) {
    let resource = resource();
    let bytes = serde_json::to_vec(&cluster(4242, 0)).expect("serializable");
    let value: Value = serde_json::from_slice(&bytes).expect("valid JSON");
    let mut group = c.benchmark_group("object");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("floor_serde_json_parse", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&bytes)).expect("valid JSON"))
    });
    group.bench_function("extract", |b| b.iter(|| extract(black_box(&resource), black_box(&value))));
    group.bench_function("floor_serde_json_parse_dynamic_object", |b| {
        b.iter(|| serde_json::from_slice::<DynamicObject>(black_box(&bytes)).expect("a Kubernetes object"))
    });
    let keep = Arc::new(Needed::of_resource(&resource));
    let text = std::str::from_utf8(&bytes).expect("JSON is text");
    group.bench_function("decode_needed_members", |b| {
        b.iter(|| decode_watched(black_box(text), &keep).expect("a Kubernetes object"))
    });
    group.bench_function("agent_path_decode_needed_extract", |b| {
        b.iter(|| extract(&resource, decode_watched(black_box(text), &keep).expect("an object").object()))
    });
    group.bench_function("before_decode_dynamic_object_convert_extract", |b| {
        b.iter(|| {
            let object: DynamicObject =
                serde_json::from_slice(black_box(&bytes)).expect("a Kubernetes object");
            extract(&resource, &into_value(object).expect("an object"))
        })
    });
    group.finish();
}

/// A list page of 500 objects as the watch handles it (the page scanned for its objects, then
/// each decoded, extracted and written to a series table before the next is decoded), against
/// the floor of parsing the same objects one by one.
fn per_page(c: &mut Criterion) {
    // glibc as the agent sets it up: how the allocator copes with a page's blocks is the point.
    kube_state_otel::runtime::tune_malloc();
    let resource = resource();
    let objects: Vec<String> =
        (0..500).map(|i| serde_json::to_string(&cluster(i, 0)).expect("serializable")).collect();
    let page = format!("{{\"items\":[{}]}}", objects.join(","));
    let keep = Arc::new(Needed::of_resource(&resource));
    let table = SeriesTable::new("bench", resource.specs.clone());
    let keys: Vec<Arc<str>> = (0..500).map(|i| Arc::from(format!("ns/cluster-{i}"))).collect();
    let mut group = c.benchmark_group("page_500");
    group.throughput(Throughput::Elements(500));
    group.bench_function("floor_serde_json_parse_one_by_one", |b| {
        b.iter(|| {
            for object in &objects {
                black_box(serde_json::from_str::<Value>(object).expect("valid JSON"));
            }
        })
    });
    group.bench_function("agent_path_decode_page_apply_each", |b| {
        b.iter(|| {
            let page = black_box(page.as_bytes());
            let items = layout(page).expect("a list page").items;
            for (span, key) in items.into_iter().zip(&keys) {
                let text = std::str::from_utf8(&page[span]).expect("JSON is text");
                let object = decode_watched(text, &keep).expect("an object");
                let extracted = extract(&resource, object.object());
                drop(object);
                table.replace_shared(key, extracted.points);
            }
        })
    });
    group.bench_function("list_items_layout", |b| {
        b.iter(|| layout(black_box(page.as_bytes())).expect("a list page").items.len())
    });
    group.bench_function("depth_guard_blocks", |b| {
        b.iter(|| assert!(guard_text(black_box(page.as_bytes()), true).is_none()))
    });
    group.bench_function("depth_guard_step_by_step", |b| {
        b.iter(|| assert!(guard_text(black_box(page.as_bytes()), false).is_none()))
    });
    group.finish();
}

fn values(c: &mut Criterion) {
    let inputs: Vec<Value> = ["250m", "5Gi", "1.5", "28%", "true", "2026-11-20T08:15:42Z", "unknown"]
        .into_iter()
        .map(Value::from)
        .chain([Value::from(3), Value::from(0.25), Value::from(false)])
        .collect();
    let mut group = c.benchmark_group("value");
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("to_number_10_mixed", |b| {
        b.iter(|| inputs.iter().map(|v| to_number(black_box(v)).unwrap_or(f64::NAN)).sum::<f64>())
    });
    group.finish();
}

criterion_group!(benches, compilation, per_object, per_page, values);
criterion_main!(benches);
