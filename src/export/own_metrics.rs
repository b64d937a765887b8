//! The agent's own metrics (SPEC §7) go through the OpenTelemetry SDK: instruments, observable
//! callbacks and the cardinality view. The SDK has one on-demand reader, read by each export
//! and each scrape; cumulative, so reading never resets what another read sees. The series
//! tables do not go through the SDK (see `snapshot`).

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry::metrics::{Meter, MeterProvider as _};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Stream, Temporality,
};

use super::envelope::SCOPE_NAME;
use super::resource::resource;

/// Why the agent's own metrics could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot collect the agent's own metrics: {0}")]
pub struct CollectError(#[source] opentelemetry_sdk::error::OTelSdkError);

/// The meter provider of the agent's own metrics and its reader. Cheap to clone.
#[derive(Clone)]
pub struct OwnMetrics {
    provider: SdkMeterProvider,
    reader: SharedReader,
}

impl OwnMetrics {
    /// A provider for the resource with `attributes`; each instrument keeps at most `cardinality_limit` series
    /// (the SDK's default, 2000, would silently fold the rest into an overflow series).
    pub fn new(attributes: &BTreeMap<String, String>, cardinality_limit: usize) -> Self {
        let reader = SharedReader::default();
        let provider = SdkMeterProvider::builder()
            .with_resource(resource(attributes))
            .with_reader(reader.clone())
            .with_view(move |_: &opentelemetry_sdk::metrics::Instrument| {
                Stream::builder().with_cardinality_limit(cardinality_limit).build().ok()
            })
            .build();
        OwnMetrics { provider, reader }
    }

    /// The meter every part of the agent records its own metrics with.
    pub fn meter(&self) -> Meter {
        self.provider.meter(SCOPE_NAME)
    }

    /// Collects now (observable callbacks run) as an OTLP request; fails once shut down.
    pub fn collect(&self) -> Result<ExportMetricsServiceRequest, CollectError> {
        let mut metrics = ResourceMetrics::default();
        self.reader.0.collect(&mut metrics).map_err(CollectError)?;
        Ok(ExportMetricsServiceRequest::from(&metrics))
    }

    /// Stops the provider; later collections fail.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::debug!(error = %e, "meter provider shutdown reported an error");
        }
    }
}

/// One `ManualReader` shared between the provider and [`OwnMetrics::collect`].
#[derive(Clone)]
struct SharedReader(Arc<ManualReader>);

impl Default for SharedReader {
    fn default() -> Self {
        SharedReader(Arc::new(ManualReader::builder().with_temporality(Temporality::Cumulative).build()))
    }
}

impl std::fmt::Debug for SharedReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedReader").finish_non_exhaustive()
    }
}

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline)
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;
    use crate::export::count_points;

    #[test]
    fn the_cardinality_view_applies_and_reads_do_not_reset() {
        let own = OwnMetrics::new(&BTreeMap::new(), 3000);
        let counter = own.meter().u64_counter("objects").build();
        // More series than the SDK's default limit of 2000.
        for i in 0..2500 {
            counter.add(1, &[KeyValue::new("id", i.to_string())]);
        }
        let request = own.collect().unwrap();
        assert_eq!(count_points(&request), 2500);
        assert!(!format!("{request:?}").contains("otel.metric.overflow"));
        // Each read collects anew; a second one sees the same cumulative points.
        counter.add(1, &[KeyValue::new("id", "0")]);
        assert_eq!(count_points(&own.collect().unwrap()), 2500);
        own.shutdown();
        assert!(own.collect().is_err(), "a read after shutdown fails");
    }
}
