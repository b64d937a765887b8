//! The meter provider: resource, periodic reader with our exporter, and a view that lifts the
//! SDK's default cardinality limit (2000 points per instrument, silently folded into an
//! overflow series beyond it) for the agent's own metrics. The series tables do not go through
//! the SDK: the exporter adds them to each export (`series::otlp`).

use std::time::Duration;

use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Stream};
use opentelemetry_sdk::Resource;

use super::exporter::BufferedExporter;

/// Builds the provider. Exports happen every `interval` and on `force_flush`.
pub fn meter_provider(
    exporter: BufferedExporter,
    resource: Resource,
    interval: Duration,
    cardinality_limit: usize,
) -> SdkMeterProvider {
    let stats = exporter.stats();
    let reader = PeriodicReader::builder(exporter).with_interval(interval).build();
    let provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader)
        .with_view(move |_: &opentelemetry_sdk::metrics::Instrument| {
            Stream::builder().with_cardinality_limit(cardinality_limit).build().ok()
        })
        .build();
    // The first instrument, so its callback runs first and marks the start of each collection.
    // It always reports (0 before the first export): the SDK only calls the exporter when it has
    // points, and the exporter adds the series tables.
    provider
        .meter("kube-state-otel")
        .f64_observable_gauge("kube_state_otel.export.duration")
        .with_unit("s")
        .with_description("Time the previous export took to collect and encode, by clock (wall, cpu)")
        .with_callback(move |o| {
            let last = stats.cycle.last();
            let (wall, cpu) = last.map_or((0.0, 0.0), |c| (c.wall.as_secs_f64(), c.cpu.as_secs_f64()));
            o.observe(wall, &[KeyValue::new("clock", "wall")]);
            o.observe(cpu, &[KeyValue::new("clock", "cpu")]);
            stats.cycle.start();
        })
        .build();
    provider
}

/// Shuts the provider down off the async threads (it blocks on a final export). Its error
/// after a failed last export is expected and only logged.
pub async fn shutdown(provider: SdkMeterProvider) {
    let result = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    if let Ok(Err(e)) = result {
        tracing::debug!(error = %e, "meter provider shutdown reported an error");
    }
}
