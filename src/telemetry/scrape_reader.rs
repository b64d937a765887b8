//! A second reader on the meter provider for the Prometheus endpoint: every scrape collects
//! afresh (observable callbacks run, the cardinality view applies) instead of serving the last
//! OTLP push, the way kube-state-metrics answers a scrape. It has its own aggregation state, so
//! scrapes neither consume nor reset what the periodic OTLP reader sees.

use std::sync::{Arc, Weak};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{InstrumentKind, ManualReader, Pipeline, Temporality};

use super::exporter::BufferedExporter;

/// A cloneable handle to one on-demand reader: one clone goes to the provider, the others
/// collect.
#[derive(Clone)]
pub struct ScrapeReader {
    reader: Arc<ManualReader>,
    /// Whose series tables a scrape adds to the SDK's metrics (they do not go through the SDK).
    series: Option<BufferedExporter>,
}

impl std::fmt::Debug for ScrapeReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScrapeReader").field("series", &self.series.is_some()).finish_non_exhaustive()
    }
}

impl Default for ScrapeReader {
    fn default() -> Self {
        // Cumulative, like the OTLP exporter: a scrape endpoint can only expose running totals.
        let reader = ManualReader::builder().with_temporality(Temporality::Cumulative).build();
        ScrapeReader { reader: Arc::new(reader), series: None }
    }
}

impl ScrapeReader {
    /// A reader whose scrapes also carry `exporter`'s series tables, as its exports do.
    pub fn with_series_of(exporter: BufferedExporter) -> Self {
        ScrapeReader { series: Some(exporter), ..Self::default() }
    }

    /// Collects now and converts the result the way the OTLP exporter does, so the endpoint
    /// shows what a push would carry. Blocks while observable callbacks run; fails once the
    /// provider is shut down.
    pub fn collect(&self) -> Result<ExportMetricsServiceRequest, OTelSdkError> {
        let mut metrics = ResourceMetrics::default();
        self.reader.collect(&mut metrics)?;
        let mut request = ExportMetricsServiceRequest::from(&metrics);
        if let Some(exporter) = &self.series {
            exporter.append_series(&mut request).map_err(OTelSdkError::InternalFailure)?;
        }
        Ok(request)
    }
}

impl MetricReader for ScrapeReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.reader.register_pipeline(pipeline)
    }

    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.reader.collect(rm)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.reader.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.reader.shutdown_with_timeout(timeout)
    }

    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.reader.temporality(kind)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::metrics::MeterProvider as _;
    use opentelemetry::KeyValue;

    use super::*;
    use crate::telemetry::{count_points, meter_provider_with_scrape, BufferedExporter};

    #[test]
    fn the_cardinality_view_applies_to_scrapes_too() {
        let reader = ScrapeReader::default();
        let exporter = BufferedExporter::new(None, Duration::from_secs(1), 1);
        let provider = meter_provider_with_scrape(
            exporter,
            opentelemetry_sdk::Resource::builder_empty().build(),
            Duration::from_secs(3600),
            3000,
            Some(reader.clone()),
        );
        let counter = provider.meter("test").u64_counter("objects").build();
        // More series than the SDK's default limit of 2000.
        for i in 0..2500 {
            counter.add(1, &[KeyValue::new("id", i.to_string())]);
        }
        // The provider's own export.duration gauge (2 points) comes along.
        let request = reader.collect().unwrap();
        assert_eq!(count_points(&request), 2500 + 2);
        let text = format!("{request:?}");
        assert!(!text.contains("otel.metric.overflow"));
        // Each scrape collects anew; a second one sees the same cumulative points.
        counter.add(1, &[KeyValue::new("id", "0")]);
        assert_eq!(count_points(&reader.collect().unwrap()), 2500 + 2);
        provider.shutdown().unwrap();
        assert!(reader.collect().is_err(), "a scrape after shutdown fails");
    }
}
