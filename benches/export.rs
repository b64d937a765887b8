//! The export side at one million points: building the export (a snapshot: the agent's own
//! metrics plus the series tables encoded into OTLP requests, a chunk at a time, as the push
//! does without a network), OTLP encoding of the tables alone, and the whole request a scrape or
//! `render` takes, against the floor of `prost` encoding the same requests already built as OTLP
//! structures. Then an idle export of 20,000 custom resources against the parse floor of the
//! same objects (`idle_export_20k_crs`).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

use kube_state_otel::collectors::crds::{compile_crds, extract};
use kube_state_otel::config::{load_str, Env};
use kube_state_otel::export::{count_points, Envelope, ExportTimes, Exporter, OwnMetrics, Pusher, Snapshot};
use kube_state_otel::series::{MetricId, MetricSpec, MetricsRegistry, Point, SeriesTable};
use kube_state_otel_testkit::measure::best_cpu;
use kube_state_otel_testkit::scale::{agent_config, cluster};
use serde_json::Value;

const POINTS: usize = 1_000_000;
/// Objects with ten points each, like a custom resource's state, conditions and info metrics.
const PER_OBJECT: usize = 10;

/// A table of `POINTS` points over two metrics, attributes like a custom resource's.
fn fill(registry: &MetricsRegistry) -> kube_state_otel::series::TableHandle {
    let specs =
        vec![MetricSpec::gauge("bench.phase", "1", "phase"), MetricSpec::gauge("bench.info", "1", "info")];
    let table = registry.attach(Arc::new(SeriesTable::new("bench", specs)));
    for object in 0..POINTS / PER_OBJECT {
        let name = format!("db-{object:07}");
        let namespace = format!("tenant-{:04}", object % 500);
        let points = (0..PER_OBJECT)
            .map(|k| {
                let attributes = vec![
                    KeyValue::new("cluster", name.clone()),
                    KeyValue::new("namespace", namespace.clone()),
                    KeyValue::new("phase", format!("Phase{k}")),
                ];
                Point::new(MetricId(u32::from(k == 0)), attributes, (k == 1) as u8 as f64)
            })
            .collect();
        table.replace(&format!("uid-{object}"), points);
    }
    table
}

fn export(c: &mut Criterion) {
    let mut group = c.benchmark_group("export_1m_points");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(POINTS as u64));

    // The agent's pipeline without a network: a snapshot, encoded chunk by chunk.
    let registry = MetricsRegistry::new();
    let _table = fill(&registry);
    let attributes = [("service.name".to_owned(), "kube-state-otel".to_owned())].into();
    let own = OwnMetrics::new(&attributes, 1000);
    let pusher = Pusher::new(None, Duration::from_secs(10), 1);
    let exporter = Exporter::new(registry.clone(), own, Envelope::new(&attributes), pusher);
    let drain = |mut snapshot: Snapshot| {
        std::iter::from_fn(|| snapshot.next_request()).map(|c| c.bytes.len()).sum::<usize>()
    };
    group.bench_function("build_export", |b| b.iter(|| drain(exporter.snapshot().expect("collect"))));

    // OTLP encoding: the tables into protobuf requests, as each export does.
    let times = ExportTimes { start_unix_nano: 1, now_unix_nano: 2 };
    let envelope = Arc::new(Envelope::new(&attributes));
    let tables = || Snapshot::new(&registry, None, envelope.clone(), times);
    group.bench_function("otlp_encode_tables", |b| b.iter(|| drain(tables())));
    // A scrape or `render`: the tables as one request of OTLP structures.
    group.bench_function("whole_request", |b| b.iter(|| black_box(tables().into_request())));
    // The floor: prost encoding the same requests, already built as OTLP structures.
    let mut encoded = tables();
    let prebuilt: Vec<ExportMetricsServiceRequest> = std::iter::from_fn(|| encoded.next_request())
        .map(|c| ExportMetricsServiceRequest::decode(c.bytes).expect("valid OTLP"))
        .collect();
    let points: u64 = prebuilt.iter().map(count_points).sum();
    assert_eq!(points, POINTS as u64);
    group.bench_function("floor_prost_encode_prebuilt", |b| {
        b.iter(|| black_box(&prebuilt).iter().map(|r| r.encode_to_vec().len()).sum::<usize>())
    });
    group.finish();
}

/// Custom resources in the idle-export comparison: the scale harness's KubeBlocks clusters with
/// its five-metric config, about 13 points each.
const OBJECTS: usize = 20_000;

/// An export with nothing changed since the last one (the tables into encoded OTLP requests, no
/// compression) against the parse floor: `serde_json::Value` parsing the same objects' JSON, as
/// in benches/extraction.rs. Printed first: both as thread CPU (least of 5 passes) and their ratio.
fn idle_export(c: &mut Criterion) {
    let yaml = agent_config("", "http://127.0.0.1:4317", 8080, 10_000);
    let config = load_str(&yaml, &Env::from_pairs::<&str, &str>([])).expect("scale config loads");
    let resource = compile_crds(&config.config.collectors.crds).expect("scale config compiles").remove(0);
    let objects: Vec<Vec<u8>> =
        (0..OBJECTS).map(|i| serde_json::to_vec(&cluster(i, 0)).expect("serializable")).collect();
    let registry = MetricsRegistry::new();
    let table = registry.attach(Arc::new(SeriesTable::new("crds/clusters", resource.specs.clone())));
    for (i, bytes) in objects.iter().enumerate() {
        let value: Value = serde_json::from_slice(bytes).expect("valid JSON");
        let extracted = extract(&resource, &value);
        assert!(extracted.errors.is_empty(), "{:?}", extracted.errors);
        table.replace(&format!("uid-{i}"), extracted.points);
    }
    let attributes = [("service.name".to_owned(), "kube-state-otel".to_owned())].into();
    let envelope = Arc::new(Envelope::new(&attributes));
    let times =
        ExportTimes { start_unix_nano: 1_700_000_000_000_000_000, now_unix_nano: 1_700_000_030_000_000_000 };
    let export = || {
        let mut snapshot = Snapshot::new(&registry, None, envelope.clone(), times);
        std::iter::from_fn(|| snapshot.next_request())
            .map(|c| (c.points, c.bytes.len()))
            .fold((0, 0), |(p, b), (cp, cb)| (p + cp, b + cb))
    };
    let parse = || {
        for bytes in &objects {
            black_box(serde_json::from_slice::<Value>(black_box(bytes)).expect("valid JSON"));
        }
    };
    let (points, bytes) = export();
    let json: usize = objects.iter().map(Vec::len).sum();
    let export_cpu = best_cpu(5, || {
        black_box(export());
    });
    let parse_cpu = best_cpu(5, parse);
    println!(
        "idle export: {OBJECTS} objects ({:.0} B of JSON each), {points} points, {bytes} B of OTLP; \
         thread CPU (least of 5): export {:.1} ms ({:.0} ns per point), parse floor {:.1} ms \
         ({:.2} us per object); export / parse floor = {:.3}",
        json as f64 / OBJECTS as f64,
        export_cpu * 1e3,
        export_cpu * 1e9 / points as f64,
        parse_cpu * 1e3,
        parse_cpu * 1e6 / OBJECTS as f64,
        export_cpu / parse_cpu,
    );

    let mut group = c.benchmark_group("idle_export_20k_crs");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10))
        .throughput(Throughput::Elements(OBJECTS as u64));
    group.bench_function("otlp_encode_tables", |b| b.iter(|| black_box(export())));
    group.bench_function("floor_serde_json_parse", |b| b.iter(parse));
    group.finish();
}

criterion_group!(benches, export, idle_export);
criterion_main!(benches);
