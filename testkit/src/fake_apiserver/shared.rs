//! State shared by the HTTP handlers, the watch streams and the Rust handle.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

use super::faults::Faults;
use super::store::Store;

/// Signals to open watch streams; each counter is bumped by one harness call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Control {
    /// `drop_watches()`: close every stream abruptly.
    pub drops: u64,
    /// `compact()`: every stream gets a 410 `ERROR` event and ends.
    pub compactions: u64,
    /// `send_bookmarks()`: streams that asked for bookmarks send one now.
    pub bookmarks: u64,
}

/// One request as received, for tests asserting on what a client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method (`GET`, `PATCH`, ...).
    pub method: String,
    /// Path without the query (`/api/v1/namespaces/default/pods`).
    pub path: String,
    /// Raw query string, empty if none.
    pub query: String,
    /// When it arrived.
    pub at: Instant,
}

impl RecordedRequest {
    /// The decoded value of query parameter `name`, if present.
    pub fn query_param(&self, name: &str) -> Option<String> {
        form_pairs(&self.query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Decodes `a=b&c=d` (percent-encoding and `+`).
pub(crate) fn form_pairs(query: &str) -> Vec<(String, String)> {
    fn decode(text: &str) -> String {
        let bytes = text.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    match u8::from_str_radix(hex, 16) {
                        Ok(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                other => out.push(other),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

pub(crate) struct Shared {
    pub store: Mutex<Store>,
    /// The latest revision; watch streams wake on changes.
    pub changed: watch::Sender<u64>,
    pub control: watch::Sender<Control>,
    pub bookmark_interval: Duration,
    pub list_page_delay: Duration,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub faults: Mutex<Faults>,
    pub kube_system_uid: String,
    pub addr: SocketAddr,
}

impl Shared {
    /// Runs a write under the store lock, then wakes the watch streams.
    pub fn write<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let (result, rv) = {
            let mut store = self.store.lock();
            let result = f(&mut store);
            (result, store.rv)
        };
        self.changed.send_replace(rv);
        result
    }

    pub fn signal(&self, f: impl FnOnce(&mut Control)) {
        self.control.send_modify(f);
    }
}
