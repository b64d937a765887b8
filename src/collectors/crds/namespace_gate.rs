//! `namespaceSelector`: namespaces chosen by their labels, followed as the labels change.
//!
//! One watch on Namespace objects per collector run publishes every namespace's labels; each
//! resource with a selector holds a [`NamespaceGate`] that admits objects of the namespaces it
//! selects and wakes its watch when that set changes, so the watch lists afresh: objects of a
//! namespace that gained the label get series, those of one that lost it lose theirs.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::watch;

use super::selectors::LabelSelector;

/// Every namespace's labels as `{metadata: {labels}}`, the shape `LabelSelector` reads; `None`
/// until the first list of namespaces is complete.
pub type NamespaceLabels = Option<Arc<BTreeMap<String, Value>>>;

/// The compiled `namespaceSelector` of one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct NamespaceSelector {
    /// As written.
    pub text: String,
    pub selector: LabelSelector,
}

/// One resource's view of the namespace labels. Clones share the labels but each remembers
/// the set it last saw, so each watch wakes on its own changes.
#[derive(Clone)]
pub struct NamespaceGate {
    selector: LabelSelector,
    labels: watch::Receiver<NamespaceLabels>,
    seen: BTreeSet<String>,
}

impl fmt::Debug for NamespaceGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamespaceGate").field("selector", &self.selector).finish_non_exhaustive()
    }
}

impl NamespaceGate {
    pub fn new(selector: LabelSelector, labels: watch::Receiver<NamespaceLabels>) -> Self {
        NamespaceGate { selector, labels, seen: BTreeSet::new() }
    }

    /// Whether objects in `namespace` are read now. Objects without one (cluster-scoped) are;
    /// before namespaces are listed, and for a namespace not (yet) seen, none are.
    pub fn admits(&self, namespace: Option<&str>) -> bool {
        let Some(namespace) = namespace.filter(|n| !n.is_empty()) else { return true };
        let labels = self.labels.borrow();
        let object = labels.as_ref().and_then(|all| all.get(namespace));
        object.is_some_and(|object| self.selector.matches(object))
    }

    /// The namespaces selected now.
    pub fn selected(&self) -> BTreeSet<String> {
        let labels = self.labels.borrow();
        let Some(all) = labels.as_ref() else { return BTreeSet::new() };
        all.iter().filter(|(_, object)| self.selector.matches(object)).map(|(name, _)| name.clone()).collect()
    }

    /// Waits until namespaces are listed, and remembers the set selected then. Never returns
    /// if the namespace watch ends first (the collector is stopping).
    pub async fn listed(&mut self) {
        if self.labels.wait_for(Option::is_some).await.is_err() {
            std::future::pending::<()>().await;
        }
        self.seen = self.selected();
    }

    /// Waits until the selected set differs from the one last seen, and returns the new one.
    pub async fn changed(&mut self) -> BTreeSet<String> {
        loop {
            if self.labels.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
            let now = self.selected();
            if now != self.seen {
                self.seen = now.clone();
                return now;
            }
        }
    }
}

/// `gate.changed()`, or never when there is no gate.
pub async fn selection_changed(gate: &mut Option<NamespaceGate>) -> BTreeSet<String> {
    match gate {
        Some(gate) => gate.changed().await,
        None => std::future::pending().await,
    }
}

/// `gate.listed()`, or at once when there is no gate.
pub async fn selection_listed(gate: &mut Option<NamespaceGate>) {
    if let Some(gate) = gate {
        gate.listed().await;
    }
}

/// Labels of the namespace `object` (a Namespace as JSON), in the shape gates read.
pub fn labels_of(object: &Value) -> Value {
    let labels = object.pointer("/metadata/labels").cloned().unwrap_or(Value::Object(Default::default()));
    serde_json::json!({"metadata": {"labels": labels}})
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, Value)]) -> NamespaceLabels {
        Some(Arc::new(
            pairs.iter().map(|(n, l)| (n.to_string(), json!({"metadata": {"labels": l}}))).collect(),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn gates_admit_selected_namespaces_and_wake_on_changes_of_their_set_only() {
        let (tx, rx) = watch::channel(None);
        let mut gate = NamespaceGate::new(LabelSelector::parse("team=payments,tier!=test").unwrap(), rx);
        assert!(!gate.admits(Some("a")), "nothing is admitted before namespaces are listed");
        assert!(gate.admits(None), "cluster-scoped objects are not filtered");

        tx.send_replace(labels(&[
            ("a", json!({"team": "payments"})),
            ("b", json!({"team": "payments", "tier": "test"})),
            ("c", json!({})),
        ]));
        gate.listed().await;
        assert!(gate.admits(Some("a")));
        assert!(!gate.admits(Some("b")), "tier=test is refused");
        assert!(!gate.admits(Some("c")));
        assert!(!gate.admits(Some("unknown")));

        // A change that leaves the selected set alone does not wake the gate.
        tx.send_replace(labels(&[
            ("a", json!({"team": "payments", "x": "1"})),
            ("b", json!({"team": "payments", "tier": "test"})),
            ("c", json!({"other": "y"})),
        ]));
        let quiet = tokio::time::timeout(std::time::Duration::from_secs(1), gate.changed()).await;
        assert!(quiet.is_err(), "the selected set did not change");

        // c gains the label, a loses it.
        tx.send_replace(labels(&[
            ("a", json!({})),
            ("b", json!({"team": "payments", "tier": "test"})),
            ("c", json!({"team": "payments"})),
        ]));
        let now = gate.changed().await;
        assert_eq!(now.into_iter().collect::<Vec<_>>(), ["c"]);
        assert!(gate.admits(Some("c")) && !gate.admits(Some("a")));
    }

    #[test]
    fn labels_of_keeps_only_the_labels() {
        let ns = json!({"metadata": {"name": "a", "labels": {"team": "x"}}, "spec": {}});
        assert_eq!(labels_of(&ns), json!({"metadata": {"labels": {"team": "x"}}}));
        assert_eq!(labels_of(&json!({"metadata": {"name": "b"}})), json!({"metadata": {"labels": {}}}));
    }
}
