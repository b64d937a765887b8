//! serde helpers that make the collector's own object types decode what they read exactly as
//! k8s-openapi's types do, while skipping (unbuilt) every member they do not read.
//!
//! k8s-openapi decodes a member that is `null` as absent, a missing required string as empty,
//! and an object only from a JSON object; serde's derive would refuse `null` for a plain field
//! and also accept an array for a struct (matched by position). These helpers close the gap, so
//! a member the collector reads fails to decode exactly when the typed decode failed. One
//! difference is left: the derive refuses a member given twice in one object, where
//! k8s-openapi keeps the last; neither an API server's JSON nor a parsed YAML map repeats one.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// `T` decoded from a JSON object only.
pub fn map_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_map(MapOnly(PhantomData))
}

/// An optional object member: `null` or missing is `None`.
pub fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    Option::<MapOnlyValue<T>>::deserialize(deserializer).map(|v| v.map(|v| v.0))
}

/// An optional list of objects: `null` or missing is `None`.
pub fn objects<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<Vec<T>>, D::Error> {
    let list = Option::<Vec<MapOnlyValue<T>>>::deserialize(deserializer)?;
    Ok(list.map(|l| l.into_iter().map(|v| v.0).collect()))
}

/// A member k8s-openapi declares required: `null` or missing is the default (empty).
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// One `T` decoded through [`map_only`], for use inside `Option` and `Vec`.
struct MapOnlyValue<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for MapOnlyValue<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        map_only(deserializer).map(MapOnlyValue)
    }
}

struct MapOnly<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for MapOnly<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map))
    }
}

/// The three members of a Kubernetes object the collector reads, as serde's derive decodes
/// them (decode it with [`map_only`]); `metadata` is missing or `null` in odd objects only.
#[derive(Deserialize)]
#[serde(bound = "M: Deserialize<'de>, S: Deserialize<'de>, T: Deserialize<'de>")]
pub struct Parts<M, S, T> {
    #[serde(default, deserialize_with = "object")]
    pub metadata: Option<M>,
    #[serde(default, deserialize_with = "object")]
    pub spec: Option<S>,
    #[serde(default, deserialize_with = "object")]
    pub status: Option<T>,
}
