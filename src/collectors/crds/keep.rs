//! Decodes what [`Needed`] keeps of a JSON value straight from the parser: members no path
//! enters are skipped without being built; the kept ones are built into a [`Value`].

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::needed::Needed;
use crate::collectors::shared::shard::Shard;

/// The object `deserializer` reads, with only its kept members. With `shard`, the members after
/// the metadata of another shard's object are skipped (its metadata tells its UID, so its
/// shard).
pub fn keep_object<'de, D: Deserializer<'de>>(
    deserializer: D,
    needed: &Needed,
    shard: Option<Shard>,
) -> Result<Value, D::Error> {
    match shard {
        None => Keep(needed).deserialize(deserializer),
        Some(shard) => deserializer.deserialize_any(KeepVisitor { needed, shard: Some(shard) }),
    }
}

/// Whether the object with `metadata` (as decoded) is `shard`'s; one without a UID is kept, as
/// the watch keeps it.
fn owns(shard: Shard, metadata: &Value) -> bool {
    metadata.get("uid").and_then(Value::as_str).is_none_or(|uid| shard.owns(uid))
}

/// Decodes a value into a [`Value`], keeping what `Needed` says.
struct Keep<'n>(&'n Needed);

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Needed::All => Value::deserialize(deserializer),
            needed => deserializer.deserialize_any(KeepVisitor { needed, shard: None }),
        }
    }
}

struct KeepVisitor<'n> {
    needed: &'n Needed,
    /// A sharded watch's object (the top level only): kept past its metadata only when the
    /// metadata says it is the shard's.
    shard: Option<Shard>,
}

impl<'de> Visitor<'de> for KeepVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        let mut foreign = false;
        while let Some(found) = map.next_key_seed(MemberName(self.needed))? {
            match found {
                Some((name, needed)) if !foreign => {
                    let value = map.next_value_seed(Keep(needed))?;
                    if let (Some(shard), "metadata") = (self.shard, name.as_str()) {
                        foreign = !owns(shard, &value);
                    }
                    kept.insert(name, value);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut kept = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(element) = seq.next_element_seed(Keep(self.needed))? {
            kept.push(element);
        }
        Ok(Value::Array(kept))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// A member's name, with what to keep of its value when it is kept; the name is copied only
/// then.
struct MemberName<'n>(&'n Needed);

impl<'de, 'n> DeserializeSeed<'de> for MemberName<'n> {
    type Value = Option<(String, &'n Needed)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'n> Visitor<'_> for MemberName<'n> {
    type Value = Option<(String, &'n Needed)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(self.0.member(name).map(|needed| (name.to_owned(), needed)))
    }
}
