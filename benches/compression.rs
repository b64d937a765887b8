//! Compression of one realistic export: 5,000 custom resources with the usual five crds metrics
//! (state, gauge, count, conditions, map_state; about 13 points per object), extracted by the
//! crds engine and encoded into OTLP requests as the agent does, then compressed request by
//! request with none, gzip at levels 1, 6 and 9 and zstd at levels 1, 3 and 9, all in one run.
//!
//! Printed once: the bytes per point after compression and the thread CPU time per MB of
//! uncompressed OTLP (the best of 5 passes, read from `CLOCK_THREAD_CPUTIME_ID`, so the
//! machine's other load counts little), with the OTLP encoding itself as the reference. Criterion
//! then times the same compressions (throughput in bytes of uncompressed OTLP).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kube_state_otel::collectors::crds::{compile_crds, extract};
use kube_state_otel::config::{load_str, Compression, Env};
use kube_state_otel::export::compress::{compress, Compressor};
use kube_state_otel::export::{Envelope, ExportTimes, Snapshot};
use kube_state_otel::series::{MetricsRegistry, SeriesTable, TableHandle};
use kube_state_otel_testkit::measure::best_cpu;
use serde_json::{json, Value};

const OBJECTS: usize = 5_000;
const MB: f64 = 1_000_000.0;

/// The crds section runs because it lists resources.
const CONFIG: &str = r#"
collectors:
  crds:
    resources:
      - name: database
        gvr: {group: example.com, version: v1, resource: databases}
        commonLabels:
          name: metadata.name
          namespace: metadata.namespace
        metrics:
          - {type: state, name: phase, path: status.phase, states: [Pending, Running, Failed]}
          - {type: gauge, name: replicas, unit: "{replica}", help: "Desired replicas", path: spec.replicas}
          - {type: count, name: by_engine, path: spec.engine}
          - {type: conditions, name: condition, path: status.conditions}
          - {type: map_state, name: component, path: status.components}
"#;

/// The algorithms and levels compared, `None` first.
const CASES: [(Compression, u32); 7] = [
    (Compression::None, 0),
    (Compression::Gzip, 1),
    (Compression::Gzip, 6),
    (Compression::Gzip, 9),
    (Compression::Zstd, 1),
    (Compression::Zstd, 3),
    (Compression::Zstd, 9),
];

fn object(i: usize) -> Value {
    let engines = ["postgres", "mysql", "redis"];
    let phase = if i % 13 == 0 { "Pending" } else { "Running" };
    let ready = if i % 17 == 0 { "False" } else { "True" };
    json!({
        "apiVersion": "example.com/v1", "kind": "Database",
        "metadata": {"name": format!("db-{i:06}"), "namespace": format!("tenant-{:04}", i % 500), "uid": format!("uid-{i}")},
        "spec": {"engine": engines[i % 3], "replicas": 1 + i % 5},
        "status": {
            "phase": phase,
            "components": {"primary": "Ready", "replica": if i % 7 == 0 { "Starting" } else { "Ready" }},
            "conditions": [
                {"type": "Ready", "status": ready, "reason": "Reconciled"},
                {"type": "Synced", "status": "True"},
            ],
        },
    })
}

/// The registry holding the objects' series (and the handle keeping its table attached).
fn registry() -> (MetricsRegistry, TableHandle) {
    let config = load_str(CONFIG, &Env::from_pairs::<&str, &str>([])).expect("bench config loads");
    let resource = compile_crds(&config.config.collectors.crds).expect("bench config compiles").remove(0);
    let registry = MetricsRegistry::new();
    let table = registry.attach(Arc::new(SeriesTable::new("crds/database", resource.specs.clone())));
    for i in 0..OBJECTS {
        let extracted = extract(&resource, &object(i));
        assert!(extracted.errors.is_empty(), "{:?}", extracted.errors);
        table.replace(&format!("uid-{i}"), extracted.points);
    }
    (registry, table)
}

/// The export's encoded requests and its number of points.
fn export(registry: &MetricsRegistry) -> (Vec<Bytes>, u64) {
    let mut snapshot = snapshot(registry);
    let mut points = 0;
    let requests = std::iter::from_fn(|| snapshot.next_request())
        .map(|r| {
            points += r.points;
            r.bytes
        })
        .collect();
    (requests, points)
}

fn snapshot(registry: &MetricsRegistry) -> Snapshot {
    let attributes = [("service.name".to_owned(), "kube-state-otel".to_owned())].into();
    let times =
        ExportTimes { start_unix_nano: 1_700_000_000_000_000_000, now_unix_nano: 1_700_000_030_000_000_000 };
    Snapshot::new(registry, None, Arc::new(Envelope::new(&attributes)), times)
}

/// Every request compressed, as the HTTP transport does; the total compressed bytes.
fn compress_all(requests: &[Bytes], compression: Compression, level: u32) -> usize {
    requests.iter().map(|r| compress(compression, level, r).expect("compresses").len()).sum()
}

/// Every request compressed by one `Compressor`, as a transport does (zstd keeps its context).
fn compress_kept(requests: &[Bytes], compressor: &Compressor) -> usize {
    requests.iter().map(|r| compressor.compress(r).expect("compresses").len()).sum()
}

fn name(compression: Compression, level: u32) -> String {
    match compression {
        Compression::None => "none".into(),
        c => format!("{}_{level}", format!("{c:?}").to_lowercase()),
    }
}

fn compression(c: &mut Criterion) {
    // glibc as the agent sets it up: blocks over 128 KiB (a zstd context's tables among them)
    // get mappings of their own, given back when freed, so a context made per request is paid
    // for in page faults as the agent pays for it.
    kube_state_otel::runtime::tune_malloc();
    let (registry, _table) = registry();
    let (requests, points) = export(&registry);
    let raw: usize = requests.iter().map(Bytes::len).sum();
    println!(
        "export: {OBJECTS} objects, {points} points, {} requests, {raw} bytes of OTLP ({:.1} per point)",
        requests.len(),
        raw as f64 / points as f64
    );
    let encode_cpu = best_cpu(5, || {
        black_box(export(&registry));
    });
    println!(
        "reference: OTLP encoding of the export, {:.2} CPU ms per MB",
        encode_cpu * 1000.0 / (raw as f64 / MB)
    );
    println!("{:<8} {:>12} {:>10} {:>8} {:>14}", "case", "bytes", "B/point", "ratio", "CPU ms per MB");
    for (compression, level) in CASES {
        let size = compress_all(&requests, compression, level);
        let cpu = match compression {
            Compression::None => 0.0,
            _ => best_cpu(5, || {
                black_box(compress_all(&requests, compression, level));
            }),
        };
        println!(
            "{:<8} {size:>12} {:>10.2} {:>8.2} {:>14.2}",
            name(compression, level),
            size as f64 / points as f64,
            raw as f64 / size as f64,
            cpu * 1000.0 / (raw as f64 / MB)
        );
    }
    // The transport's way: one zstd context kept from request to request (above, each request
    // gets a context of its own).
    let kept = Compressor::new(Compression::Zstd, 3);
    let size = compress_kept(&requests, &kept);
    let cpu = best_cpu(5, || {
        black_box(compress_kept(&requests, &kept));
    });
    println!(
        "{:<8} {size:>12} {:>10.2} {:>8.2} {:>14.2}  (one context kept for every request)",
        "zstd_3_kept",
        size as f64 / points as f64,
        raw as f64 / size as f64,
        cpu * 1000.0 / (raw as f64 / MB)
    );

    let mut group = c.benchmark_group("compress_export");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .throughput(Throughput::Bytes(raw as u64));
    for (compression, level) in CASES.into_iter().skip(1) {
        group.bench_function(name(compression, level), |b| {
            b.iter(|| compress_all(black_box(&requests), compression, level))
        });
    }
    group.bench_function("zstd_3_kept_context", |b| b.iter(|| compress_kept(black_box(&requests), &kept)));
    group.finish();
}

criterion_group!(benches, compression);
criterion_main!(benches);
