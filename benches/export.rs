//! The export side at one million points: building the export (a snapshot: the agent's own
//! metrics plus the series tables encoded into OTLP requests, a chunk at a time, as the push
//! does without a network), OTLP encoding of the tables alone, and the whole request a scrape or
//! `render` takes, against the floor of `prost` encoding the same requests already built as OTLP
//! structures.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

use kube_state_otel::export::{count_points, Envelope, ExportTimes, Exporter, OwnMetrics, Pusher, Snapshot};
use kube_state_otel::series::{MetricId, MetricSpec, MetricsRegistry, Point, SeriesTable};

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

criterion_group!(benches, export);
criterion_main!(benches);
