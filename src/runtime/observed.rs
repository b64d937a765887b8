//! Self-metrics observed from state at export time: collector up/ready, objects and series
//! per table, leadership, export totals and the retry buffer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::metrics::Meter;
use opentelemetry::KeyValue;

use crate::collectors::{CollectorStatus, StatusBoard};
use crate::export::{ExportStats, Pusher};
use crate::series::{MetricsRegistry, SeriesTable};

/// Registers the observed self-metrics; the instruments live as long as the meter provider.
pub fn register(
    meter: &Meter,
    board: StatusBoard,
    registry: MetricsRegistry,
    leader: Arc<AtomicBool>,
    pusher: &Pusher,
) {
    let status_gauge = |name: &'static str, description: &'static str, read: fn(&CollectorStatus) -> bool| {
        let board = board.clone();
        meter
            .u64_observable_gauge(name)
            .with_unit("1")
            .with_description(description)
            .with_callback(move |o| {
                for (collector, status) in board.read().iter() {
                    o.observe(read(status) as u64, &[KeyValue::new("collector", collector.clone())]);
                }
            })
            .build();
    };
    status_gauge(
        "kube_state_otel.collector.up",
        "1 when the collector is running and can reach its source",
        CollectorStatus::is_up,
    );
    status_gauge(
        "kube_state_otel.collector.ready",
        "1 when the collector has completed its initial sync",
        CollectorStatus::is_ready,
    );
    let table_gauge = |name: &'static str,
                       unit: &'static str,
                       description: &'static str,
                       read: fn(&SeriesTable) -> usize| {
        let registry = registry.clone();
        meter
            .u64_observable_gauge(name)
            .with_unit(unit)
            .with_description(description)
            .with_callback(move |o| {
                for table in registry.tables() {
                    o.observe(read(&table) as u64, &[KeyValue::new("table", table.owner().to_owned())]);
                }
            })
            .build();
    };
    table_gauge(
        "kube_state_otel.objects",
        "{object}",
        "Objects (or members) with points held, by table",
        SeriesTable::object_count,
    );
    table_gauge("kube_state_otel.series", "{series}", "Series exported, by table", SeriesTable::series_count);
    meter
        .u64_observable_gauge("kube_state_otel.leader")
        .with_unit("1")
        .with_description("1 on the replica holding the leader Lease")
        .with_callback(move |o| o.observe(leader.load(Ordering::Relaxed) as u64, &[]))
        .build();
    register_export(meter, pusher.clone());
}

fn register_export(meter: &Meter, pusher: Pusher) {
    let stats: Arc<ExportStats> = pusher.stats();
    let counter =
        |name: &'static str, unit: &'static str, description: &'static str, read: fn(&ExportStats) -> u64| {
            let stats = stats.clone();
            meter
                .u64_observable_counter(name)
                .with_unit(unit)
                .with_description(description)
                .with_callback(move |o| o.observe(read(&stats), &[]))
                .build();
        };
    counter("kube_state_otel.export.points", "{point}", "Data points delivered to the Collector", |s| {
        s.points.load(Ordering::Relaxed)
    });
    counter("kube_state_otel.export.failures", "{export}", "Failed export attempts", |s| {
        s.failures.load(Ordering::Relaxed)
    });
    counter(
        "kube_state_otel.export.dropped",
        "{export}",
        "Buffered exports dropped because the buffer was full",
        |s| s.dropped.load(Ordering::Relaxed),
    );
    meter
        .u64_observable_gauge("kube_state_otel.export.buffered")
        .with_unit("{export}")
        .with_description("Exports waiting to be delivered")
        .with_callback(move |o| o.observe(pusher.buffered() as u64, &[]))
        .build();
}
