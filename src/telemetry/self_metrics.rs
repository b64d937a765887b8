//! The agent's own metrics (SPEC §7) that are counted as events happen.
//!
//! Figures derived from state (objects, series, collector up/ready, leader, export totals and
//! buffer) are observed from that state at export time in `telemetry::observed`.

use kube::runtime::watcher::Event;
use opentelemetry::metrics::{Counter, Histogram, Meter, MeterProvider as _};
use opentelemetry::KeyValue;

/// The `type` of a `kube_state_otel.watch.events` count: what a watch stream delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchEventKind {
    /// A (re)list began.
    Init,
    /// An object returned by a (re)list.
    InitApply,
    /// A (re)list is complete.
    InitDone,
    /// An object added or changed (an etcd put).
    Apply,
    /// An object deleted (an etcd delete).
    Delete,
    /// The stream failed; it is retried with backoff.
    Error,
}

impl WatchEventKind {
    /// Every kind, in the order docs/metrics.md lists them.
    pub const ALL: [WatchEventKind; 6] = [
        WatchEventKind::Init,
        WatchEventKind::InitApply,
        WatchEventKind::InitDone,
        WatchEventKind::Apply,
        WatchEventKind::Delete,
        WatchEventKind::Error,
    ];

    /// The value of the `type` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventKind::Init => "init",
            WatchEventKind::InitApply => "init_apply",
            WatchEventKind::InitDone => "init_done",
            WatchEventKind::Apply => "apply",
            WatchEventKind::Delete => "delete",
            WatchEventKind::Error => "error",
        }
    }

    /// The kind of a Kubernetes watcher event.
    pub fn of<K>(event: &Event<K>) -> Self {
        match event {
            Event::Init => WatchEventKind::Init,
            Event::InitApply(_) => WatchEventKind::InitApply,
            Event::InitDone => WatchEventKind::InitDone,
            Event::Apply(_) => WatchEventKind::Apply,
            Event::Delete(_) => WatchEventKind::Delete,
        }
    }
}

/// The `result` of a `kube_state_otel.config.reloads` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadResult {
    /// The new configuration is in force.
    Success,
    /// The new configuration was rejected; the running one stays.
    Failure,
}

impl ReloadResult {
    /// Every result, in the order docs/metrics.md lists them.
    pub const ALL: [ReloadResult; 2] = [ReloadResult::Success, ReloadResult::Failure];

    /// The value of the `result` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadResult::Success => "success",
            ReloadResult::Failure => "failure",
        }
    }
}

/// Counters shared by every part of the agent. Cheap to clone.
#[derive(Clone)]
pub struct SelfMetrics {
    watch_events: Counter<u64>,
    extract_errors: Counter<u64>,
    config_reloads: Counter<u64>,
    series_collisions: Counter<u64>,
    series_dropped: Counter<u64>,
    collector_duration: Histogram<f64>,
}

impl SelfMetrics {
    /// The counters, registered with `meter`.
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
            series_collisions: counter(
                "kube_state_otel.series.collisions",
                "{point}",
                "Points dropped because another object holds a series with the same attributes, by metric",
            ),
            series_dropped: counter(
                "kube_state_otel.series.dropped",
                "{point}",
                "Points dropped beyond maxSeriesPerObject, maxSeries or maxObjectsPerSource, by table",
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

    /// `collector`'s watch delivered an event of `kind`.
    pub fn watch_event(&self, collector: &str, kind: WatchEventKind) {
        self.watch_events.add(
            1,
            &[KeyValue::new("collector", collector.to_owned()), KeyValue::new("type", kind.as_str())],
        );
    }

    /// A value of `metric` could not be extracted or converted.
    pub fn extract_error(&self, metric: &str) {
        self.extract_errors.add(1, &[KeyValue::new("metric", metric.to_owned())]);
    }

    /// A point of `metric` was dropped: another object holds a series with its attributes.
    pub fn series_collision(&self, metric: &str) {
        self.series_collisions.add(1, &[KeyValue::new("metric", metric.to_owned())]);
    }

    /// `points` points of `table` were dropped by its cardinality guards.
    pub fn series_dropped(&self, table: &str, points: u64) {
        self.series_dropped.add(points, &[KeyValue::new("table", table.to_owned())]);
    }

    /// One poll of `collector` (etcd) took `seconds`.
    pub fn collector_duration(&self, collector: &str, seconds: f64) {
        self.collector_duration.record(seconds, &[KeyValue::new("collector", collector.to_owned())]);
    }

    /// A configuration reload ended with `result`.
    pub fn config_reload(&self, result: ReloadResult) {
        self.config_reloads.add(1, &[KeyValue::new("result", result.as_str())]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_watcher_event_has_its_own_kind() {
        let events: [Event<()>; 5] =
            [Event::Init, Event::InitApply(()), Event::InitDone, Event::Apply(()), Event::Delete(())];
        let kinds = events.iter().map(WatchEventKind::of).map(WatchEventKind::as_str).collect::<Vec<_>>();
        assert_eq!(kinds, ["init", "init_apply", "init_done", "apply", "delete"]);
        let all: std::collections::HashSet<&str> = WatchEventKind::ALL.map(WatchEventKind::as_str).into();
        assert_eq!(all.len(), WatchEventKind::ALL.len());
    }
}
