//! The object type the crds watch decodes: only what the resource reads ([`Needed`]), parsed
//! straight from the response text, never a full tree.
//!
//! The watch (`kubernetes::list_watch`) decodes list pages and watch events with serde into its
//! object type, one object at a time (a list page is scanned for where its objects are, and
//! each is decoded when it is handed out). A `DynamicObject` meant a full `serde_json::Value` of
//! every object, a typed `ObjectMeta` and then a conversion back to one JSON value for
//! extraction — about 1.6 times a plain parse, for objects of which a handful of paths are read.
//! Here the parse skips (without building) every member no path enters, and builds the rest
//! into the value extraction reads ([`super::keep`]).
//!
//! serde gives a `Deserialize` impl no argument, and the watch decodes inside the poll of its
//! stream, on the polling thread. So [`Pruning`] sets what to keep in a thread-local for the
//! duration of each poll, and [`WatchedObject`]'s decoding reads it; outside such a poll (no
//! setting) the whole object is kept.

use std::borrow::Cow;
use std::cell::RefCell;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{ApiResource, DynamicResourceScope};
use kube::Resource;
use serde::de::Deserializer;
use serde::Deserialize;
use serde_json::Value;

use super::keep::keep_object;
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
    object: Value,
}

impl WatchedObject {
    /// `object` kept whole (tests).
    pub fn from_value(object: Value) -> Self {
        WatchedObject { metadata: metadata_of(&object), object }
    }

    /// The object with only the needed members.
    pub fn object(&self) -> &Value {
        &self.object
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
        let keeping = KEEP.with(|keep| keep.borrow().clone());
        let (needed, shard) = match &keeping {
            Some(Keeping { needed, shard }) => (&**needed, *shard),
            None => (&Needed::All, None),
        };
        let object = keep_object(deserializer, needed, shard)?;
        Ok(WatchedObject { metadata: metadata_of(&object), object })
    }
}

/// What the watch reads of an object's `metadata` member (always kept: [`Needed::of_resource`]).
fn metadata_of(object: &Value) -> ObjectMeta {
    let text = |name: &str| object.get("metadata")?.get(name)?.as_str().map(str::to_owned);
    ObjectMeta {
        name: text("name"),
        namespace: text("namespace"),
        uid: text("uid"),
        resource_version: text("resourceVersion"),
        ..ObjectMeta::default()
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
        assert_eq!(*first.object(), json!({"status": {"phase": "Up"}}));
        assert_eq!(first.metadata.uid, None, "metadata is not needed by this `keep`");
        let outside: WatchedObject = serde_json::from_str(text).unwrap();
        assert_eq!(outside.object()["spec"]["x"], 1, "outside a poll the object is whole");
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
            assert_eq!(decoded[0].object()["status"]["phase"], "Up", "whole: {whole}");
            assert_eq!(decoded[0].object().get("spec").is_some(), whole);
            assert_eq!(decoded[1].metadata.uid, Some(uid(false)), "its metadata is read");
            assert_eq!(decoded[1].object()["kind"], "K", "members before the metadata are kept");
            assert_eq!(decoded[1].object().get("status"), None, "whole: {whole}");
            assert_eq!(decoded[1].object().get("spec"), None, "whole: {whole}");
        }
    }
}
