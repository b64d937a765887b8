//! What one resource may add to its table (SPEC §4.1): the cardinality guards
//! (`maxSeriesPerObject`, `maxSeries`) and series identity, applied alike by the watch and by
//! `render`. Dropped points change nothing else: the object's other points are kept.

use std::sync::Arc;

use super::identity::{labels_identify_objects, Collision, SeriesOwners};
use super::plan::CompiledResource;
use crate::series::{Aggregation, MetricSpec, Point};

/// The limits of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesLimits {
    pub per_object: usize,
    pub total: usize,
    /// Most objects holding points (a metric source's `maxObjectsPerSource`); the points of
    /// objects beyond it are dropped, so they count in no metric nor aggregation.
    pub objects: usize,
}

/// What became of one object's points.
#[derive(Debug)]
pub struct Admitted {
    /// The object's key, as the admission keeps it (for the table to keep the same text).
    pub key: Arc<str>,
    pub points: Vec<Point>,
    /// Points beyond `maxSeriesPerObject` or `maxSeries`.
    pub dropped: usize,
    pub collisions: Vec<Collision>,
}

/// The points each object holds in one resource's table.
#[derive(Debug)]
pub struct Admission {
    limits: SeriesLimits,
    per_object: Vec<bool>,
    total: usize,
    owners: SeriesOwners,
}

impl Admission {
    pub fn new(resource: &CompiledResource) -> Self {
        let per_object =
            resource.specs.iter().map(|s: &MetricSpec| s.aggregation == Aggregation::PerObject).collect();
        let checked = !labels_identify_objects(&resource.common_labels);
        Admission { limits: resource.limits, per_object, total: 0, owners: SeriesOwners::new(checked) }
    }

    /// The points of `key` to write to the table, in place of what it held.
    pub fn admit(&mut self, key: &str, mut points: Vec<Point>) -> Admitted {
        let known = self.owners.holds(key);
        self.total -= self.owners.points_of(key);
        let full = !known && self.owners.objects() >= self.limits.objects;
        let room =
            if full { 0 } else { self.limits.per_object.min(self.limits.total.saturating_sub(self.total)) };
        let dropped = points.len().saturating_sub(room);
        points.truncate(room);
        let per_object = &self.per_object;
        let collisions =
            self.owners.admit(key, &mut points, |m| per_object.get(m.0 as usize).copied().unwrap_or(true));
        self.total += points.len();
        let key = self.owners.shared_key(key).unwrap_or_else(|| Arc::from(key));
        Admitted { key, points, dropped, collisions }
    }

    /// Forgets the points of `key` (a deleted object).
    pub fn forget(&mut self, key: &str) {
        self.total -= self.owners.points_of(key);
        self.owners.release(key);
    }

    /// Forgets every object for which `keep` is false (after a relist).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let gone: Vec<Arc<str>> = self.owners.keys().filter(|k| !keep(k)).cloned().collect();
        for key in gone {
            self.forget(&key);
        }
    }

    /// Points held across objects.
    #[cfg(test)]
    pub fn total(&self) -> usize {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;
    use crate::series::MetricId;

    fn admission(per_object: usize, total: usize) -> Admission {
        Admission {
            limits: SeriesLimits { per_object, total, objects: usize::MAX },
            per_object: vec![true],
            total: 0,
            owners: SeriesOwners::new(true),
        }
    }

    fn points(object: &str, n: usize) -> Vec<Point> {
        let attrs = |i: usize| vec![KeyValue::new("name", object.to_owned()), KeyValue::new("i", i as i64)];
        (0..n).map(|i| Point::new(MetricId(0), attrs(i), 1.0)).collect()
    }

    #[test]
    fn guards_drop_points_beyond_either_limit() {
        let mut a = admission(3, 5);
        let got = a.admit("u1", points("a", 4));
        assert_eq!((got.points.len(), got.dropped), (3, 1), "per object");
        let got = a.admit("u2", points("b", 3));
        assert_eq!((got.points.len(), got.dropped), (2, 1), "per resource");
        assert_eq!(a.total(), 5);
        // Rewriting an object first gives back its own room.
        let got = a.admit("u1", points("a", 3));
        assert_eq!((got.points.len(), got.dropped), (3, 0));
        a.forget("u2");
        assert_eq!(a.total(), 3);
        let got = a.admit("u3", points("c", 3));
        assert_eq!((got.points.len(), got.dropped), (2, 1));
        a.retain(|k| k == "u3");
        assert_eq!(a.total(), 2);
        assert!(a.admit("u1", points("a", 3)).collisions.is_empty());
    }

    /// The key handed to the table is the text the admission keeps, the same at every write.
    #[test]
    fn an_object_keeps_one_key() {
        let mut a = admission(3, 100);
        let first = a.admit("u1", points("a", 2)).key;
        let again = a.admit("u1", points("a", 3)).key;
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(&*a.admit("u2", Vec::new()).key, "u2", "an object without points still has its key");
    }

    #[test]
    fn objects_beyond_the_object_cap_hold_no_points() {
        let mut a = admission(10, 100);
        a.limits.objects = 2;
        assert_eq!(a.admit("u1", points("a", 2)).points.len(), 2);
        assert_eq!(a.admit("u2", points("b", 2)).points.len(), 2);
        let third = a.admit("u3", points("c", 2));
        assert_eq!((third.points.len(), third.dropped), (0, 2), "a third object is over the cap");
        assert_eq!(a.admit("u2", points("b", 3)).points.len(), 3, "a held object may change");
        a.forget("u1");
        assert_eq!(a.admit("u3", points("c", 2)).points.len(), 2, "room again once one is gone");
    }
}
