//! Compact storage of one table's points, their attributes encoded once.
//!
//! Extracted points repeat their object's attributes (name, namespace, UID) on every point and
//! the same few metric attributes (`phase=Running`, `condition=Ready`) on every object. A row
//! keeps its object's shared attributes once, and each point only its value, metric and a
//! reference to its remaining attributes, interned per table. Both are kept as the protobuf bytes
//! an OTLP export carries (`encoded`), written when the object is, so an export copies them and
//! writes only each point's times and value.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use opentelemetry::KeyValue;

use super::encoded;
use super::spec::{MetricId, Point};

/// One object's points.
#[derive(Debug)]
pub(crate) struct Row {
    /// The encoded attributes every per-object point of the object starts with.
    shared: Box<[u8]>,
    points: Box<[StoredPoint]>,
}

#[derive(Debug)]
pub(crate) struct StoredPoint {
    pub metric: MetricId,
    /// Whether the point's attributes start with its row's shared ones.
    with_shared: bool,
    pub value: f64,
    /// The rest of its encoded attributes (all of them when `with_shared` is false).
    rest: Tail,
}

/// Interned encoded attributes behind one thin pointer (a point is 24 bytes, not 32), equal and
/// hashed by their bytes.
#[derive(Debug, Clone)]
struct Tail(Arc<Box<[u8]>>);

impl Borrow<[u8]> for Tail {
    fn borrow(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for Tail {
    fn eq(&self, other: &Self) -> bool {
        self.0[..] == other.0[..]
    }
}

impl Eq for Tail {}

impl Hash for Tail {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0[..].hash(state)
    }
}

impl Row {
    pub fn points(&self) -> &[StoredPoint] {
        &self.points
    }

    /// A point's encoded attributes in two parts, shared then the rest.
    pub fn parts<'a>(&'a self, point: &'a StoredPoint) -> (&'a [u8], &'a [u8]) {
        if point.with_shared {
            (&self.shared, &point.rest.0)
        } else {
            (&[], &point.rest.0)
        }
    }

    /// A point's attributes as `KeyValue`s (decoded: the slow path).
    pub fn attributes(&self, point: &StoredPoint) -> Vec<KeyValue> {
        let (shared, rest) = self.parts(point);
        let mut attributes = encoded::decode(shared);
        attributes.extend(encoded::decode(rest));
        attributes
    }

    /// The points as collectors produced them.
    pub fn to_points(&self) -> Vec<Point> {
        self.points.iter().map(|p| Point::new(p.metric, self.attributes(p), p.value)).collect()
    }
}

/// The rows of a table and the pool their points' attribute tails are interned in.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// Keyed by shared text, so an export's snapshot of the keys copies no string; hashed with
    /// foldhash (an export looks every key up again).
    pub map: HashMap<Arc<str>, Row, foldhash::fast::RandomState>,
    /// Moves on at every write (see `SeriesTable`), so what is computed from every row can be
    /// kept until then.
    pub generation: u64,
    pool: HashSet<Tail>,
    /// Pool size at which unreferenced entries are dropped next.
    sweep_at: usize,
    /// Scratch space for encoding a tail before it is looked up in the pool.
    scratch: Vec<u8>,
}

/// The longest prefix of attributes common to every point in `points` selected by `include`.
fn shared_prefix<'a>(points: &'a [Point], include: &impl Fn(&Point) -> bool) -> &'a [KeyValue] {
    let mut selected = points.iter().filter(|p| include(p));
    let Some(first) = selected.next() else { return &[] };
    let mut len = first.attributes.len();
    for p in selected {
        len = first.attributes[..len].iter().zip(&p.attributes).take_while(|(a, b)| a == b).count();
    }
    &first.attributes[..len]
}

impl Rows {
    /// Stores `points` as `key`'s row; `per_object` tells the points whose attributes start with
    /// the object's own (summed points usually do not).
    pub fn insert(&mut self, key: &str, points: Vec<Point>, per_object: impl Fn(&Point) -> bool) {
        let shared_attributes = shared_prefix(&points, &per_object);
        let shared: Box<[u8]> = encoded::encode(shared_attributes).into();
        let stored = points
            .iter()
            .map(|p| {
                let with_shared =
                    !shared_attributes.is_empty() && p.attributes.starts_with(shared_attributes);
                let rest =
                    if with_shared { &p.attributes[shared_attributes.len()..] } else { &p.attributes[..] };
                StoredPoint { metric: p.metric, with_shared, value: p.value, rest: self.intern(rest) }
            })
            .collect();
        let row = Row { shared, points: stored };
        match self.map.get_mut(key) {
            Some(slot) => *slot = row,
            None => {
                self.map.insert(Arc::from(key), row);
            }
        }
        self.sweep_if_grown();
    }

    /// The encoded `attributes`, shared with every other point whose tail is the same.
    fn intern(&mut self, attributes: &[KeyValue]) -> Tail {
        self.scratch.clear();
        encoded::put_attributes(&mut self.scratch, attributes);
        if let Some(known) = self.pool.get(self.scratch.as_slice()) {
            return known.clone();
        }
        let new = Tail(Arc::new(self.scratch.as_slice().into()));
        self.pool.insert(new.clone());
        new
    }

    /// Drops interned tails no point uses any more, once the pool has doubled since the last
    /// sweep (amortized constant time per insert).
    fn sweep_if_grown(&mut self) {
        if self.pool.len() < self.sweep_at {
            return;
        }
        self.pool.retain(|tail| Arc::strong_count(&tail.0) > 1);
        self.sweep_at = (2 * self.pool.len()).max(1024);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(metric: u32, attributes: &[(&'static str, &'static str)], value: f64) -> Point {
        Point::new(MetricId(metric), attributes.iter().map(|(k, v)| KeyValue::new(*k, *v)).collect(), value)
    }

    #[test]
    fn points_come_back_as_stored_and_tails_are_shared_across_rows() {
        let mut rows = Rows::default();
        let object = |name: &'static str| {
            vec![
                point(0, &[("name", name), ("ns", "a"), ("phase", "Running")], 1.0),
                point(0, &[("name", name), ("ns", "a"), ("phase", "Failed")], 0.0),
                point(1, &[("phase", "Running")], 1.0),
            ]
        };
        rows.insert("u1", object("x"), |p| p.metric == MetricId(0));
        rows.insert("u2", object("y"), |p| p.metric == MetricId(0));
        assert_eq!(rows.map["u1"].to_points(), object("x"));
        assert_eq!(rows.map["u2"].to_points(), object("y"));
        let shared = encoded::encode(&[KeyValue::new("name", "x"), KeyValue::new("ns", "a")]);
        assert_eq!(&*rows.map["u1"].shared, shared.as_slice());
        let (a, b) = (&rows.map["u1"].points[0].rest, &rows.map["u2"].points[0].rest);
        assert!(Arc::ptr_eq(&a.0, &b.0), "phase=Running is stored once");
        assert_eq!(rows.pool.len(), 2, "[phase=Running], [phase=Failed]");
        let summed = &rows.map["u1"].points[2];
        assert_eq!(rows.map["u1"].parts(summed).0, &[] as &[u8]);
        assert!(Arc::ptr_eq(&summed.rest.0, &rows.map["u1"].points[0].rest.0), "the same tail, once");
        assert_eq!(std::mem::size_of::<StoredPoint>(), 24);
    }

    #[test]
    fn unused_tails_are_swept() {
        let mut rows = Rows::default();
        for i in 0..5000 {
            let value = format!("v{i}");
            rows.insert("only", vec![Point::new(MetricId(0), vec![KeyValue::new("k", value)], 1.0)], |_| {
                false
            });
        }
        assert!(rows.pool.len() < 2100, "{} tails kept for one row", rows.pool.len());
    }
}
