//! Series identity within one resource (SPEC §4.1): two objects whose points of one per-object
//! metric carry identical attributes would export one series twice. The first object written
//! keeps the series; the other's point is dropped and reported.
//!
//! Cost: one `u64` hash per held per-object point, mapped to its owner's key (an `Arc<str>`
//! shared by all points of the object), plus one entry per object with its number of points
//! (for the guards) and its hashes, so an update or a delete releases them: about 40 bytes per
//! series and 80 per object.
//!
//! Most configs need none of it: when `commonLabels` (which start every per-object point) read
//! the object's UID, or both its name and namespace, points of two objects always differ, since
//! no two objects a watch lists at once share those. Such resources keep only the count.

use std::collections::hash_map::{DefaultHasher, Entry};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::plan::{LabelPath, LabelSource};
use crate::series::{MetricId, Point};

/// A point dropped because another object already holds its series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub metric: MetricId,
    /// The key of the object that keeps the series.
    pub owner: Arc<str>,
}

/// What one object holds.
#[derive(Debug)]
struct Held {
    /// All its points, summed and aggregated ones included.
    points: usize,
    /// The hashes of its per-object series.
    series: Box<[u64]>,
}

/// Which object holds each per-object series of one resource, and how many points each holds.
#[derive(Debug, Default)]
pub struct SeriesOwners {
    /// Whether series are checked at all (see the module).
    checked: bool,
    owners: HashMap<u64, Arc<str>, foldhash::fast::RandomState>,
    held: HashMap<Arc<str>, Held, foldhash::fast::RandomState>,
}

/// Whether attributes read by `labels` tell every object of a watch apart: its UID, or its name
/// and namespace (a cluster-scoped object has no namespace, and its name is unique).
pub fn labels_identify_objects(labels: &[LabelPath]) -> bool {
    let reads = |wanted: &str| {
        labels.iter().any(|label| matches!(&label.source, LabelSource::Path(p) if p.as_str() == wanted))
    };
    reads("metadata.uid") || (reads("metadata.name") && reads("metadata.namespace"))
}

fn series_hash(point: &Point) -> u64 {
    let mut hasher = DefaultHasher::new();
    point.metric.0.hash(&mut hasher);
    for kv in &point.attributes {
        kv.key.as_str().hash(&mut hasher);
        kv.value.as_str().hash(&mut hasher);
    }
    hasher.finish()
}

impl SeriesOwners {
    /// Owners that check series only when `checked`.
    pub fn new(checked: bool) -> Self {
        SeriesOwners { checked, ..SeriesOwners::default() }
    }

    /// Makes `points` the points of `key`, releasing what it held before; points of a
    /// `per_object` metric whose series another object holds are removed and returned.
    pub fn admit(
        &mut self,
        key: &str,
        points: &mut Vec<Point>,
        per_object: impl Fn(MetricId) -> bool,
    ) -> Vec<Collision> {
        let key = self.release(key).unwrap_or_else(|| Arc::from(key));
        let mut hashes = Vec::new();
        let mut collisions = Vec::new();
        points.retain(|point| {
            if !self.checked || !per_object(point.metric) {
                return true;
            }
            let hash = series_hash(point);
            match self.owners.entry(hash) {
                Entry::Occupied(owner) if **owner.get() != *key => {
                    collisions.push(Collision { metric: point.metric, owner: owner.get().clone() });
                    false
                }
                Entry::Occupied(_) => true,
                Entry::Vacant(slot) => {
                    slot.insert(key.clone());
                    hashes.push(hash);
                    true
                }
            }
        });
        if !points.is_empty() {
            self.held.insert(key, Held { points: points.len(), series: hashes.into_boxed_slice() });
        }
        collisions
    }

    /// Releases the series of `key` (a deleted object); returns its shared key for reuse.
    pub fn release(&mut self, key: &str) -> Option<Arc<str>> {
        let (key, held) = self.held.remove_entry(key)?;
        for hash in held.series.iter() {
            if self.owners.get(hash).is_some_and(|owner| *owner == key) {
                self.owners.remove(hash);
            }
        }
        Some(key)
    }

    /// The text `key` is kept as, while it holds points.
    pub fn shared_key(&self, key: &str) -> Option<Arc<str>> {
        self.held.get_key_value(key).map(|(key, _)| key.clone())
    }

    /// The number of points `key` holds (0 when none).
    pub fn points_of(&self, key: &str) -> usize {
        self.held.get(key).map_or(0, |held| held.points)
    }

    /// Whether `key` holds points.
    pub fn holds(&self, key: &str) -> bool {
        self.held.contains_key(key)
    }

    /// Number of objects holding points.
    pub fn objects(&self) -> usize {
        self.held.len()
    }

    /// The objects holding points.
    pub fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.held.keys()
    }

    /// Number of series held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::KeyValue;

    use super::*;

    fn point(metric: u32, name: &str) -> Point {
        Point::new(MetricId(metric), vec![KeyValue::new("name", name.to_owned())], 1.0)
    }

    fn admit(owners: &mut SeriesOwners, key: &str, points: &[Point]) -> (usize, Vec<(u32, String)>) {
        let mut points = points.to_vec();
        let collisions = owners.admit(key, &mut points, |m| m.0 != 9);
        (points.len(), collisions.into_iter().map(|c| (c.metric.0, c.owner.to_string())).collect())
    }

    #[test]
    fn the_first_object_keeps_a_series_until_it_lets_go() {
        let mut owners = SeriesOwners::new(true);
        assert_eq!(admit(&mut owners, "u1", &[point(0, "a"), point(1, "a")]), (2, vec![]));
        assert_eq!(admit(&mut owners, "u2", &[point(0, "a"), point(0, "b")]), (1, vec![(0, "u1".into())]));
        // An object rewriting its own series is no collision.
        assert_eq!(admit(&mut owners, "u1", &[point(0, "a"), point(1, "a")]), (2, vec![]));
        // Summed metrics (9 here) are meant to repeat.
        assert_eq!(admit(&mut owners, "u3", &[point(9, "a")]), (1, vec![]));
        assert_eq!(owners.len(), 3);

        // An update that drops the attribute set frees it for the next writer.
        assert_eq!(admit(&mut owners, "u1", &[point(1, "a")]), (1, vec![]));
        assert_eq!(admit(&mut owners, "u2", &[point(0, "a"), point(0, "b")]), (2, vec![]));
        assert_eq!(admit(&mut owners, "u1", &[point(0, "a")]), (0, vec![(0, "u2".into())]));

        // A delete frees everything the object held, and nothing else.
        owners.release("u2");
        assert_eq!(owners.len(), 0);
        assert_eq!(admit(&mut owners, "u1", &[point(0, "a")]), (1, vec![]));
    }
}

#[cfg(test)]
mod unchecked_tests {
    use opentelemetry::KeyValue;

    use super::*;
    use crate::collectors::crds::Path;

    fn label(name: &str, path: &str) -> LabelPath {
        LabelPath { name: name.to_owned().into(), source: LabelSource::Path(Path::compile(path).unwrap()) }
    }

    #[test]
    fn the_uid_or_the_name_and_namespace_identify_objects() {
        let name = label("name", "metadata.name");
        let namespace = label("ns", "metadata.namespace");
        let uid = label("uid", "metadata.uid");
        assert!(labels_identify_objects(&[name.clone(), namespace.clone()]));
        assert!(labels_identify_objects(&[uid]));
        assert!(!labels_identify_objects(&[name]), "one name in two namespaces");
        assert!(!labels_identify_objects(&[namespace, label("app", "metadata.labels.app")]));
        assert!(!labels_identify_objects(&[]));
    }

    #[test]
    fn unchecked_owners_keep_counts_and_no_series() {
        let mut owners = SeriesOwners::new(false);
        let point = |name: &str| Point::new(MetricId(0), vec![KeyValue::new("name", name.to_owned())], 1.0);
        let mut points = vec![point("a"), point("b")];
        assert!(owners.admit("u1", &mut points, |_| true).is_empty());
        assert_eq!((owners.len(), owners.points_of("u1"), owners.objects()), (0, 2, 1));
        owners.release("u1");
        assert_eq!(owners.objects(), 0);
    }
}
