//! Copies what [`Needed`] keeps of a JSON value, as compact JSON text, straight from the parser:
//! members no path enters are skipped without being built, and nothing of the kept members is
//! built either, except an object's `metadata` (which the watch reads at once).

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::needed::Needed;
use crate::collectors::shared::shard::Shard;

/// What the copy of one object found besides its text.
#[derive(Debug, Default)]
pub struct Copied {
    /// The object's `metadata` member, with what is kept of it.
    pub metadata: Option<Value>,
}

/// Writes the kept members of the object `deserializer` reads into `out`. With `shard`, the
/// members after the metadata of another shard's object are skipped (its metadata tells its
/// UID, so its shard).
pub fn copy_object<'de, D: Deserializer<'de>>(
    deserializer: D,
    needed: &Needed,
    shard: Option<Shard>,
    out: &mut Vec<u8>,
) -> Result<Copied, D::Error> {
    let mut copied = Copied::default();
    let top = Top { shard, copied: &mut copied };
    deserializer.deserialize_any(CopyVisitor { needed, out, top: Some(top) })?;
    Ok(copied)
}

/// The object's top level: where the metadata is read.
struct Top<'c> {
    shard: Option<Shard>,
    copied: &'c mut Copied,
}

/// Copies one value as `needed` says.
struct CopySeed<'n, 'o> {
    needed: &'n Needed,
    out: &'o mut Vec<u8>,
}

impl<'de> DeserializeSeed<'de> for CopySeed<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(CopyVisitor { needed: self.needed, out: self.out, top: None })
    }
}

struct CopyVisitor<'n, 'o, 'c> {
    needed: &'n Needed,
    out: &'o mut Vec<u8>,
    top: Option<Top<'c>>,
}

impl CopyVisitor<'_, '_, '_> {
    fn scalar<E>(self, value: impl serde::Serialize) -> Result<(), E> {
        // Writing to a `Vec` does not fail; a number or string always serializes.
        serde_json::to_writer(&mut *self.out, &value).expect("a JSON scalar serializes");
        Ok(())
    }
}

impl<'de> Visitor<'de> for CopyVisitor<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let CopyVisitor { needed, out, mut top } = self;
        out.push(b'{');
        let mut first = true;
        let mut foreign = false;
        while let Some(found) =
            map.next_key_seed(Name { needed, out: &mut *out, first: &mut first, skip: foreign })?
        {
            let Some((member, is_metadata)) = found else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            match &mut top {
                Some(top) if is_metadata => {
                    let metadata = map.next_value_seed(Keep(member))?;
                    serde_json::to_writer(&mut *out, &metadata).expect("a JSON value serializes");
                    if let Some(shard) = top.shard {
                        foreign = !owns(shard, &metadata);
                    }
                    top.copied.metadata = Some(metadata);
                }
                _ => map.next_value_seed(CopySeed { needed: member, out: &mut *out })?,
            }
        }
        out.push(b'}');
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let CopyVisitor { needed, out, .. } = self;
        out.push(b'[');
        let mut first = true;
        loop {
            let before = out.len();
            if !first {
                out.push(b',');
            }
            if seq.next_element_seed(CopySeed { needed, out: &mut *out })?.is_none() {
                out.truncate(before);
                break;
            }
            first = false;
        }
        out.push(b']');
        Ok(())
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.scalar(v)
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
}

/// A member's name: when the member is kept, the name is written (after a comma unless it is
/// the first) and what to keep of its value returned, with whether it is `metadata`.
struct Name<'n, 'o, 'f> {
    needed: &'n Needed,
    out: &'o mut Vec<u8>,
    first: &'f mut bool,
    /// Skip every member (the rest of another shard's object).
    skip: bool,
}

impl<'de, 'n> DeserializeSeed<'de> for Name<'n, '_, '_> {
    type Value = Option<(&'n Needed, bool)>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'n> Visitor<'_> for Name<'n, '_, '_> {
    type Value = Option<(&'n Needed, bool)>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        let Some(member) = self.needed.member(name).filter(|_| !self.skip) else { return Ok(None) };
        if !std::mem::replace(self.first, false) {
            self.out.push(b',');
        }
        serde_json::to_writer(&mut *self.out, name).expect("a string serializes");
        self.out.push(b':');
        Ok(Some((member, name == "metadata")))
    }
}

/// Whether the object with `metadata` (as decoded) is `shard`'s; one without a UID is kept, as
/// the watch keeps it.
fn owns(shard: Shard, metadata: &Value) -> bool {
    metadata.get("uid").and_then(Value::as_str).is_none_or(|uid| shard.owns(uid))
}

/// Decodes a value into a [`Value`], keeping what `Needed` says (the metadata).
struct Keep<'n>(&'n Needed);

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.0 {
            Needed::All => Value::deserialize(deserializer),
            needed => deserializer.deserialize_any(KeepVisitor(needed)),
        }
    }
}

struct KeepVisitor<'n>(&'n Needed);

impl<'de> Visitor<'de> for KeepVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(found) = map.next_key_seed(MemberName(self.0))? {
            match found {
                Some((name, needed)) => {
                    let value = map.next_value_seed(Keep(needed))?;
                    kept.insert(name, value);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut kept = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(element) = seq.next_element_seed(Keep(self.0))? {
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
