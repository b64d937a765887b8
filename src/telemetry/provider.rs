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
use super::scrape_reader::ScrapeReader;

/// Builds the provider. Exports happen every `interval` and on `force_flush`.
pub fn meter_provider(
    exporter: BufferedExporter,
    resource: Resource,
    interval: Duration,
    cardinality_limit: usize,
) -> SdkMeterProvider {
    meter_provider_with_scrape(exporter, resource, interval, cardinality_limit, None)
}

/// [`meter_provider`], plus `scrape` (the Prometheus endpoint's reader) when given. The view
/// applies to both readers, so a scrape shows the same points as an export.
pub fn meter_provider_with_scrape(
    exporter: BufferedExporter,
    resource: Resource,
    interval: Duration,
    cardinality_limit: usize,
    scrape: Option<ScrapeReader>,
) -> SdkMeterProvider {
    let stats = exporter.stats();
    let reader = PeriodicReader::builder(exporter).with_interval(interval).build();
    let mut builder = SdkMeterProvider::builder().with_resource(resource).with_reader(reader);
    if let Some(scrape) = scrape {
        builder = builder.with_reader(scrape);
    }
    let provider = builder
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
