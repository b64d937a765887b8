//! Per-collector health, read by `/readyz` and the `collector.up` / `.ready` self-metrics.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use serde::Serialize;

#[derive(Debug, Default)]
struct Inner {
    up: AtomicBool,
    ready: AtomicBool,
    /// A leader-only collector waiting on a replica that does not hold the Lease.
    standby: AtomicBool,
    /// When this run of the collector was started.
    since: RwLock<Option<jiff::Timestamp>>,
    /// Free-text conditions by sub-part (a resource, a member): "CRD not installed", ...
    details: RwLock<BTreeMap<String, String>>,
}

/// The running collectors' statuses by name, shared by the health endpoints and self-metrics.
pub type StatusBoard = Arc<RwLock<Vec<(String, CollectorStatus)>>>;

/// Handle a collector uses to report how it is doing. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct CollectorStatus {
    inner: Arc<Inner>,
}

/// A snapshot for the health endpoints.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StatusSnapshot {
    pub up: bool,
    pub ready: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub standby: bool,
    /// Start of the current run (RFC 3339): a restart on reload shows here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

impl CollectorStatus {
    pub fn set_up(&self, up: bool) {
        self.inner.up.store(up, Ordering::Relaxed);
    }

    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Relaxed);
    }

    pub fn set_standby(&self, standby: bool) {
        self.inner.standby.store(standby, Ordering::Relaxed);
    }

    /// Records that the collector starts now.
    pub fn mark_started(&self) {
        *self.inner.since.write() = Some(jiff::Timestamp::now());
    }

    pub fn is_up(&self) -> bool {
        self.inner.up.load(Ordering::Relaxed)
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed)
    }

    pub fn is_standby(&self) -> bool {
        self.inner.standby.load(Ordering::Relaxed)
    }

    /// Records a condition of one part of the collector; `None` clears it.
    pub fn set_detail(&self, part: &str, detail: Option<String>) {
        let mut details = self.inner.details.write();
        match detail {
            Some(d) => details.insert(part.to_owned(), d),
            None => details.remove(part),
        };
    }

    pub fn snapshot(&self) -> StatusSnapshot {
        StatusSnapshot {
            up: self.is_up(),
            ready: self.is_ready(),
            standby: self.is_standby(),
            since: self.inner.since.read().map(|t| t.to_string()),
            details: self.inner.details.read().clone(),
        }
    }
}
