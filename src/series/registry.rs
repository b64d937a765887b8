//! The set of series tables the export reads.
//!
//! Tables are not SDK instruments: at each export the exporter reads them directly into OTLP
//! requests of bounded size (`series::otlp`), so a million points never pass through the SDK's
//! per-attribute-set aggregation. One metric name has one spec, the first one attached;
//! collectors can be restarted (hot reload) and a detached table's points disappear from the
//! next export.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::spec::MetricSpec;
use super::table::SeriesTable;

#[derive(Default)]
struct Inner {
    /// The spec each metric name is exported with.
    specs: Mutex<HashMap<String, MetricSpec>>,
    tables: RwLock<Vec<(u64, Arc<SeriesTable>)>>,
    next_id: AtomicU64,
    /// Set at shutdown: stopping collectors no longer detach their tables, so the final
    /// export still carries their series.
    frozen: AtomicBool,
}

/// The set of tables feeding the export. Cheap to clone.
#[derive(Clone, Default)]
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
    pub fn new() -> Self {
        Self::default()
    }

    /// Creates a table with these metrics and attaches it to the export.
    pub fn table(&self, owner: impl Into<String>, specs: Vec<MetricSpec>) -> TableHandle {
        self.attach(Arc::new(SeriesTable::new(owner, specs)))
    }

    /// Like [`MetricsRegistry::table`], for a collector that lists its objects first: the
    /// table is exported only once [`SeriesTable::mark_listed`] is called.
    pub fn table_after_list(&self, owner: impl Into<String>, specs: Vec<MetricSpec>) -> TableHandle {
        self.attach(Arc::new(SeriesTable::new(owner, specs).awaiting_list()))
    }

    /// Attaches an existing table.
    pub fn attach(&self, table: Arc<SeriesTable>) -> TableHandle {
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let mut specs = self.inner.specs.lock();
        for spec in table.specs() {
            let known = specs.entry(spec.name.clone()).or_insert_with(|| spec.clone());
            if known.kind != spec.kind || known.unit != spec.unit {
                tracing::warn!(
                    metric = %spec.name,
                    "metric registered earlier with another unit or kind; keeping the first"
                );
            }
        }
        self.inner.tables.write().push((id, table.clone()));
        TableHandle { id, table, registry: self.clone() }
    }

    /// Keeps every table attached from now on (see `Inner::frozen`).
    pub fn freeze(&self) {
        self.inner.frozen.store(true, Ordering::SeqCst);
    }

    /// Removes a table from the export, and the specs no attached table uses any more, so a
    /// metric attached again later (a metric source's update changing a unit) takes its new spec.
    fn detach(&self, id: u64) {
        if self.inner.frozen.load(Ordering::SeqCst) {
            return;
        }
        // In `attach`'s order (specs, then tables), so the two never wait on each other.
        let mut specs = self.inner.specs.lock();
        let mut tables = self.inner.tables.write();
        tables.retain(|(source, _)| *source != id);
        specs.retain(|name, _| tables.iter().any(|(_, t)| t.specs().iter().any(|s| s.name == *name)));
    }

    /// Every attached table (self-metrics count objects and series from them).
    pub fn tables(&self) -> Vec<Arc<SeriesTable>> {
        self.inner.tables.read().iter().map(|(_, t)| t.clone()).collect()
    }

    /// The spec a metric is exported with: the first one attached under its name.
    pub fn exported_spec(&self, spec: &MetricSpec) -> MetricSpec {
        self.inner.specs.lock().get(&spec.name).cloned().unwrap_or_else(|| spec.clone())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_attached_again_after_its_table_is_gone_takes_its_new_spec() {
        let registry = MetricsRegistry::new();
        let first = registry.table("a", vec![MetricSpec::gauge("m", "", "")]);
        let kept = registry.table("b", vec![MetricSpec::gauge("k", "s", "")]);
        let clash = registry.table("c", vec![MetricSpec::gauge("m", "By", "")]);
        assert_eq!(registry.exported_spec(&MetricSpec::gauge("m", "By", "")).unit, "", "the first one wins");
        drop((first, clash));
        let again = registry.table("d", vec![MetricSpec::gauge("m", "By", "")]);
        assert_eq!(registry.exported_spec(again.specs().first().unwrap()).unit, "By");
        assert_eq!(registry.exported_spec(&MetricSpec::gauge("k", "", "")).unit, "s", "still attached");
        drop(kept);
    }
}
