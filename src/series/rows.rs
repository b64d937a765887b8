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

/// One object's points: their values, and a reference to what they are apart from their values
/// (their [`Shape`]), which objects with the same metrics and attribute tails share.
#[derive(Debug)]
pub(crate) struct Row {
    shape: Shape,
    /// The points' values (8 bytes each, little-endian, in the shape's order), then the encoded
    /// attributes every per-object point of the object starts with: one allocation per object.
    data: Box<[u8]>,
}

/// One point of a row, borrowed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PointRef<'a> {
    pub metric: MetricId,
    pub value: f64,
    /// The point's encoded attributes in two parts: the row's shared ones (empty when the point
    /// does not start with them), then the rest.
    pub shared: &'a [u8],
    pub rest: &'a [u8],
}

impl PointRef<'_> {
    /// The point's attributes as `KeyValue`s (decoded: the slow path).
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut attributes = encoded::decode(self.shared);
        attributes.extend(encoded::decode(self.rest));
        attributes
    }
}

/// A point apart from its value: its metric, whether its attributes start with the row's
/// shared ones, and the rest of them.
#[derive(Debug, Clone)]
struct Slot {
    metric: MetricId,
    with_shared: bool,
    rest: Tail,
}

/// Tails are interned, so two slots are the same when they point at the same tail.
impl PartialEq for Slot {
    fn eq(&self, other: &Self) -> bool {
        self.metric == other.metric
            && self.with_shared == other.with_shared
            && Arc::ptr_eq(&self.rest.0, &other.rest.0)
    }
}

impl Eq for Slot {}

impl Hash for Slot {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.metric.0.hash(state);
        self.with_shared.hash(state);
        Arc::as_ptr(&self.rest.0).hash(state);
    }
}

/// The slots of a row, interned per table behind one thin pointer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Shape(Arc<Box<[Slot]>>);

impl Borrow<[Slot]> for Shape {
    fn borrow(&self) -> &[Slot] {
        &self.0
    }
}

/// Interned encoded attributes behind one thin pointer, equal and hashed by their bytes.
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

/// Bytes of one stored value.
const VALUE: usize = std::mem::size_of::<f64>();

impl Row {
    /// The points, in the order they were stored.
    pub fn points(&self) -> impl Iterator<Item = PointRef<'_>> + '_ {
        let (values, shared) = self.data.split_at(VALUE * self.shape.0.len());
        self.shape.0.iter().zip(values.chunks_exact(VALUE)).map(move |(slot, value)| PointRef {
            metric: slot.metric,
            value: f64::from_le_bytes(value.try_into().expect("8 bytes")),
            shared: if slot.with_shared { shared } else { &[] },
            rest: &slot.rest.0,
        })
    }

    /// The points as collectors produced them.
    pub fn to_points(&self) -> Vec<Point> {
        self.points().map(|p| Point::new(p.metric, p.attributes(), p.value)).collect()
    }
}

/// The rows of a table and the pools their shapes and attribute tails are interned in.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// Keyed by shared text, so an export's snapshot of the keys copies no string. This map and
    /// the pools are hashed with foldhash: an export looks every key up again, and every write
    /// looks up each of its points' tails.
    pub map: HashMap<Arc<str>, Row, foldhash::fast::RandomState>,
    /// Moves on at every write (see `SeriesTable`), so what is computed from every row can be
    /// kept until then.
    pub generation: u64,
    tails: HashSet<Tail, foldhash::fast::RandomState>,
    shapes: HashSet<Shape, foldhash::fast::RandomState>,
    /// Pool size (tails and shapes) at which unreferenced entries are dropped next.
    sweep_at: usize,
    /// Scratch space for encoding a tail, and for a row's slots, before they are looked up.
    scratch: Vec<u8>,
    slots: Vec<Slot>,
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
    /// [`Rows::insert_keyed`] with a copy of `key` (tests).
    #[cfg(test)]
    pub fn insert(&mut self, key: &str, points: Vec<Point>, per_object: impl Fn(&Point) -> bool) {
        self.insert_keyed(key, || Arc::from(key), points, per_object)
    }

    /// Stores `points` as `key`'s row, kept under `shared_key()` when the key is new (text the
    /// caller may already hold, so an object's key is stored once); `per_object` tells the points
    /// whose attributes start with the object's own (summed points usually do not).
    pub fn insert_keyed(
        &mut self,
        key: &str,
        shared_key: impl FnOnce() -> Arc<str>,
        points: Vec<Point>,
        per_object: impl Fn(&Point) -> bool,
    ) {
        let shared = shared_prefix(&points, &per_object);
        let mut data = Vec::with_capacity(VALUE * points.len() + encoded::encoded_len(shared));
        let mut slots = std::mem::take(&mut self.slots);
        for p in &points {
            let with_shared = !shared.is_empty() && p.attributes.starts_with(shared);
            let rest = if with_shared { &p.attributes[shared.len()..] } else { &p.attributes[..] };
            data.extend_from_slice(&p.value.to_le_bytes());
            slots.push(Slot { metric: p.metric, with_shared, rest: self.intern(rest) });
        }
        encoded::put_attributes(&mut data, shared);
        let shape = self.shape(&slots);
        slots.clear();
        self.slots = slots;
        let row = Row { shape, data: data.into_boxed_slice() };
        match self.map.get_mut(key) {
            Some(slot) => *slot = row,
            None => {
                self.map.insert(shared_key(), row);
            }
        }
        self.sweep_if_grown();
    }

    /// The encoded `attributes`, shared with every other point whose tail is the same.
    fn intern(&mut self, attributes: &[KeyValue]) -> Tail {
        self.scratch.clear();
        encoded::put_attributes(&mut self.scratch, attributes);
        if let Some(known) = self.tails.get(self.scratch.as_slice()) {
            return known.clone();
        }
        let new = Tail(Arc::new(self.scratch.as_slice().into()));
        self.tails.insert(new.clone());
        new
    }

    /// The shape of `slots`, shared with every other row with the same.
    fn shape(&mut self, slots: &[Slot]) -> Shape {
        if let Some(known) = self.shapes.get(slots) {
            return known.clone();
        }
        let new = Shape(Arc::new(slots.into()));
        self.shapes.insert(new.clone());
        new
    }

    /// Drops interned shapes and tails no row uses any more, once the pools have doubled since
    /// the last sweep (amortized constant time per insert).
    fn sweep_if_grown(&mut self) {
        if self.tails.len() + self.shapes.len() < self.sweep_at {
            return;
        }
        self.shapes.retain(|shape| Arc::strong_count(&shape.0) > 1);
        self.tails.retain(|tail| Arc::strong_count(&tail.0) > 1);
        self.sweep_at = (2 * (self.tails.len() + self.shapes.len())).max(1024);
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
        let first: Vec<_> = rows.map["u1"].points().collect();
        assert_eq!(first[0].shared, shared.as_slice());
        assert_eq!(first[2].shared, &[] as &[u8], "a summed point does not start with them");
        assert_eq!(first[2].rest.as_ptr(), first[0].rest.as_ptr(), "the same tail, once");
        assert_eq!(rows.tails.len(), 2, "[phase=Running], [phase=Failed]");
        assert!(Arc::ptr_eq(&rows.map["u1"].shape.0, &rows.map["u2"].shape.0), "one shape for both");
        assert_eq!(rows.shapes.len(), 1);
        assert_eq!(std::mem::size_of::<Row>(), 24);
        assert_eq!(std::mem::size_of::<Slot>(), 16);
    }

    #[test]
    fn rows_with_other_tails_or_metrics_have_other_shapes() {
        let mut rows = Rows::default();
        rows.insert("a", vec![point(0, &[("phase", "Running")], 1.0)], |_| false);
        rows.insert("b", vec![point(0, &[("phase", "Failed")], 1.0)], |_| false);
        rows.insert("c", vec![point(1, &[("phase", "Running")], 1.0)], |_| false);
        rows.insert("d", vec![point(0, &[("phase", "Running")], 7.0)], |_| false);
        assert_eq!(rows.shapes.len(), 3, "a and d differ only in their value");
        assert_eq!(rows.map["d"].to_points(), vec![point(0, &[("phase", "Running")], 7.0)]);
        assert_eq!(rows.map["c"].to_points(), vec![point(1, &[("phase", "Running")], 1.0)]);
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
        assert!(rows.tails.len() + rows.shapes.len() < 2100, "{} tails kept for one row", rows.tails.len());
        assert_eq!(rows.map["only"].to_points()[0].attributes, vec![KeyValue::new("k", "v4999")]);
    }
}
