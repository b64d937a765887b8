//! Aggregations (SPEC §4.2) at 100,000 objects: 4 typed fields, 2 computed fields and 5
//! aggregations (one grouped by namespace, one percentile), compiled from YAML as the agent does
//! and filled through `extract` into a series table. Measured: the CPU an export spends reading
//! the aggregation points (a `Snapshot` of a registry holding only that table, drained into OTLP
//! requests, against the same table without aggregations), and the bytes kept per object for the
//! aggregation inputs (a counting global allocator: the table's live bytes with aggregations
//! minus those without, over the number of objects).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kube_state_otel::collectors::crds::{compile_crds, extract, CompiledResource};
use kube_state_otel::config::{load_str, Env};
use kube_state_otel::export::{Envelope, ExportTimes, Snapshot};
use kube_state_otel::series::{MetricsRegistry, SeriesTable, TableHandle};
use kube_state_otel_testkit::measure::{live_bytes, CountingAllocator};
use serde_json::{json, Value};

const OBJECTS: usize = 100_000;
const NAMESPACES: usize = 500;

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

const RESOURCE: &str = r#"
export:
  otlp:
    endpoint: http://127.0.0.1:4317
collectors:
  crds:
    enabled: true
    metricsNamespace: bench
    resources:
      - name: app
        gvr: {group: example.com, version: v1, resource: apps}
        commonLabels:
          name: metadata.name
          namespace: metadata.namespace
        fields:
          - {name: desired, path: spec.replicas, type: integer, default: 1}
          - {name: ready, path: status.readyReplicas, type: integer, default: 0}
          - {name: phase, path: status.phase, type: string}
          - {name: ns, path: metadata.namespace, type: string}
        computed:
          - {name: missing, expression: "desired - ready"}
          - {name: ready_ratio, expression: "desired > 0 ? double(ready) / double(desired) : 1.0"}
        metrics:
          - {type: gauge, name: ready_ratio, help: "Ready over desired replicas", field: ready_ratio}
"#;

const AGGREGATIONS: &str = r#"
        aggregations:
          - {name: apps, help: "Objects", function: count}
          - {name: failed, help: "Failed objects", function: count, filter: "phase == 'Failed'"}
          - {name: missing_by_namespace, help: "Missing replicas per namespace", function: sum, field: missing, groupBy: [ns]}
          - {name: avg_ready_ratio, help: "Mean ready ratio", function: avg, field: ready_ratio}
          - {name: p95_missing, help: "95th percentile of missing replicas", function: percentile, percentile: 95, field: missing}
"#;

fn compiled(yaml: &str) -> CompiledResource {
    let config = load_str(yaml, &Env::from_pairs::<&str, &str>([])).expect("bench config loads");
    compile_crds(&config.config.collectors.crds).expect("bench config compiles").remove(0)
}

fn object(i: usize) -> Value {
    let desired = 1 + i % 5;
    let ready = if i % 7 == 0 { desired - 1 } else { desired };
    let phase = if i % 11 == 0 { "Failed" } else { "Running" };
    json!({
        "apiVersion": "example.com/v1",
        "kind": "App",
        "metadata": {
            "name": format!("app-{i:06}"),
            "namespace": format!("tenant-{:04}", i % NAMESPACES),
            "uid": format!("uid-{i}"),
        },
        "spec": {"replicas": desired},
        "status": {"readyReplicas": ready, "phase": phase},
    })
}

/// A registry holding one table filled with every object's extraction, and the heap bytes the
/// table keeps (live bytes after filling minus before; the objects are built and dropped one at a
/// time so that only what the table holds stays). The handle keeps the table attached.
fn filled(resource: &CompiledResource) -> (MetricsRegistry, TableHandle, usize) {
    let registry = MetricsRegistry::new();
    let before = live_bytes();
    let table = registry.attach(Arc::new(SeriesTable::new("crds/app", resource.specs.clone())));
    for i in 0..OBJECTS {
        let extracted = extract(resource, &object(i));
        assert!(extracted.errors.is_empty(), "{:?}", extracted.errors);
        table.replace(&format!("uid-{i}"), extracted.points);
    }
    let kept = (live_bytes() - before) as usize;
    (registry, table, kept)
}

fn aggregation(c: &mut Criterion) {
    let with = compiled(&format!("{RESOURCE}{AGGREGATIONS}"));
    let without = compiled(RESOURCE);
    assert_eq!(with.aggregations.len(), 5);
    let (with_registry, _with_table, with_bytes) = filled(&with);
    let (without_registry, _without_table, without_bytes) = filled(&without);
    println!(
        "kept bytes: with aggregations {with_bytes} ({:.1} per object), without {without_bytes} \
         ({:.1} per object), aggregation inputs {:.1} per object",
        with_bytes as f64 / OBJECTS as f64,
        without_bytes as f64 / OBJECTS as f64,
        (with_bytes as f64 - without_bytes as f64) / OBJECTS as f64,
    );

    let attributes = [("service.name".to_owned(), "kube-state-otel".to_owned())].into();
    let envelope = Arc::new(Envelope::new(&attributes));
    let times = ExportTimes { start_unix_nano: 1, now_unix_nano: 2 };
    let drain = |registry: &MetricsRegistry| {
        let mut snapshot = Snapshot::new(registry, None, envelope.clone(), times);
        std::iter::from_fn(|| snapshot.next_request()).map(|c| c.bytes.len()).sum::<usize>()
    };
    let (with_export, without_export) = (drain(&with_registry), drain(&without_registry));
    println!("export bytes: with aggregations {with_export}, without {without_export}");
    assert!(without_export > OBJECTS, "the table is exported");

    let mut group = c.benchmark_group("export_100k_objects");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(OBJECTS as u64));
    group.bench_function("with_5_aggregations", |b| b.iter(|| drain(black_box(&with_registry))));
    group.bench_function("without_aggregations", |b| b.iter(|| drain(black_box(&without_registry))));
    group.finish();
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
