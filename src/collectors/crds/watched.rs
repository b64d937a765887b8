//! The object type the crds watch decodes: only what the resource reads ([`Needed`]), parsed
//! straight from the response text, never a full tree.
//!
//! kube's watcher decodes list pages and watch events with serde into its object type; a
//! `DynamicObject` meant a full `serde_json::Value` of every object, a typed `ObjectMeta` and then
//! a conversion back to one JSON value for extraction — about 1.6 times a plain parse, for
//! objects of which a handful of paths are read. Here the parse skips (without building) every
//! member no path enters.
//!
//! serde gives a `Deserialize` impl no argument, and kube decodes inside the poll of the watch
//! stream, on the polling thread. So [`Pruning`] sets what to keep in a thread-local for the
//! duration of each poll, and [`WatchedObject`]'s decoding reads it; outside such a poll (no
//! setting) the whole object is kept.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ApiResource, DynamicResourceScope};
use kube::Resource;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::needed::Needed;
use crate::collectors::shared::shard::Shard;

thread_local! {
    /// What the decoding on this thread keeps, while a [`Pruning`] stream is polled.
    static KEEP: RefCell<Option<Keeping>> = const { RefCell::new(None) };
}

/// What a watch decodes of each object.
#[derive(Debug, Clone)]
pub struct Keeping {
    pub needed: Arc<Needed>,
    /// A sharded agent's shard: another shard's object is decoded only as far as its metadata
    /// (which tells its UID, so its shard); the rest of it is skipped like an unneeded member.
    pub shard: Option<Shard>,
}

/// One listed or watched custom resource: the members its resource reads, and the metadata the
/// watch needs (name, namespace, UID, resource version).
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedObject {
    pub metadata: ObjectMeta,
    /// The object with only the needed members.
    pub object: Value,
}

impl WatchedObject {
    /// `object` kept whole (tests, and decoding outside a [`Pruning`] stream).
    pub fn from_value(object: Value) -> Self {
        let metadata = object.get("metadata");
        let text = |name: &str| metadata.and_then(|m| m.get(name)).and_then(Value::as_str).map(str::to_owned);
        let metadata = ObjectMeta {
            name: text("name"),
            namespace: text("namespace"),
            uid: text("uid"),
            resource_version: text("resourceVersion"),
            ..ObjectMeta::default()
        };
        WatchedObject { metadata, object }
    }
}

impl Resource for WatchedObject {
    type DynamicType = ApiResource;
    type Scope = DynamicResourceScope;

    fn group(dt: &ApiResource) -> Cow<'_, str> {
        dt.group.as_str().into()
    }

    fn version(dt: &ApiResource) -> Cow<'_, str> {
        dt.version.as_str().into()
    }

    fn kind(dt: &ApiResource) -> Cow<'_, str> {
        dt.kind.as_str().into()
    }

    fn api_version(dt: &ApiResource) -> Cow<'_, str> {
        dt.api_version.as_str().into()
    }

    fn plural(dt: &ApiResource) -> Cow<'_, str> {
        dt.plural.as_str().into()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

impl<'de> Deserialize<'de> for WatchedObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Some(Keeping { needed, shard }) = KEEP.with(|keep| keep.borrow().clone()) else {
            return Ok(WatchedObject::from_value(Value::deserialize(deserializer)?));
        };
        let object = match (&*needed, shard) {
            (Needed::All, None) => Value::deserialize(deserializer)?,
            (needed, shard) => deserializer.deserialize_any(KeepVisitor { needed, shard })?,
        };
        Ok(WatchedObject::from_value(object))
    }
}

/// Decodes a value keeping what `Needed` says.
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
    /// Set for an object's top level only (see [`Keeping::shard`]).
    shard: Option<Shard>,
}

/// Whether the object with `metadata` (as decoded) is `shard`'s; one without a UID is kept, as
/// the watch keeps it.
fn owns(shard: Shard, metadata: &Value) -> bool {
    metadata.get("uid").and_then(Value::as_str).is_none_or(|uid| shard.owns(uid))
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

/// Decodes one object from `text` keeping only `keep`, as the watch does (benches, tests).
pub fn decode_watched(text: &str, keep: &Arc<Needed>) -> serde_json::Result<WatchedObject> {
    keeping(&Keeping { needed: keep.clone(), shard: None }, || serde_json::from_str(text))
}

/// A stream whose polls decode [`WatchedObject`]s keeping only `keep`.
pub struct Pruning<S> {
    inner: S,
    keep: Keeping,
}

impl<S> Pruning<S> {
    pub fn new(inner: S, keep: Keeping) -> Self {
        Pruning { inner, keep }
    }
}

impl<S: Stream + Unpin> Stream for Pruning<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let keep = self.keep.clone();
        keeping(&keep, || self.inner.poll_next_unpin(cx))
    }
}

/// Runs `f` with decoding on this thread keeping only `keep`, then puts back what was set before
/// (even if `f` panics).
fn keeping<T>(keep: &Keeping, f: impl FnOnce() -> T) -> T {
    let _restore = Restore(KEEP.with(|slot| slot.replace(Some(keep.clone()))));
    f()
}

/// Puts back the setting that was there before a poll, even if the poll panics.
struct Restore(Option<Keeping>);

impl Drop for Restore {
    fn drop(&mut self) {
        let previous = self.0.take();
        KEEP.with(|slot| *slot.borrow_mut() = previous);
    }
}

#[cfg(test)]
mod tests {
    use futures::stream;
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn decoding_inside_a_pruning_poll_keeps_only_the_needed_members() {
        let mut keep = Needed::nothing();
        keep.add_path(&super::super::path::Path::compile("status.phase").unwrap());
        let text = r#"{"metadata": {"uid": "u"}, "spec": {"x": 1}, "status": {"phase": "Up", "y": 2}}"#;
        let decoding = stream::iter([text, text]).map(serde_json::from_str::<WatchedObject>);
        let mut pruned = Pruning::new(decoding, Keeping { needed: Arc::new(keep), shard: None });
        let first = pruned.next().await.unwrap().unwrap();
        assert_eq!(first.object, json!({"status": {"phase": "Up"}}));
        assert_eq!(first.metadata.uid, None, "metadata is not needed by this `keep`");
        let outside: WatchedObject = serde_json::from_str(text).unwrap();
        assert_eq!(outside.object["spec"]["x"], 1, "outside a poll the object is whole");
        assert_eq!(outside.metadata.uid.as_deref(), Some("u"));
    }

    /// A sharded watch decodes another shard's object only as far as its metadata, with the
    /// needed members or the whole object alike.
    #[tokio::test]
    async fn another_shards_object_is_decoded_up_to_its_metadata() {
        let shard = Shard { index: 0, total: 2 };
        let uid = |owned: bool| (0..).map(|i| format!("uid-{i}")).find(|u| shard.owns(u) == owned).unwrap();
        let text = |uid: &str| {
            format!(
                r#"{{"kind": "K", "metadata": {{"uid": "{uid}", "name": "n"}}, "spec": {{"x": 1}}, "status": {{"phase": "Up"}}}}"#
            )
        };
        let (mine, theirs) = (text(&uid(true)), text(&uid(false)));
        let mut status = Needed::nothing();
        for path in ["status.phase", "metadata.uid", "kind"] {
            status.add_path(&super::super::path::Path::compile(path).unwrap());
        }
        for needed in [status, Needed::All] {
            let whole = needed == Needed::All;
            let keep = Keeping { needed: Arc::new(needed), shard: Some(shard) };
            let decoding = stream::iter([mine.clone(), theirs.clone()])
                .map(|t| serde_json::from_str::<WatchedObject>(&t));
            let decoded: Vec<_> = Pruning::new(decoding, keep).map(Result::unwrap).collect().await;
            assert_eq!(decoded[0].object["status"]["phase"], "Up", "whole: {whole}");
            assert_eq!(decoded[0].object.get("spec").is_some(), whole);
            assert_eq!(decoded[1].metadata.uid, Some(uid(false)), "its metadata is read");
            assert_eq!(decoded[1].object["kind"], "K", "members before the metadata are kept");
            assert_eq!(decoded[1].object.get("status"), None, "whole: {whole}");
            assert_eq!(decoded[1].object.get("spec"), None, "whole: {whole}");
        }
    }
}
