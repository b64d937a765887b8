//! One read of the series tables: every attached table, summed and aggregated metrics first
//! (whole, they have few series), then the per-object rows a batch at a time. The read is paced
//! by its consumer: an export encodes one bounded chunk and sends it before asking for more, a
//! scrape or `render` takes everything at once. Table locks are held only while one batch is
//! copied.

use std::collections::HashMap;
use std::sync::Arc;

use crate::series::encoded;
use crate::series::{Aggregation, MetricId, MetricSpec, MetricsRegistry, SeriesTable};

/// Rows copied per table lock.
pub(super) const ROWS_PER_LOCK: usize = 256;

/// One exported metric of a read: its spec and its number among the read's metrics (one
/// number per exported name, whichever tables carry it), so a sink finds it by index.
#[derive(Clone, Copy)]
pub(super) struct MetricRef<'a> {
    pub index: usize,
    pub spec: &'a MetricSpec,
}

/// Where the points of a read go.
pub(super) trait PointSink {
    /// One point whose attributes are `shared` then `rest`, both encoded as
    /// `NumberDataPoint.attributes` fields (`series::encoded`).
    fn push(&mut self, metric: MetricRef<'_>, value: f64, shared: &[u8], rest: &[u8]);
    /// Points pushed so far.
    fn points(&self) -> usize;
}

/// One table being read: the specs it is exported with, its key snapshot and how far the read
/// got.
struct Cursor {
    table: Arc<SeriesTable>,
    specs: Vec<MetricSpec>,
    /// The read's number of each of `specs`.
    indices: Vec<usize>,
    keys: Option<Vec<Arc<str>>>,
    next_key: usize,
}

/// A read of the tables attached to a registry when it began.
pub(super) struct TableReader {
    /// In reverse order: the next table is the last.
    cursors: Vec<Cursor>,
}

impl TableReader {
    /// Starts reading every table attached to `registry` now whose objects have been listed.
    pub(super) fn new(registry: &MetricsRegistry) -> Self {
        let mut numbers: HashMap<String, usize> = HashMap::new();
        let mut cursors: Vec<Cursor> = registry
            .tables()
            .into_iter()
            .filter(|table| table.is_listed())
            .map(|table| {
                let specs: Vec<MetricSpec> =
                    table.specs().iter().map(|s| registry.exported_spec(s)).collect();
                let indices = specs
                    .iter()
                    .map(|s| {
                        let next = numbers.len();
                        *numbers.entry(s.name.clone()).or_insert(next)
                    })
                    .collect();
                Cursor { table, specs, indices, keys: None, next_key: 0 }
            })
            .collect();
        cursors.reverse();
        TableReader { cursors }
    }

    /// Moves points into `sink` until it holds at least `max_points` or every table is read;
    /// it may overshoot by one batch of rows (or a summed metric's series).
    pub(super) fn fill(&mut self, sink: &mut impl PointSink, max_points: usize) {
        while sink.points() < max_points {
            let Some(cursor) = self.cursors.last_mut() else { return };
            if cursor.keys.is_none() {
                let mut extra = Vec::new();
                encoded::put_attributes(&mut extra, cursor.table.aggregate_attributes());
                let mut attributes = Vec::new();
                for (i, spec) in cursor.specs.iter().enumerate() {
                    let id = MetricId(i as u32);
                    if cursor.table.spec(id).aggregation != Aggregation::PerObject {
                        let metric = MetricRef { index: cursor.indices[i], spec };
                        cursor.table.observe(id, |value, kvs| {
                            attributes.clear();
                            encoded::put_attributes(&mut attributes, kvs);
                            sink.push(metric, value, &attributes, &extra);
                        });
                    }
                }
                cursor.keys = Some(cursor.table.keys());
                continue;
            }
            let keys = cursor.keys.as_deref().unwrap_or_default();
            if cursor.next_key >= keys.len() {
                self.cursors.pop();
                continue;
            }
            let end = (cursor.next_key + ROWS_PER_LOCK).min(keys.len());
            let (specs, indices) = (&cursor.specs, &cursor.indices);
            cursor.table.visit_rows(&keys[cursor.next_key..end], |metric, value, shared, rest| {
                let i = metric.0 as usize;
                sink.push(MetricRef { index: indices[i], spec: &specs[i] }, value, shared, rest);
            });
            cursor.next_key = end;
        }
    }

    /// Whether every table has been read.
    pub(super) fn is_done(&self) -> bool {
        self.cursors.is_empty()
    }
}
