//! The meter provider: resource, periodic reader with our exporter, and a view that lifts the
//! SDK's default cardinality limit (2000 points per instrument, silently folded into an
//! overflow series beyond it).

use std::time::Duration;

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
    let reader = PeriodicReader::builder(exporter).with_interval(interval).build();
    SdkMeterProvider::builder()
        .with_resource(resource)
        .with_reader(reader)
        .with_view(move |_: &opentelemetry_sdk::metrics::Instrument| {
            Stream::builder().with_cardinality_limit(cardinality_limit).build().ok()
        })
        .build()
}

/// Shuts the provider down off the async threads (it blocks on a final export). Its error
/// after a failed last export is expected and only logged.
pub async fn shutdown(provider: SdkMeterProvider) {
    let result = tokio::task::spawn_blocking(move || provider.shutdown()).await;
    if let Ok(Err(e)) = result {
        tracing::debug!(error = %e, "meter provider shutdown reported an error");
    }
}
