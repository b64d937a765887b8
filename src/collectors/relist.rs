//! Relist bookkeeping of one watch stream, for every collector that watches Kubernetes objects.
//!
//! kube-runtime's reflector store writer is the model: `Init` opens an empty buffer, each
//! `InitApply` records its object there, and `InitDone` makes the buffer the truth, so what was
//! known before but not listed again was deleted while the watch was down. Collectors keep
//! points, not objects, so only the listed *keys* are buffered, and listed objects are applied
//! at once (a changed object's points need not wait for the rest of the list); what vanished is
//! decided at `InitDone` against the keys the caller holds.

use foldhash::{HashSet, HashSetExt};

use kube::runtime::watcher::Event;

/// What the caller does with one watcher event.
#[derive(Debug, PartialEq)]
pub enum Change<K> {
    /// The object was listed, added or changed: (re)write its points.
    Apply(K),
    /// The object was deleted: drop its points.
    Delete(K),
    /// A (re)list began; points stay until it is complete.
    RelistStarted,
    /// The (re)list is complete: held keys it did not list vanished meanwhile.
    Listed(Listed),
}

/// The keys one complete (re)list returned (hashed with foldhash, as the series tables' keys:
/// SipHash over every listed key was over 1 % of the initial sync).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Listed(HashSet<String>);

impl Listed {
    /// Whether the list returned `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.0.contains(key)
    }

    /// The keys among `held` the list did not return: their objects are gone.
    pub fn vanished<'a>(&self, held: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        held.into_iter().filter(|key| !self.contains(key)).cloned().collect()
    }

    /// The listed keys, now the keys the stream holds.
    pub fn into_keys(self) -> HashSet<String> {
        self.0
    }
}

/// The relist state of one watch stream of objects `K`.
pub struct Relist<K> {
    /// The key a listed object is held under; `None` for an object the caller cannot hold.
    key: fn(&K) -> Option<String>,
    /// Keys listed since the last `Init`.
    listing: HashSet<String>,
    listed: bool,
}

impl<K> Relist<K> {
    /// Bookkeeping for objects held under `key`.
    pub fn new(key: fn(&K) -> Option<String>) -> Self {
        Relist { key, listing: HashSet::new(), listed: false }
    }

    /// Whether the first list is complete (it stays so across later relists).
    pub fn is_listed(&self) -> bool {
        self.listed
    }

    /// Records `event` and says what to do with it.
    pub fn apply(&mut self, event: Event<K>) -> Change<K> {
        match event {
            Event::Init => {
                self.listing = HashSet::new();
                Change::RelistStarted
            }
            Event::InitApply(object) => {
                if let Some(key) = (self.key)(&object) {
                    self.listing.insert(key);
                }
                Change::Apply(object)
            }
            Event::InitDone => {
                self.listed = true;
                // Taken rather than cleared: the buffer's memory goes with the list.
                Change::Listed(Listed(std::mem::take(&mut self.listing)))
            }
            Event::Apply(object) => Change::Apply(object),
            Event::Delete(object) => Change::Delete(object),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relist() -> Relist<&'static str> {
        Relist::new(|name| (!name.is_empty()).then(|| name.to_string()))
    }

    fn listed(relist: &mut Relist<&'static str>, events: Vec<Event<&'static str>>) -> Listed {
        let mut last = None;
        for event in events {
            last = Some(relist.apply(event));
        }
        match last {
            Some(Change::Listed(listed)) => listed,
            other => panic!("the events end with {other:?}, not a complete list"),
        }
    }

    #[test]
    fn events_become_changes() {
        let mut relist = relist();
        assert_eq!(relist.apply(Event::Init), Change::RelistStarted);
        assert_eq!(relist.apply(Event::InitApply("a")), Change::Apply("a"));
        assert_eq!(relist.apply(Event::Apply("b")), Change::Apply("b"));
        assert_eq!(relist.apply(Event::Delete("b")), Change::Delete("b"));
    }

    #[test]
    fn what_a_relist_does_not_return_vanished() {
        let mut relist = relist();
        let held: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let first = listed(
            &mut relist,
            vec![Event::Init, Event::InitApply("a"), Event::InitApply("c"), Event::InitDone],
        );
        assert!(first.contains("a") && !first.contains("b"));
        assert_eq!(first.vanished(&held), ["b"]);
        assert_eq!(first.into_keys(), HashSet::from_iter(["a".to_string(), "c".to_string()]));
    }

    #[test]
    fn only_the_latest_relist_counts() {
        let mut relist = relist();
        relist.apply(Event::Init);
        relist.apply(Event::InitApply("a"));
        // A restarted list starts over: "a" listed before the restart is not listed now.
        let restarted = listed(&mut relist, vec![Event::Init, Event::InitApply("b"), Event::InitDone]);
        assert_eq!(restarted.into_keys(), HashSet::from_iter(["b".to_string()]));
        let empty = listed(&mut relist, vec![Event::Init, Event::InitDone]);
        assert!(empty.into_keys().is_empty(), "keys of one list do not carry into the next");
    }

    #[test]
    fn changes_outside_a_list_and_keyless_objects_are_not_listed() {
        let mut relist = relist();
        relist.apply(Event::Apply("early"));
        let keys = listed(&mut relist, vec![Event::Init, Event::InitApply(""), Event::InitDone]).into_keys();
        assert!(keys.is_empty());
    }

    #[test]
    fn listed_once_the_first_list_is_done() {
        let mut relist = relist();
        assert!(!relist.is_listed());
        relist.apply(Event::Init);
        relist.apply(Event::InitApply("a"));
        assert!(!relist.is_listed());
        relist.apply(Event::InitDone);
        assert!(relist.is_listed());
        relist.apply(Event::Init);
        assert!(relist.is_listed(), "a later relist does not undo the first");
    }
}
