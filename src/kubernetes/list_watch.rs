//! The watcher every collector runs: kube-runtime's list-then-watch, with each list page read
//! into one buffer the stream keeps while it lists.
//!
//! kube's watcher lists through `Api::list`, which collects a page's body, copies it into a
//! `Vec`, then into a `String`, and only then parses it: a page of 500 custom resources is over
//! a megabyte, copied three times into fresh allocations whose memory the kernel zeroes page by
//! page. Profiled on the README's scale set, those copies and their page faults were 7 % of the
//! agent's CPU until its first export. Here a page is read into a buffer that is reused from
//! page to page of a list (so it is faulted in once) and let go when the list is done. Its
//! objects are not decoded together: the page is scanned for where each is
//! ([`super::list_items`]), and each is decoded from its bytes when it is handed out, so one
//! object's values are alive at a time, not a page's (no `String` either: invalid UTF-8 in a
//! member nothing reads does not fail the page). An object that does not decode is skipped with
//! a warning, and the rest of the list goes on.
//!
//! Everything else follows kube's `watcher::watcher` (kube-runtime 5) step by step: the same
//! events (`Init`, `InitApply` for each listed object, `InitDone`, then `Apply` and `Delete`),
//! the same errors, the same requests from the same [`watcher::Config`] (page size, selectors,
//! list semantic, bookmarks, watch timeout), a watch resumed from the last resource version seen
//! (bookmarks included) when it ends, a fresh list after `410 Gone`, and a watch silent for
//! longer than its timeout taken for dead. Two differences: a watch refused with an HTTP 410
//! (rather than a 410 error event) lists again here, where kube's watcher retries it forever;
//! and a listed object that does not decode is skipped, where kube's fails the whole list.
//! The streaming-list strategy (`sendInitialEvents`) is not offered: the collectors list.
//!
//! While it lists, the stream holds the allocator's list setting ([`Listing`]): from `Init`
//! until the list is done, fails, or the stream is dropped; the last list in progress to end
//! gives the freed memory back.

use std::fmt::Debug;
use std::ops::Range;
use std::time::Duration;

use futures::stream::{self, BoxStream, Stream, StreamExt};
use http::StatusCode;
use http_body_util::BodyExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ListMeta;
use kube::api::{ListParams, VersionMatch, WatchEvent, WatchParams};
use kube::core::{Request, Status};
use kube::runtime::watcher::{self, Event, ListSemantic};
use kube::{Api, Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::de::IgnoredAny;
use serde::Deserialize;

use super::list_items::{self, NotJson};
use crate::malloc::Listing;

/// What a watch waits beyond its server-side timeout before it takes a silent watch for dead.
const IDLE_MARGIN: Duration = Duration::from_secs(5);

/// The most a page's `Content-Length` reserves before its body is read (a header is not
/// trusted with the agent's memory; a longer body grows the buffer as it arrives).
const MAX_RESERVED: usize = 64 << 20;

/// The server-side watch timeout when the config sets none (the API server's default).
const DEFAULT_WATCH_TIMEOUT: u32 = 290;

/// Lists then watches `api` as `config` says, forever; errors are yielded and the next poll
/// tries again from where it makes sense (the caller waits between tries).
pub fn list_watch<K>(
    api: Api<K>,
    config: watcher::Config,
) -> impl Stream<Item = watcher::Result<Event<K>>> + Send
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let client = api.clone().into_client();
    let watch = ListWatch { lister: Lister { api, client, config }, state: State::Empty };
    stream::unfold(watch, |mut watch| async move {
        let item = watch.next().await;
        Some((item, watch))
    })
}

struct ListWatch<K> {
    lister: Lister<K>,
    state: State<K>,
}

/// What each step requests with.
struct Lister<K> {
    api: Api<K>,
    client: Client,
    config: watcher::Config,
}

enum State<K> {
    /// The next step lists from the start.
    Empty,
    /// Listing: where the current page's objects not yet yielded are, and how to go on.
    Listing {
        continue_token: Option<String>,
        /// The list's resource version, once a page has told it.
        resource_version: Option<String>,
        /// The spans in `page` of the objects not yet decoded.
        items: std::vec::IntoIter<Range<usize>>,
        /// The buffer pages are read into, kept from page to page.
        page: Vec<u8>,
        /// The allocator set up for a list, from `Init` until the state leaves listing (the
        /// list done, failed, or the stream dropped) ([`Listing`]).
        memory: Listing,
    },
    /// Listed (or a watch ended): the next step watches from `resource_version`.
    Listed {
        resource_version: String,
    },
    Watching {
        resource_version: String,
        events: BoxStream<'static, kube::Result<WatchEvent<K>>>,
    },
}

/// A list page without its objects (`list_items::Layout::envelope`): where the list goes on.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    metadata: ListMeta,
    /// Empty once the objects are taken out; anything here means the scan missed them.
    #[serde(default)]
    items: Option<Vec<IgnoredAny>>,
}

type Step<K> = (Option<watcher::Result<Event<K>>>, State<K>);

impl<K> ListWatch<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    async fn next(&mut self) -> watcher::Result<Event<K>> {
        loop {
            let state = std::mem::replace(&mut self.state, State::Empty);
            let (item, state) = self.lister.step(state).await;
            self.state = state;
            if let Some(item) = item {
                return item;
            }
        }
    }
}

impl<K> Lister<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    /// One step: what to yield (if anything) and the state after it.
    async fn step(&self, state: State<K>) -> Step<K> {
        match state {
            State::Empty => {
                let listing = State::Listing {
                    continue_token: None,
                    resource_version: None,
                    items: Vec::new().into_iter(),
                    page: Vec::new(),
                    memory: Listing::begin(),
                };
                (Some(Ok(Event::Init)), listing)
            }
            State::Listing { continue_token, resource_version, mut items, page, memory } => {
                if let Some(object) = self.next_object(&mut items, &page) {
                    let listing = State::Listing { continue_token, resource_version, items, page, memory };
                    return (Some(Ok(Event::InitApply(object))), listing);
                }
                match (continue_token, resource_version) {
                    // `memory` goes with the listing state: every listed object has been
                    // applied by the time `InitDone` is asked for.
                    (None, Some(resource_version)) => {
                        (Some(Ok(Event::InitDone)), State::Listed { resource_version })
                    }
                    (continue_token, _) => self.list(continue_token, page, memory).await,
                }
            }
            State::Listed { resource_version } => {
                match self.api.watch(&watch_params(&self.config), &resource_version).await {
                    Ok(events) => (None, State::Watching { resource_version, events: events.boxed() }),
                    Err(error) => {
                        log_failure("watch start", &error);
                        // A server may refuse a too old version with an HTTP 410 rather than an
                        // error event; only a list catches up then (kube's watcher would retry
                        // the same watch forever).
                        let next = match &error {
                            kube::Error::Api(status) if status.code == 410 => State::Empty,
                            _ => State::Listed { resource_version },
                        };
                        (Some(Err(watcher::Error::WatchStartFailed(error))), next)
                    }
                }
            }
            State::Watching { resource_version, events } => self.watched(resource_version, events).await,
        }
    }

    /// Lists the page after `continue_token` (the first without one).
    async fn list(&self, continue_token: Option<String>, mut page: Vec<u8>, memory: Listing) -> Step<K> {
        match self.list_page(continue_token, &mut page).await {
            Ok(listed) => {
                let resource_version = listed.metadata.resource_version.filter(|v| !v.is_empty());
                let continue_token = listed.metadata.continue_.filter(|t| !t.is_empty());
                if resource_version.is_none() && continue_token.is_none() {
                    return (Some(Err(watcher::Error::NoResourceVersion)), State::Empty);
                }
                let items = listed.items.into_iter();
                (None, State::Listing { continue_token, resource_version, items, page, memory })
            }
            Err(error) => {
                // A failed list lets go of the allocator setting while the caller backs off
                // (or for good, while the failure lasts); `Init` takes it again.
                log_failure("list", &error);
                (Some(Err(watcher::Error::InitialListFailed(error))), State::Empty)
            }
        }
    }

    /// The next object of the page that decodes. One that does not (a value of a type its
    /// fields cannot hold) is skipped with a warning: the others are still listed, where a
    /// whole-page decode would fail the list again at every try.
    fn next_object(&self, items: &mut std::vec::IntoIter<Range<usize>>, page: &[u8]) -> Option<K> {
        for span in items.by_ref() {
            match serde_json::from_slice(&page[span]) {
                Ok(object) => return Some(object),
                Err(error) => tracing::warn!(
                    url = %self.api.resource_url(),
                    %error,
                    "a listed object does not decode; skipped (the rest of the list goes on)"
                ),
            }
        }
        None
    }

    async fn list_page(
        &self,
        continue_token: Option<String>,
        page: &mut Vec<u8>,
    ) -> kube::Result<ListedPage> {
        let mut params = list_params(&self.config);
        params.continue_token = continue_token;
        let mut request =
            Request::new(self.api.resource_url()).list(&params).map_err(kube::Error::BuildRequest)?;
        request.extensions_mut().insert("list");
        let response = self.client.send(request.map(kube::client::Body::from)).await?;
        let status = response.status();
        page.clear();
        if let Some(length) = content_length(response.headers()) {
            // What the header says, up to a bound: the body still decides how much is read.
            page.reserve(length.min(MAX_RESERVED));
        }
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data() {
                page.extend_from_slice(&data);
            }
        }
        if status.is_client_error() || status.is_server_error() {
            return Err(api_error(status, page));
        }
        read_page(page).map_err(kube::Error::SerdeError)
    }

    /// The next event of a running watch.
    async fn watched(
        &self,
        resource_version: String,
        mut events: BoxStream<'static, kube::Result<WatchEvent<K>>>,
    ) -> Step<K> {
        let idle =
            Duration::from_secs(self.config.timeout.unwrap_or(DEFAULT_WATCH_TIMEOUT).into()) + IDLE_MARGIN;
        let next = if self.config.timeout == Some(0) {
            events.next().await
        } else {
            tokio::time::timeout(idle, events.next()).await.unwrap_or_else(|_| {
                tracing::debug!(seconds = idle.as_secs(), "watch silent past its timeout; watching again");
                None
            })
        };
        match next {
            Some(Ok(WatchEvent::Added(object) | WatchEvent::Modified(object))) => {
                moved_to(object, events, Event::Apply)
            }
            Some(Ok(WatchEvent::Deleted(object))) => moved_to(object, events, Event::Delete),
            Some(Ok(WatchEvent::Bookmark(bookmark))) => {
                (None, State::Watching { resource_version: bookmark.metadata.resource_version, events })
            }
            Some(Ok(WatchEvent::Error(status))) => {
                // 410 Gone: the watch fell out of the server's history; only a list catches up.
                let next = if status.code == 410 {
                    State::Empty
                } else {
                    State::Watching { resource_version, events }
                };
                log_status("watch event", &status);
                (Some(Err(watcher::Error::WatchError(status))), next)
            }
            Some(Err(error)) => {
                log_failure("watch", &error);
                (Some(Err(watcher::Error::WatchFailed(error))), State::Watching { resource_version, events })
            }
            None => (None, State::Listed { resource_version }),
        }
    }
}

/// An added, changed or deleted object yielded as `event`; the watch goes on from its version.
fn moved_to<K: Resource>(
    object: K,
    events: BoxStream<'static, kube::Result<WatchEvent<K>>>,
    event: fn(K) -> Event<K>,
) -> Step<K> {
    match object.resource_version().filter(|v| !v.is_empty()) {
        Some(resource_version) => (Some(Ok(event(object))), State::Watching { resource_version, events }),
        None => (Some(Err(watcher::Error::NoResourceVersion)), State::Empty),
    }
}

fn list_params(config: &watcher::Config) -> ListParams {
    let (resource_version, version_match) = match config.list_semantic {
        ListSemantic::Any => (Some("0".to_owned()), Some(VersionMatch::NotOlderThan)),
        ListSemantic::MostRecent => (None, None),
    };
    ListParams {
        label_selector: config.label_selector.clone(),
        field_selector: config.field_selector.clone(),
        limit: config.page_size,
        resource_version,
        version_match,
        ..ListParams::default()
    }
}

fn watch_params(config: &watcher::Config) -> WatchParams {
    WatchParams {
        label_selector: config.label_selector.clone(),
        field_selector: config.field_selector.clone(),
        timeout: config.timeout,
        bookmarks: config.bookmarks,
        ..WatchParams::default()
    }
}

/// A page read: where its objects are, and where the list goes on.
struct ListedPage {
    metadata: ListMeta,
    items: Vec<Range<usize>>,
}

/// The objects' spans and the metadata of a page (see `list_items`).
fn read_page(page: &[u8]) -> serde_json::Result<ListedPage> {
    let layout = match list_items::layout(page) {
        Ok(layout) => layout,
        // Not JSON: serde says where and why.
        Err(NotJson) => {
            serde_json::from_slice::<IgnoredAny>(page)?;
            return Err(serde::de::Error::custom("a list page whose brackets do not balance"));
        }
    };
    let envelope: Envelope = serde_json::from_slice(&layout.envelope(page))?;
    if envelope.items.is_some_and(|items| !items.is_empty()) {
        return Err(serde::de::Error::custom("a list page whose items were not found"));
    }
    Ok(ListedPage { metadata: envelope.metadata, items: layout.items })
}

fn content_length(headers: &http::HeaderMap) -> Option<usize> {
    headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// The error an unsuccessful response stands for: its `Status` when it is one, else a failure
/// carrying its text and HTTP code (a proxy's page, a path nothing serves), as kube reports it.
fn api_error(code: StatusCode, body: &[u8]) -> kube::Error {
    if let Ok(status) = serde_json::from_slice::<Status>(body) {
        return kube::Error::Api(Box::new(status));
    }
    let text = String::from_utf8_lossy(body);
    let status = Status::failure(text.trim(), "Failed to parse error data").with_code(code.as_u16());
    kube::Error::Api(Box::new(status))
}

/// Failures are logged where they are handled (the collectors warn with context); a forbidden
/// one here too, as it needs RBAC fixed rather than a retry.
fn log_failure(what: &str, error: &kube::Error) {
    match error {
        kube::Error::Api(status) => log_status(what, status),
        _ => tracing::debug!(%what, ?error, "failed"),
    }
}

/// An API server's answer of failure, from a request or as a watch event.
fn log_status(what: &str, status: &Status) {
    if status.is_forbidden() {
        tracing::warn!(%what, ?status, "forbidden");
    } else {
        tracing::debug!(%what, ?status, "failed");
    }
}
