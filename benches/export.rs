//! The export side at one million points: building the export (the SDK's collection reading a
//! series table through the observable instruments, plus conversion into an OTLP request) and
//! OTLP encoding (SDK data to protobuf bytes), against the floor of `prost` encoding the same
//! request already built.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use opentelemetry_sdk::Resource;
use parking_lot::Mutex;
use prost::Message;

use kube_state_otel::series::{MetricId, MetricSpec, MetricsRegistry, Point, SeriesTable};
use kube_state_otel::telemetry::{meter_provider, BufferedExporter};

const POINTS: usize = 1_000_000;
/// Objects with ten points each, like a custom resource's state, conditions and info metrics.
const PER_OBJECT: usize = 10;

/// A table of `POINTS` points over two metrics, attributes like a custom resource's.
fn table() -> Arc<SeriesTable> {
    let specs =
        vec![MetricSpec::gauge("bench.phase", "1", "phase"), MetricSpec::gauge("bench.info", "1", "info")];
    let table = Arc::new(SeriesTable::new("bench", specs));
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

/// Hands each collection to `on_export`, like the agent's exporter does with its request.
#[derive(Clone)]
struct Probe(Arc<dyn Fn(&ResourceMetrics) + Send + Sync>);

impl PushMetricExporter for Probe {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        (self.0)(metrics);
        Ok(())
    }
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
    fn temporality(&self) -> Temporality {
        Temporality::Cumulative
    }
}

fn provider_with(
    exporter: impl PushMetricExporter,
    table: Arc<SeriesTable>,
) -> (SdkMeterProvider, MetricsRegistry) {
    let reader = PeriodicReader::builder(exporter).with_interval(Duration::from_secs(3600)).build();
    let provider = SdkMeterProvider::builder()
        .with_resource(Resource::builder_empty().build())
        .with_reader(reader)
        .with_view(|_: &opentelemetry_sdk::metrics::Instrument| {
            opentelemetry_sdk::metrics::Stream::builder().with_cardinality_limit(2 * POINTS).build().ok()
        })
        .build();
    let registry = MetricsRegistry::new(provider.meter("bench"));
    std::mem::forget(registry.attach(table));
    (provider, registry)
}

fn export(c: &mut Criterion) {
    let table = table();
    let mut group = c.benchmark_group("export_1m_points");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .throughput(Throughput::Elements(POINTS as u64));

    // The agent's pipeline: collection plus conversion into the request, delivered to a sink.
    let built: Arc<Mutex<Option<ExportMetricsServiceRequest>>> = Arc::default();
    let keep = built.clone();
    let exporter = BufferedExporter::new(None, Duration::from_secs(10), 1).with_sink(Arc::new(
        move |request: &ExportMetricsServiceRequest| *keep.lock() = Some(request.clone()),
    ));
    let provider =
        meter_provider(exporter, Resource::builder_empty().build(), Duration::from_secs(3600), 2 * POINTS);
    let registry = MetricsRegistry::new(provider.meter("bench"));
    let _handle = registry.attach(table.clone());
    group.bench_function("build_export_collect_and_convert", |b| {
        b.iter(|| provider.force_flush().expect("flush"))
    });
    let request = built.lock().take().expect("an export was built");
    assert!(kube_state_otel::telemetry::count_points(&request) >= POINTS as u64);

    // OTLP encoding: SDK data to protobuf bytes (conversion, then prost), timed in the exporter.
    let spent: Arc<Mutex<Duration>> = Arc::default();
    let add = spent.clone();
    let (encoding, _registry) = provider_with(
        Probe(Arc::new(move |metrics: &ResourceMetrics| {
            let start = Instant::now();
            let bytes = ExportMetricsServiceRequest::from(metrics).encode_to_vec();
            black_box(bytes);
            *add.lock() += start.elapsed();
        })),
        table.clone(),
    );
    group.bench_function("otlp_encode_from_sdk_data", |b| {
        b.iter_custom(|iterations| {
            *spent.lock() = Duration::ZERO;
            for _ in 0..iterations {
                encoding.force_flush().expect("flush");
            }
            *spent.lock()
        })
    });
    group.bench_function("floor_prost_encode_prebuilt_request", |b| {
        b.iter(|| black_box(&request).encode_to_vec())
    });
    group.finish();
}

criterion_group!(benches, export);
criterion_main!(benches);
