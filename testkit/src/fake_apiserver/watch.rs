//! Watch streams: newline-delimited `{"type", "object"}` events read from the shared history,
//! so a slow or resuming watcher sees exactly the retained events after its resourceVersion,
//! and one that fell behind the compaction point gets the real server's 410 `ERROR` event.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::header;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;

use super::list::Selectors;
use super::object::StoredObject;
use super::resources::ResourceSpec;
use super::shared::Shared;
use super::status::ApiError;
use super::store::{Event, EventType};

/// The watch-specific query parameters.
#[derive(Debug, Default)]
pub(crate) struct WatchQuery {
    pub resource_version: Option<String>,
    pub bookmarks: bool,
    pub timeout: Option<Duration>,
    pub send_initial_events: bool,
}

/// One open watch.
struct Watcher {
    shared: Arc<Shared>,
    resource: ResourceSpec,
    namespace: Option<String>,
    selectors: Selectors,
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
}

/// Starts a watch; the response body streams until timeout, compaction, drop or disconnect.
pub(crate) fn serve(
    shared: Arc<Shared>,
    resource: ResourceSpec,
    namespace: Option<String>,
    selectors: Selectors,
    query: WatchQuery,
) -> Result<Response, ApiError> {
    let start = match query.resource_version.as_deref() {
        None | Some("") | Some("0") => None,
        Some(rv) => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let (tx, rx) = mpsc::channel(64);
    let watcher = Watcher { shared, resource, namespace, selectors, tx };
    tokio::spawn(watcher.run(start, query));
    let body = Body::from_stream(ReceiverStream::new(rx));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

impl Watcher {
    async fn send(&self, line: Vec<u8>) -> bool {
        self.tx.send(Ok(Bytes::from(line))).await.is_ok()
    }

    async fn send_event(&self, kind: EventType, object: &StoredObject) -> bool {
        let mut line = Vec::with_capacity(object.bytes.len() + 32);
        line.extend_from_slice(format!("{{\"type\":\"{}\",\"object\":", kind.as_str()).as_bytes());
        line.extend_from_slice(&object.bytes);
        line.extend_from_slice(b"}\n");
        self.send(line).await
    }

    async fn send_bookmark(&self, rv: u64, initial_events_end: bool) -> bool {
        let mut metadata = json!({"resourceVersion": rv.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata});
        self.send(format!("{}\n", json!({"type": "BOOKMARK", "object": object})).into_bytes()).await
    }

    async fn send_error(&self, error: ApiError) {
        self.send(format!("{}\n", json!({"type": "ERROR", "object": error.to_status()})).into_bytes()).await;
    }

    fn in_namespace(&self, event: &Event) -> bool {
        self.namespace.as_ref().is_none_or(|ns| *ns == event.key.0)
    }

    /// What this watcher sees of an event: selectors apply to the object before and after,
    /// so an object that stops matching is DELETED for this watcher and one that starts
    /// matching is ADDED, as on the real server.
    fn translate(&self, event: &Event) -> Option<(EventType, Arc<StoredObject>)> {
        let now = self.selectors.matches(&event.object);
        let before = event.previous.as_ref().is_some_and(|p| self.selectors.matches(p));
        let kind = match (event.kind, before, now) {
            (EventType::Added, _, true) => EventType::Added,
            (EventType::Deleted, _, true) => EventType::Deleted,
            (EventType::Modified, true, true) => EventType::Modified,
            (EventType::Modified, false, true) => EventType::Added,
            (EventType::Modified, true, false) => EventType::Deleted,
            _ => return None,
        };
        Some((kind, event.object.clone()))
    }

    async fn run(self, start: Option<u64>, query: WatchQuery) {
        let mut changed = self.shared.changed.subscribe();
        let mut control = self.shared.control.subscribe();
        let opened = *control.borrow_and_update();
        let mut bookmarks_seen = opened.bookmarks;
        let deadline = query.timeout.map(|t| Instant::now() + t);
        let storage = self.resource.storage_key();

        // Without a resourceVersion the watch starts with the current objects as ADDED events.
        let opening: Result<(u64, Vec<Arc<StoredObject>>), ApiError> = {
            let store = self.shared.store.lock();
            match start {
                Some(rv) if rv < store.compacted_rv => Err(ApiError::too_old(rv, store.compacted_rv)),
                Some(rv) => Ok((rv, Vec::new())),
                None => {
                    let mut objects = Vec::new();
                    store.visit_at(&self.resource, store.rv, None, self.namespace.as_deref(), |_, object| {
                        if self.selectors.matches(object) {
                            objects.push(object.clone());
                        }
                        true
                    });
                    Ok((store.rv, objects))
                }
            }
        };
        let (mut rv, initial) = match opening {
            Ok(opening) => opening,
            Err(error) => return self.send_error(error).await,
        };
        for object in &initial {
            if !self.send_event(EventType::Added, object).await {
                return;
            }
        }
        if query.send_initial_events && start.is_none() && !self.send_bookmark(rv, true).await {
            return;
        }
        let mut ticker = tokio::time::interval(self.shared.bookmark_interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker.tick().await;
        loop {
            let signals = *control.borrow_and_update();
            if signals.drops != opened.drops {
                // An error ends the body without its final chunk: the client sees a broken
                // connection, not a clean end of stream.
                let _ = self.tx.send(Err(io::Error::other("watch connection dropped"))).await;
                return;
            }
            if signals.compactions != opened.compactions {
                return self.send_error(ApiError::too_old(rv, rv + 1)).await;
            }
            if query.bookmarks && signals.bookmarks != bookmarks_seen {
                bookmarks_seen = signals.bookmarks;
                if !self.send_bookmark(rv, false).await {
                    return;
                }
            }
            changed.borrow_and_update();
            let batch: Result<Vec<_>, ApiError> = {
                let store = self.shared.store.lock();
                let batch = match store.events_after(&storage, rv) {
                    None => Err(ApiError::too_old(rv, store.compacted_rv)),
                    Some(events) => Ok(events
                        .filter(|e| self.in_namespace(e))
                        .filter_map(|e| self.translate(e))
                        .collect()),
                };
                rv = rv.max(store.rv);
                batch
            };
            let batch = match batch {
                Ok(batch) => batch,
                Err(error) => return self.send_error(error).await,
            };
            for (kind, object) in &batch {
                if !self.send_event(*kind, object).await {
                    return;
                }
            }
            let timeout = async {
                match deadline {
                    Some(deadline) => sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                result = changed.changed() => if result.is_err() { return },
                result = control.changed() => if result.is_err() { return },
                _ = ticker.tick(), if query.bookmarks => {
                    if !self.send_bookmark(rv, false).await {
                        return;
                    }
                }
                () = timeout => return,
                () = self.tx.closed() => return,
            }
        }
    }
}
