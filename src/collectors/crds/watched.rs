//! The object type the crds watch decodes: only what the resource reads ([`Needed`]), parsed
//! straight from the response text, never a full tree.
//!
//! The watch (`kubernetes::list_watch`) decodes list pages and watch events with serde into its
//! object type; a `DynamicObject` meant a full `serde_json::Value` of every object, a typed
//! `ObjectMeta` and then a conversion back to one JSON value for extraction — about 1.6 times a
//! plain parse, for objects of which a handful of paths are read. Here the parse skips (without
//! building) every member no path enters, and copies the rest as JSON text
//! ([`super::kept_json`]), which is read into a value when the object is applied.
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

use super::kept_json::copy_object;
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
///
/// The members are held as compact JSON text, one block per object, and built into a value
/// only when the object is applied ([`WatchedObject::object`]). kube decodes a whole list page
/// (500 objects) before the first of them is applied: held as values, a page was some 40,000
/// small blocks alive at once, and glibc's allocator spent about as much again as the decode
/// itself on them. Built one at a time, each object's blocks are freed before the next is
/// built, and come back from the allocator's per-thread cache.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedObject {
    pub metadata: ObjectMeta,
    /// The object with only the needed members, as JSON.
    kept: Box<[u8]>,
}

impl WatchedObject {
    /// `object` kept whole (tests).
    pub fn from_value(object: Value) -> Self {
        let metadata = object.get("metadata").cloned().map(metadata_of).unwrap_or_default();
        let kept = serde_json::to_vec(&object).expect("a JSON value serializes").into_boxed_slice();
        WatchedObject { metadata, kept }
    }

    /// The object with only the needed members.
    pub fn object(&self) -> Value {
        // The text was written by the copy from text the parser read; reading it back cannot
        // fail short of a bug, and then the object is seen as empty rather than taking the
        // watch down.
        serde_json::from_slice(&self.kept).unwrap_or_else(|error| {
            tracing::error!(%error, "a held object did not read back; treated as empty");
            Value::Null
        })
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
        // Room for what a pruned object usually keeps; grown when more is kept.
        let mut kept = Vec::with_capacity(512);
        let copied = copy_object(deserializer, needed, shard, &mut kept)?;
        let metadata = copied.metadata.map(metadata_of).unwrap_or_default();
        Ok(WatchedObject { metadata, kept: kept.into_boxed_slice() })
    }
}

/// What the watch reads of an object's `metadata` member, its strings moved out, not copied.
fn metadata_of(metadata: Value) -> ObjectMeta {
    let Value::Object(mut members) = metadata else { return ObjectMeta::default() };
    let mut text = |name: &str| match members.remove(name) {
        Some(Value::String(text)) => Some(text),
        _ => None,
    };
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

/// Decodes a list page (`{"items": [...]}`) keeping only `keep`, as the watch does with each
/// page it lists: every object of the page is decoded before the first is applied (benches,
/// tests).
pub fn decode_watched_list(text: &str, keep: &Arc<Needed>) -> serde_json::Result<Vec<WatchedObject>> {
    #[derive(Deserialize)]
    struct Page {
        items: Vec<WatchedObject>,
    }
    let page: Page = keeping(&Keeping { needed: keep.clone(), shard: None }, || serde_json::from_str(text))?;
    Ok(page.items)
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
        assert_eq!(first.object(), json!({"status": {"phase": "Up"}}));
        assert_eq!(first.metadata.uid, None, "metadata is not needed by this `keep`");
        let outside: WatchedObject = serde_json::from_str(text).unwrap();
        assert_eq!(outside.object()["spec"]["x"], 1, "outside a poll the object is whole");
        assert_eq!(outside.metadata.uid.as_deref(), Some("u"));
    }

    /// A page decodes to the objects decoding each alone gives, in order.
    #[test]
    fn a_list_page_decodes_like_its_objects_one_by_one() {
        let mut keep = Needed::nothing();
        for path in ["status.phase", "metadata.uid"] {
            keep.add_path(&super::super::path::Path::compile(path).unwrap());
        }
        let keep = Arc::new(keep);
        let objects: Vec<String> = (0..3)
            .map(|i| format!(r#"{{"metadata": {{"name": "n{i}", "uid": "u{i}"}}, "status": {{"phase": "P{i}", "x": [1]}}}}"#))
            .collect();
        let page = format!(r#"{{"kind": "List", "items": [{}], "metadata": {{}}}}"#, objects.join(","));
        let listed = decode_watched_list(&page, &keep).unwrap();
        let alone: Vec<_> = objects.iter().map(|o| decode_watched(o, &keep).unwrap()).collect();
        assert_eq!(listed, alone);
        assert_eq!(listed[2].object(), json!({"metadata": {"uid": "u2"}, "status": {"phase": "P2"}}));
        assert_eq!(listed[2].metadata.uid.as_deref(), Some("u2"), "the watch's metadata is read");
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
