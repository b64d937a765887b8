//! Applying watch events of one resource to its series table.
//!
//! Only the extracted points are kept. With several watch streams (one per namespace) each
//! stream remembers the keys it owns, so a relist of one namespace forgets only its objects.

use foldhash::{HashSet, HashSetExt};
use std::sync::Arc;
use std::time::Instant;

use kube::api::DynamicObject;
use kube::runtime::watcher::Event;

use super::discovery_types::tag_points;
use super::extract::{extract, ExtractError};
use super::guards::{Admission, Admitted};
use super::plan::CompiledResource;
use super::watch_limits::{LogLimiter, EXTRACT_ERROR_LOG_PERIOD};
use super::watched::WatchedObject;
use crate::collectors::relist::{Change, Listed, Relist};
use crate::collectors::Shard;
use crate::series::SeriesTable;
use crate::telemetry::{SelfMetrics, WatchEventKind};

struct StreamState {
    relist: Relist<WatchedObject>,
    /// Keys this stream has points for; only tracked when several streams share the table.
    owned: Option<HashSet<String>>,
}

/// The table side of one resource's watch streams.
pub struct ResourceEvents {
    resource: Arc<CompiledResource>,
    table: Arc<SeriesTable>,
    self_metrics: SelfMetrics,
    /// `crds/<resource name>`, the `collector` attribute of watch-event counts.
    collector: String,
    limiter: LogLimiter,
    streams: Vec<StreamState>,
    admission: Admission,
    /// Only this shard's objects are kept (all without sharding).
    shard: Option<Shard>,
}

impl ResourceEvents {
    pub fn new(
        resource: Arc<CompiledResource>,
        table: Arc<SeriesTable>,
        self_metrics: SelfMetrics,
        stream_count: usize,
        shard: Option<Shard>,
    ) -> Self {
        let shared = stream_count > 1;
        let streams = (0..stream_count)
            .map(|_| StreamState {
                relist: Relist::new(|object| Some(object_key(object))),
                owned: shared.then(HashSet::new),
            })
            .collect();
        let collector = format!("crds/{}", resource.name);
        ResourceEvents {
            admission: Admission::new(&resource),
            resource,
            table,
            self_metrics,
            collector,
            limiter: LogLimiter::new(EXTRACT_ERROR_LOG_PERIOD),
            streams,
            shard,
        }
    }

    /// Whether every stream has finished its first list.
    pub fn is_synced(&self) -> bool {
        self.streams.iter().all(|s| s.relist.is_listed())
    }

    /// Counts a stream error (the watcher itself retries with backoff).
    pub fn error(&mut self) {
        self.count(WatchEventKind::Error);
    }

    /// Applies one event of stream `stream`; `now` paces the error logs.
    pub fn handle(&mut self, stream: usize, event: Event<WatchedObject>, now: Instant) {
        self.count(WatchEventKind::of(&event));
        match self.streams[stream].relist.apply(event) {
            Change::RelistStarted => {}
            Change::Apply(object) => self.apply(stream, object, now),
            Change::Delete(object) => {
                let key = object_key(&object);
                self.table.remove(&key);
                self.admission.forget(&key);
                if let Some(owned) = &mut self.streams[stream].owned {
                    owned.remove(&key);
                }
            }
            Change::Listed(listed) => {
                self.forget_unlisted(stream, listed);
                // The freed pages of the list go back to the system when the last list in
                // progress ends (`malloc::Listing`, held by `kubernetes::list_watch`).
                if self.is_synced() {
                    self.table.mark_listed();
                }
            }
        }
    }

    fn count(&self, kind: WatchEventKind) {
        self.self_metrics.watch_event(&self.collector, kind);
    }

    fn apply(&mut self, stream: usize, object: WatchedObject, now: Instant) {
        // A cluster-wide watch for globs or exclusions returns every namespace's objects.
        if !self.resource.namespaces.admits(object.metadata.namespace.as_deref()) {
            return;
        }
        // Another shard's object (placement by UID, which never changes).
        if let (Some(shard), Some(uid)) = (&self.shard, &object.metadata.uid) {
            if !shard.owns(uid) {
                return;
            }
        }
        let key = object_key(&object);
        if !self.resource.discovery.admits_namespace(object.metadata.namespace.as_deref()) {
            // Its namespace lost the selected label (the watch lists afresh): its points go.
            self.table.remove(&key);
            self.admission.forget(&key);
            return;
        }
        let mut extracted = extract(&self.resource, object.object());
        drop(object);
        tag_points(&mut extracted.points, &self.resource.discovery.type_attributes);
        for error in &extracted.errors {
            self.report(error, &key, now);
        }
        let admitted = self.admission.admit(&key, extracted.points);
        self.report_admission(&admitted, &key, now);
        self.table.replace_shared(&admitted.key, admitted.points);
        if let Some(owned) = &mut self.streams[stream].owned {
            owned.insert(key);
        }
    }

    fn report(&mut self, error: &ExtractError, key: &str, now: Instant) {
        self.self_metrics.extract_error(&error.metric);
        if self.limiter.allow(&error.metric, now) {
            tracing::warn!(
                metric = %error.metric,
                object = %key,
                reason = %error.reason,
                "cannot extract a value (logged at most once a minute per metric)"
            );
        }
    }

    /// Counts and logs (at most once a minute each) the points the guards or identity dropped.
    fn report_admission(&mut self, admitted: &Admitted, key: &str, now: Instant) {
        if admitted.dropped > 0 {
            self.self_metrics.series_dropped(&self.collector, admitted.dropped as u64);
            if self.limiter.allow(&format!("dropped {}", self.collector), now) {
                tracing::warn!(
                    table = %self.collector,
                    object = %key,
                    dropped = admitted.dropped,
                    limits = ?self.resource.limits,
                    "points beyond maxSeriesPerObject, maxSeries or a metric source's maxObjectsPerSource dropped \
                     (logged at most once a minute)"
                );
            }
        }
        for collision in &admitted.collisions {
            let metric = &self.resource.specs[collision.metric.0 as usize].name;
            self.self_metrics.series_collision(metric);
            if self.limiter.allow(&format!("collision {metric}"), now) {
                tracing::warn!(
                    %metric,
                    object = %key,
                    kept = %collision.owner,
                    "two objects give a series the same attributes; the first one's point is kept \
                     (logged at most once a minute per metric)"
                );
            }
        }
    }

    /// After a (re)list: objects not listed were deleted meanwhile and lose their points.
    fn forget_unlisted(&mut self, stream: usize, listed: Listed) {
        match &mut self.streams[stream].owned {
            Some(owned) => {
                for gone in listed.vanished(owned.iter()) {
                    self.table.remove(&gone);
                    self.admission.forget(&gone);
                }
                *owned = listed.into_keys();
            }
            None => {
                self.table.retain(|key| listed.contains(key));
                self.admission.retain(|key| listed.contains(key));
            }
        }
    }
}

/// The object as one JSON value, moving its fields rather than serializing them again (at the
/// initial list of 100k objects, re-serializing cost more than the extraction).
pub fn into_value(object: DynamicObject) -> Result<serde_json::Value, serde_json::Error> {
    let DynamicObject { types, metadata, data } = object;
    let mut fields = match data {
        serde_json::Value::Object(fields) => fields,
        serde_json::Value::Null => serde_json::Map::new(),
        other => return Ok(other),
    };
    if let Some(types) = types {
        fields.insert("apiVersion".into(), types.api_version.into());
        fields.insert("kind".into(), types.kind.into());
    }
    fields.insert("metadata".into(), serde_json::to_value(metadata)?);
    Ok(serde_json::Value::Object(fields))
}

/// The table key of an object: its UID, or `namespace/name` when it has none.
pub fn object_key(object: &WatchedObject) -> String {
    let meta = &object.metadata;
    match (&meta.uid, &meta.namespace, &meta.name) {
        (Some(uid), _, _) => uid.clone(),
        (None, Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, _, name) => name.clone().unwrap_or_default(),
    }
}
