//! The agent's own metrics (SPEC §7) that are counted as events happen.
//!
//! Figures derived from state (objects, series, collector up/ready, leader, export totals and
//! buffer) are observed from that state at export time in `telemetry::observed`.

use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider as _};
use opentelemetry::KeyValue;

/// Counters shared by every part of the agent. Cheap to clone.
#[derive(Clone)]
pub struct SelfMetrics {
    watch_events: Counter<u64>,
    extract_errors: Counter<u64>,
    config_reloads: Counter<u64>,
    collector_duration: Histogram<f64>,
}

impl SelfMetrics {
    pub fn new(meter: &Meter) -> Self {
        let counter = |name: &'static str, unit: &'static str, description: &'static str| {
            meter.u64_counter(name).with_unit(unit).with_description(description).build()
        };
        SelfMetrics {
            watch_events: counter(
                "kube_state_otel.watch.events",
                "{event}",
                "Watch events received, by collector and type",
            ),
            extract_errors: counter(
                "kube_state_otel.extract.errors",
                "{error}",
                "Values that could not be extracted or converted, by metric",
            ),
            config_reloads: counter(
                "kube_state_otel.config.reloads",
                "{reload}",
                "Configuration reloads, by result (success, failure)",
            ),
            collector_duration: meter
                .f64_histogram("kube_state_otel.collector.duration")
                .with_unit("s")
                .with_description("Time one poll of a polling collector took, by collector")
                .with_boundaries(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
                .build(),
        }
    }

    /// Counters that go nowhere (`render`, unit tests).
    pub fn noop() -> Self {
        Self::new(&opentelemetry::metrics::noop::NoopMeterProvider::new().meter("noop"))
    }

    pub fn watch_event(&self, collector: &str, event_type: &'static str) {
        self.watch_events
            .add(1, &[KeyValue::new("collector", collector.to_owned()), KeyValue::new("type", event_type)]);
    }

    pub fn extract_error(&self, metric: &str) {
        self.extract_errors.add(1, &[KeyValue::new("metric", metric.to_owned())]);
    }

    /// One poll of `collector` (etcd) took `seconds`.
    pub fn collector_duration(&self, collector: &str, seconds: f64) {
        self.collector_duration.record(seconds, &[KeyValue::new("collector", collector.to_owned())]);
    }

    pub fn config_reload(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.config_reloads.add(1, &[KeyValue::new("result", result)]);
    }
}
