//! One collector's (or one resource's) points, keyed by object.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use opentelemetry::KeyValue;
use parking_lot::RwLock;

use super::aggregates::DISTINCT_VALUE;
use super::combined::CombinedCache;
use super::encoded;
use super::rows::Rows;
use super::spec::{Aggregation, MetricId, MetricSpec, Point};

/// Points per object key (a UID, a member endpoint, ...), plus the specs of the metrics they use.
#[derive(Debug)]
pub struct SeriesTable {
    owner: String,
    /// Whether every object has been listed once; the export leaves the table out until then,
    /// so a count or a sum never shows a fraction of a resource after a (re)start.
    listed: AtomicBool,
    specs: Vec<MetricSpec>,
    rows: RwLock<Rows>,
    /// Attributes added to every summed or aggregated point (a shard's number).
    aggregate_attributes: Vec<KeyValue>,
    /// The series count and combined points, until the rows next change.
    combined: CombinedCache,
}

impl SeriesTable {
    /// `owner` names the collector (or collector/resource) in self-metrics.
    pub fn new(owner: impl Into<String>, specs: Vec<MetricSpec>) -> Self {
        SeriesTable {
            owner: owner.into(),
            listed: AtomicBool::new(true),
            specs,
            rows: RwLock::new(Rows::default()),
            aggregate_attributes: Vec::new(),
            combined: CombinedCache::default(),
        }
    }

    /// The same table, adding `attributes` to every point that combines objects (summed or
    /// aggregated), never to per-object points.
    pub fn tagging_aggregates(mut self, attributes: Vec<KeyValue>) -> Self {
        self.aggregate_attributes = attributes;
        self
    }

    /// What [`SeriesTable::tagging_aggregates`] adds.
    pub fn aggregate_attributes(&self) -> &[KeyValue] {
        &self.aggregate_attributes
    }

    /// The same table, left out of exports until [`SeriesTable::mark_listed`].
    pub fn awaiting_list(self) -> Self {
        self.listed.store(false, Ordering::Relaxed);
        self
    }

    /// Every object has been listed once: the table is exported from now on.
    pub fn mark_listed(&self) {
        self.listed.store(true, Ordering::Release);
    }

    /// Whether the table is exported.
    pub fn is_listed(&self) -> bool {
        self.listed.load(Ordering::Acquire)
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn specs(&self) -> &[MetricSpec] {
        &self.specs
    }

    /// The id of a metric by its full name.
    pub fn metric_id(&self, name: &str) -> Option<MetricId> {
        self.specs.iter().position(|s| s.name == name).map(|i| MetricId(i as u32))
    }

    pub fn spec(&self, id: MetricId) -> &MetricSpec {
        &self.specs[id.0 as usize]
    }

    fn per_object(&self, metric: MetricId) -> bool {
        self.spec(metric).aggregation == Aggregation::PerObject
    }

    /// The rows, to be written to: their generation moves on, so what was combined from them
    /// is computed again.
    fn written(&self) -> parking_lot::RwLockWriteGuard<'_, Rows> {
        let mut rows = self.rows.write();
        rows.generation += 1;
        rows
    }

    /// Sets all points of one object, replacing what it had. An empty list removes the object.
    pub fn replace(&self, key: &str, points: Vec<Point>) {
        self.replace_keyed(key, || Arc::from(key), points);
    }

    /// [`SeriesTable::replace`] with the key as shared text: a new row keeps this text instead
    /// of a copy.
    pub fn replace_shared(&self, key: &Arc<str>, points: Vec<Point>) {
        self.replace_keyed(key, || key.clone(), points);
    }

    /// Both of the above: a new row is kept under `shared_key()`.
    fn replace_keyed(&self, key: &str, shared_key: impl FnOnce() -> Arc<str>, points: Vec<Point>) {
        let mut rows = self.written();
        if points.is_empty() {
            rows.map.remove(key);
        } else {
            rows.insert_keyed(key, shared_key, points, |p| self.per_object(p.metric));
        }
    }

    /// Removes one object's points.
    pub fn remove(&self, key: &str) {
        self.written().map.remove(key);
    }

    /// Keeps only the objects for which `keep` is true (after a relist).
    pub fn retain(&self, mut keep: impl FnMut(&str) -> bool) {
        self.written().map.retain(|k, _| keep(k));
    }

    pub fn clear(&self) {
        self.written().map.clear();
    }

    pub fn contains(&self, key: &str) -> bool {
        self.rows.read().map.contains_key(key)
    }

    /// The keys currently held.
    pub fn keys(&self) -> Vec<Arc<str>> {
        self.rows.read().map.keys().cloned().collect()
    }

    /// Calls `visit(metric, value, shared, rest)` for the per-object points of each of `keys`
    /// still held, under one short read lock; a point's attributes are `shared` then `rest`,
    /// both encoded as `NumberDataPoint.attributes` (see `encoded`).
    pub fn visit_rows(&self, keys: &[Arc<str>], mut visit: impl FnMut(MetricId, f64, &[u8], &[u8])) {
        let per_object: Vec<bool> =
            (0..self.specs.len()).map(|i| self.per_object(MetricId(i as u32))).collect();
        let rows = self.rows.read();
        for row in keys.iter().filter_map(|k| rows.map.get(&**k)) {
            for p in row.points().filter(|p| per_object[p.metric.0 as usize]) {
                visit(p.metric, p.value, p.shared, p.rest);
            }
        }
    }

    /// Number of objects with points.
    pub fn object_count(&self) -> usize {
        self.rows.read().map.len()
    }

    /// Number of series the table exports (summed metrics count once per attribute set).
    pub fn series_count(&self) -> usize {
        let rows = self.rows.read();
        self.combined.series(rows.generation, || self.count_series(&rows))
    }

    fn count_series(&self, rows: &Rows) -> usize {
        let mut per_object = 0usize;
        let mut summed: Vec<HashSet<Vec<u8>>> = vec![HashSet::new(); self.specs.len()];
        let mut attributes = Vec::new();
        for row in rows.map.values() {
            for p in row.points() {
                if self.per_object(p.metric) {
                    per_object += 1;
                    continue;
                }
                attributes.clear();
                attributes.extend_from_slice(p.shared);
                attributes.extend_from_slice(p.rest);
                if let Some(last) = encoded::attributes(&attributes).last() {
                    if last.key == DISTINCT_VALUE {
                        attributes.truncate(attributes.len() - last.bytes.len());
                    }
                }
                let set = &mut summed[p.metric.0 as usize];
                if !set.contains(attributes.as_slice()) {
                    set.insert(attributes.clone());
                }
            }
        }
        per_object + summed.iter().map(HashSet::len).sum::<usize>()
    }

    /// Calls `observe` for every series of `metric`. Summed metrics are combined across objects
    /// first (grouped by their encoded attributes, decoded once per group). Points are copied out
    /// under the read lock, which is held only for the copy.
    pub fn observe(&self, metric: MetricId, mut observe: impl FnMut(f64, &[KeyValue])) {
        let rows = self.rows.read();
        if self.per_object(metric) {
            for row in rows.map.values() {
                for p in row.points().filter(|p| p.metric == metric) {
                    observe(p.value, &p.attributes());
                }
            }
            return;
        }
        let combined = self.combined.points(rows.generation, metric, || self.combine(&rows, metric));
        drop(rows);
        for (attributes, value) in combined.iter() {
            observe(*value, attributes);
        }
    }

    /// The points of a summed or aggregated `metric`, combined across `rows`.
    fn combine(&self, rows: &Rows, metric: MetricId) -> Vec<(Vec<KeyValue>, f64)> {
        let points = rows.map.values().flat_map(|r| r.points()).filter(|p| p.metric == metric);
        match self.spec(metric).aggregation {
            Aggregation::PerObject => points.map(|p| (p.attributes(), p.value)).collect(),
            Aggregation::SumAcrossObjects => {
                let mut sums: Vec<(Vec<u8>, f64)> = Vec::new();
                let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
                let mut attributes = Vec::new();
                for p in points {
                    let attributes: &[u8] = if p.shared.is_empty() {
                        p.rest
                    } else {
                        attributes.clear();
                        attributes.extend_from_slice(p.shared);
                        attributes.extend_from_slice(p.rest);
                        &attributes
                    };
                    match index.get(attributes) {
                        Some(&i) => sums[i].1 += p.value,
                        None => {
                            index.insert(attributes.to_vec(), sums.len());
                            sums.push((attributes.to_vec(), p.value));
                        }
                    }
                }
                sums.into_iter()
                    .filter(|(_, v)| *v != 0.0)
                    .map(|(attrs, value)| (encoded::decode(&attrs), value))
                    .collect()
            }
            Aggregation::Reduce(reduction) => {
                reduction.reduce(points.map(|p| (p.attributes(), p.value)).collect())
            }
        }
    }

    /// The points of one object (tests and `render`).
    pub fn points_of(&self, key: &str) -> Vec<Point> {
        self.rows.read().map.get(key).map(|r| r.to_points()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> SeriesTable {
        SeriesTable::new(
            "t",
            vec![
                MetricSpec::gauge("a.phase", "1", "phase"),
                MetricSpec::gauge("a.count", "1", "count").summed(),
            ],
        )
    }

    fn collect(t: &SeriesTable, id: MetricId) -> Vec<(String, f64)> {
        let mut out = Vec::new();
        t.observe(id, |v, attrs| out.push((format!("{attrs:?}"), v)));
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    #[test]
    fn replace_remove_and_retain_change_what_is_observed() {
        let t = table();
        let phase = t.metric_id("a.phase").unwrap();
        t.replace("u1", vec![Point::new(phase, vec![KeyValue::new("name", "x")], 1.0)]);
        t.replace("u2", vec![Point::new(phase, vec![KeyValue::new("name", "y")], 2.0)]);
        assert_eq!(collect(&t, phase).len(), 2);
        t.replace("u1", vec![Point::new(phase, vec![KeyValue::new("name", "x")], 5.0)]);
        assert!(collect(&t, phase).iter().any(|(_, v)| *v == 5.0));
        t.remove("u2");
        assert_eq!(collect(&t, phase).len(), 1);
        t.retain(|k| k != "u1");
        assert!(collect(&t, phase).is_empty());
        assert_eq!(t.object_count(), 0);
    }

    #[test]
    fn a_shared_key_is_kept_not_copied() {
        let t = table();
        let phase = t.metric_id("a.phase").unwrap();
        let key: Arc<str> = Arc::from("u1");
        t.replace_shared(&key, vec![Point::new(phase, vec![KeyValue::new("name", "x")], 1.0)]);
        assert!(Arc::ptr_eq(&t.keys()[0], &key));
        t.replace_shared(&key, Vec::new());
        assert_eq!(t.object_count(), 0, "no points removes the object");
    }

    #[test]
    fn summed_metrics_combine_across_objects_and_vanish_at_zero() {
        let t = table();
        let count = t.metric_id("a.count").unwrap();
        let running = || vec![KeyValue::new("value", "Running")];
        t.replace("u1", vec![Point::new(count, running(), 1.0)]);
        t.replace("u2", vec![Point::new(count, running(), 1.0)]);
        t.replace("u3", vec![Point::new(count, vec![KeyValue::new("value", "Failed")], 1.0)]);
        let got = collect(&t, count);
        assert_eq!(got.len(), 2);
        assert!(got.iter().any(|(a, v)| a.contains("Running") && *v == 2.0));
        assert_eq!(t.series_count(), 2);
        t.remove("u3");
        assert_eq!(collect(&t, count).len(), 1);
    }

    /// Combined points and the series count are kept between reads, and every kind of write
    /// makes them computed again.
    #[test]
    fn combined_points_follow_every_write() {
        let t = table();
        let count = t.metric_id("a.count").unwrap();
        let value = |v: &'static str| vec![KeyValue::new("value", v)];
        let sums = |t: &SeriesTable| collect(t, count).into_iter().map(|(_, v)| v).sum::<f64>();
        t.replace("u1", vec![Point::new(count, value("a"), 1.0)]);
        assert_eq!((sums(&t), sums(&t), t.series_count()), (1.0, 1.0, 1));
        t.replace("u2", vec![Point::new(count, value("b"), 1.0)]);
        assert_eq!((sums(&t), t.series_count()), (2.0, 2));
        t.replace("u2", vec![Point::new(count, value("a"), 1.0)]);
        assert_eq!((sums(&t), t.series_count()), (2.0, 1));
        t.remove("u1");
        assert_eq!(sums(&t), 1.0);
        t.retain(|_| false);
        assert_eq!((sums(&t), t.series_count()), (0.0, 0));
        t.replace("u3", vec![Point::new(count, value("c"), 1.0)]);
        assert_eq!(sums(&t), 1.0);
        t.clear();
        assert_eq!((sums(&t), t.series_count()), (0.0, 0));
    }
}
