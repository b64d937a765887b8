//! Connects series tables to OpenTelemetry observable instruments.
//!
//! One instrument per metric name, created the first time a table with that metric is attached.
//! Its callback reads every attached table that carries the metric, so collectors can be
//! restarted (hot reload) without re-registering instruments, and a detached table's points
//! disappear from the next export.

use std::collections::HashMap;
use std::sync::Arc;

use opentelemetry::metrics::{Meter, ObservableCounter, ObservableGauge, ObservableUpDownCounter};
use parking_lot::{Mutex, RwLock};

use super::spec::{InstrumentKind, MetricId, MetricSpec};
use super::table::SeriesTable;

type Sources = Arc<RwLock<Vec<(u64, Arc<SeriesTable>, MetricId)>>>;

/// Keeps the instrument alive; the SDK reads it through its callback.
#[allow(dead_code)]
enum Instrument {
    Gauge(ObservableGauge<f64>),
    Counter(ObservableCounter<f64>),
    UpDown(ObservableUpDownCounter<f64>),
}

struct Entry {
    spec: MetricSpec,
    sources: Sources,
    _instrument: Instrument,
}

struct Inner {
    meter: Meter,
    entries: Mutex<HashMap<String, Entry>>,
    tables: RwLock<Vec<(u64, Arc<SeriesTable>)>>,
    next_id: Mutex<u64>,
    /// Set at shutdown: stopping collectors no longer detach their tables, so the final
    /// export still carries their series.
    frozen: std::sync::atomic::AtomicBool,
}

/// The set of tables feeding the export. Cheap to clone.
#[derive(Clone)]
pub struct MetricsRegistry {
    inner: Arc<Inner>,
}

/// An attached table; dropping it detaches the table from the export.
pub struct TableHandle {
    id: u64,
    table: Arc<SeriesTable>,
    registry: MetricsRegistry,
}

impl MetricsRegistry {
    pub fn new(meter: Meter) -> Self {
        MetricsRegistry {
            inner: Arc::new(Inner {
                meter,
                entries: Mutex::new(HashMap::new()),
                tables: RwLock::new(Vec::new()),
                next_id: Mutex::new(0),
                frozen: Default::default(),
            }),
        }
    }

    /// Creates a table with these metrics and attaches it to the export.
    pub fn table(&self, owner: impl Into<String>, specs: Vec<MetricSpec>) -> TableHandle {
        self.attach(Arc::new(SeriesTable::new(owner, specs)))
    }

    /// Attaches an existing table.
    pub fn attach(&self, table: Arc<SeriesTable>) -> TableHandle {
        let id = {
            let mut next = self.inner.next_id.lock();
            *next += 1;
            *next
        };
        let mut entries = self.inner.entries.lock();
        for (i, spec) in table.specs().iter().enumerate() {
            let entry = entries.entry(spec.name.clone()).or_insert_with(|| self.instrument(spec));
            if entry.spec.kind != spec.kind || entry.spec.unit != spec.unit {
                tracing::warn!(
                    metric = %spec.name,
                    "metric registered earlier with another unit or kind; keeping the first"
                );
            }
            entry.sources.write().push((id, table.clone(), MetricId(i as u32)));
        }
        self.inner.tables.write().push((id, table.clone()));
        TableHandle { id, table, registry: self.clone() }
    }

    /// Keeps every table attached from now on (see `Inner::frozen`).
    pub fn freeze(&self) {
        self.inner.frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    fn detach(&self, id: u64) {
        if self.inner.frozen.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        for entry in self.inner.entries.lock().values() {
            entry.sources.write().retain(|(source, _, _)| *source != id);
        }
        self.inner.tables.write().retain(|(source, _)| *source != id);
    }

    /// Every attached table (self-metrics count objects and series from them).
    pub fn tables(&self) -> Vec<Arc<SeriesTable>> {
        self.inner.tables.read().iter().map(|(_, t)| t.clone()).collect()
    }

    fn instrument(&self, spec: &MetricSpec) -> Entry {
        let sources: Sources = Arc::default();
        let read = sources.clone();
        let meter = &self.inner.meter;
        let name = spec.name.clone();
        let instrument = match spec.kind {
            InstrumentKind::Gauge => Instrument::Gauge(
                meter
                    .f64_observable_gauge(name)
                    .with_description(spec.description.clone())
                    .with_unit(spec.unit.clone())
                    .with_callback(move |o| observe_all(&read, |v, a| o.observe(v, a)))
                    .build(),
            ),
            InstrumentKind::Counter => Instrument::Counter(
                meter
                    .f64_observable_counter(name)
                    .with_description(spec.description.clone())
                    .with_unit(spec.unit.clone())
                    .with_callback(move |o| observe_all(&read, |v, a| o.observe(v, a)))
                    .build(),
            ),
            InstrumentKind::UpDownCounter => Instrument::UpDown(
                meter
                    .f64_observable_up_down_counter(name)
                    .with_description(spec.description.clone())
                    .with_unit(spec.unit.clone())
                    .with_callback(move |o| observe_all(&read, |v, a| o.observe(v, a)))
                    .build(),
            ),
        };
        Entry { spec: spec.clone(), sources, _instrument: instrument }
    }
}

fn observe_all(sources: &Sources, mut observe: impl FnMut(f64, &[opentelemetry::KeyValue])) {
    let sources: Vec<(Arc<SeriesTable>, MetricId)> =
        sources.read().iter().map(|(_, t, m)| (t.clone(), *m)).collect();
    for (table, metric) in sources {
        table.observe(metric, &mut observe);
    }
}

impl TableHandle {
    pub fn table(&self) -> &Arc<SeriesTable> {
        &self.table
    }
}

impl std::ops::Deref for TableHandle {
    type Target = SeriesTable;
    fn deref(&self) -> &SeriesTable {
        &self.table
    }
}

impl Drop for TableHandle {
    fn drop(&mut self) {
        self.registry.detach(self.id);
    }
}
