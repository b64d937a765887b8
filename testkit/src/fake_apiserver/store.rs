//! Objects, the global resourceVersion counter and the bounded event history.
//!
//! Like etcd, there is one increasing revision for all writes, and history older than the
//! compaction point is gone: a watch or a continue token from before it gets 410. The history
//! keeps each event's previous object too, so a list page at an older revision (a continue
//! token's snapshot) is rebuilt exactly from the current objects plus the retained events.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

use super::object::StoredObject;
use super::resources::ResourceSpec;

/// `(namespace, name)`; the namespace is empty for cluster-scoped objects. Ordered like etcd
/// keys, which is the order lists and pages come in.
pub(crate) type ObjectKey = (String, String);

/// Watch event types that record a change (bookmarks and errors are never stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "ADDED",
            Self::Modified => "MODIFIED",
            Self::Deleted => "DELETED",
        }
    }
}

/// One change, as retained for watch resumes and snapshot pages.
pub(crate) struct Event {
    pub rv: u64,
    pub storage: Arc<str>,
    pub kind: EventType,
    pub key: ObjectKey,
    /// The object after the change (for deletions: the last state, at the deletion's revision).
    pub object: Arc<StoredObject>,
    /// The object before the change; `None` for additions.
    pub previous: Option<Arc<StoredObject>>,
}

/// The fake cluster's whole state.
pub(crate) struct Store {
    /// The latest revision handed out.
    pub rv: u64,
    /// Resumes and snapshots from a revision older than this are gone (410).
    pub compacted_rv: u64,
    resources: Vec<ResourceSpec>,
    objects: HashMap<String, BTreeMap<ObjectKey, Arc<StoredObject>>>,
    history: VecDeque<Event>,
    history_limit: usize,
}

impl Store {
    pub fn new(history_limit: usize, resources: Vec<ResourceSpec>) -> Self {
        Self {
            rv: 0,
            compacted_rv: 0,
            resources,
            objects: HashMap::new(),
            history: VecDeque::new(),
            history_limit: history_limit.max(1),
        }
    }

    /// All served resources, in registration order.
    pub fn resources(&self) -> &[ResourceSpec] {
        &self.resources
    }

    /// The resource served at `group/version/plural`.
    pub fn resource(&self, group: &str, version: &str, plural: &str) -> Option<ResourceSpec> {
        self.resources
            .iter()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
            .cloned()
    }

    /// The resource with this `apiVersion` and `kind`.
    pub fn resource_by_kind(&self, api_version: &str, kind: &str) -> Option<ResourceSpec> {
        self.resources.iter().find(|r| r.api_version() == api_version && r.kind == kind).cloned()
    }

    /// Serves a resource (replacing one with the same group/version/plural).
    pub fn register(&mut self, spec: ResourceSpec) {
        self.resources
            .retain(|r| !(r.group == spec.group && r.version == spec.version && r.plural == spec.plural));
        self.resources.push(spec);
    }

    /// Stops serving a resource; like deleting a CRD, its objects go when no version is left.
    pub fn unregister(&mut self, spec: &ResourceSpec) -> bool {
        let before = self.resources.len();
        self.resources.retain(|r| r != spec);
        let removed = self.resources.len() != before;
        let storage = spec.storage_key();
        if removed && !self.resources.iter().any(|r| r.storage_key() == storage) {
            self.objects.remove(&storage);
        }
        removed
    }

    pub fn get(&self, resource: &ResourceSpec, key: &ObjectKey) -> Option<Arc<StoredObject>> {
        self.objects.get(&resource.storage_key())?.get(key).cloned()
    }

    /// Number of objects of a resource (all namespaces).
    pub fn count(&self, resource: &ResourceSpec) -> usize {
        self.objects.get(&resource.storage_key()).map_or(0, BTreeMap::len)
    }

    /// The next revision, to be written into the object about to be stored.
    pub fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    /// Stores an object at revision `rv` (from [`Store::next_rv`]) and records the event.
    pub fn put(
        &mut self,
        resource: &ResourceSpec,
        key: ObjectKey,
        rv: u64,
        object: StoredObject,
    ) -> Arc<StoredObject> {
        let storage = resource.storage_key();
        let object = Arc::new(object);
        let previous = self.objects.entry(storage.clone()).or_default().insert(key.clone(), object.clone());
        let kind = if previous.is_some() { EventType::Modified } else { EventType::Added };
        self.record(Event { rv, storage: storage.into(), kind, key, object: object.clone(), previous });
        object
    }

    /// Removes an object; `tombstone` is its last state re-stamped with revision `rv`.
    pub fn remove(&mut self, resource: &ResourceSpec, key: &ObjectKey, rv: u64, tombstone: StoredObject) {
        let storage = resource.storage_key();
        let previous = self.objects.get_mut(&storage).and_then(|objects| objects.remove(key));
        let object = Arc::new(tombstone);
        let event = Event {
            rv,
            storage: storage.into(),
            kind: EventType::Deleted,
            key: key.clone(),
            object,
            previous,
        };
        self.record(event);
    }

    fn record(&mut self, event: Event) {
        self.history.push_back(event);
        while self.history.len() > self.history_limit {
            if let Some(dropped) = self.history.pop_front() {
                self.compacted_rv = self.compacted_rv.max(dropped.rv);
            }
        }
    }

    /// Drops all history: everything before the current revision is gone.
    pub fn compact(&mut self) {
        self.history.clear();
        self.compacted_rv = self.rv;
    }

    /// Events of one resource after `rv`, or `None` when some of them were compacted away.
    pub fn events_after<'a>(
        &'a self,
        storage: &'a str,
        rv: u64,
    ) -> Option<impl Iterator<Item = &'a Event> + 'a> {
        if rv < self.compacted_rv {
            return None;
        }
        let start = self.history.partition_point(|e| e.rv <= rv);
        Some(self.history.range(start..).filter(move |e| &*e.storage == storage))
    }

    /// Visits the objects of a resource as they were at revision `at_rv`, in key order,
    /// after `after` and within `namespace`, until `visit` returns false. `None` when `at_rv`
    /// is older than the compaction point.
    pub fn visit_at(
        &self,
        resource: &ResourceSpec,
        at_rv: u64,
        after: Option<&ObjectKey>,
        namespace: Option<&str>,
        mut visit: impl FnMut(&ObjectKey, &Arc<StoredObject>) -> bool,
    ) -> Option<()> {
        let storage = resource.storage_key();
        // For each key changed after `at_rv`, its state at `at_rv` is the previous object of
        // the first later event (absent if that event added it).
        let mut overrides: BTreeMap<&ObjectKey, Option<&Arc<StoredObject>>> = BTreeMap::new();
        for event in self.events_after(&storage, at_rv)? {
            overrides.entry(&event.key).or_insert(event.previous.as_ref());
        }
        let lower: Bound<ObjectKey> = match (after, namespace) {
            (Some(after), _) => Bound::Excluded(after.clone()),
            (None, Some(ns)) => Bound::Included((ns.to_string(), String::new())),
            (None, None) => Bound::Unbounded,
        };
        let empty = BTreeMap::new();
        let objects = self.objects.get(&storage).unwrap_or(&empty);
        let mut current = objects.range((lower.clone(), Bound::Unbounded)).peekable();
        let lower_ref = match &lower {
            Bound::Excluded(k) => Bound::Excluded(k),
            Bound::Included(k) => Bound::Included(k),
            Bound::Unbounded => Bound::Unbounded,
        };
        let mut changed = overrides.range::<&ObjectKey, _>((lower_ref, Bound::Unbounded)).peekable();
        loop {
            let current_key: Option<&ObjectKey> = current.peek().map(|(k, _)| *k);
            let changed_key: Option<&ObjectKey> = changed.peek().map(|(k, _)| **k);
            let next = match (current_key, changed_key) {
                (None, None) => break,
                (Some(c), Some(o)) if c == o => {
                    current.next();
                    changed.next().and_then(|(k, state)| state.map(|o| (*k, o)))
                }
                (Some(c), Some(o)) if c > o => changed.next().and_then(|(k, state)| state.map(|o| (*k, o))),
                (Some(_), _) => current.next(),
                (None, Some(_)) => changed.next().and_then(|(k, state)| state.map(|o| (*k, o))),
            };
            let Some((key, object)) = next else { continue };
            if let Some(ns) = namespace {
                if key.0.as_str() > ns {
                    break;
                }
                if key.0 != ns {
                    continue;
                }
            }
            if !visit(key, object) {
                break;
            }
        }
        Some(())
    }
}
