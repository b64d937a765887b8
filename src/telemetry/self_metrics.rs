//! The agent's own metrics (SPEC §7) that are counted as events happen.
//!
//! Gauges derived from state (objects, series, collector up/ready, leader, buffered exports) are
//! observed from that state at export time in `telemetry::observed`.

use opentelemetry::metrics::{Counter, Meter, MeterProvider as _};
use opentelemetry::KeyValue;

/// Counters shared by every part of the agent. Cheap to clone.
#[derive(Clone)]
pub struct SelfMetrics {
    watch_events: Counter<u64>,
    extract_errors: Counter<u64>,
    export_points: Counter<u64>,
    export_failures: Counter<u64>,
    export_dropped: Counter<u64>,
    config_reloads: Counter<u64>,
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
            export_points: counter("kube_state_otel.export.points", "{point}", "Data points exported"),
            export_failures: counter("kube_state_otel.export.failures", "{export}", "Failed export attempts"),
            export_dropped: counter(
                "kube_state_otel.export.dropped",
                "{export}",
                "Buffered exports dropped because the buffer was full",
            ),
            config_reloads: counter(
                "kube_state_otel.config.reloads",
                "{reload}",
                "Configuration reloads, by result (success, failure)",
            ),
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

    pub fn exported(&self, points: u64) {
        self.export_points.add(points, &[]);
    }

    pub fn export_failed(&self) {
        self.export_failures.add(1, &[]);
    }

    pub fn export_dropped(&self, batches: u64) {
        self.export_dropped.add(batches, &[]);
    }

    pub fn config_reload(&self, success: bool) {
        let result = if success { "success" } else { "failure" };
        self.config_reloads.add(1, &[KeyValue::new("result", result)]);
    }
}
