//! The watch on Namespace objects behind `namespaceSelector`: it publishes every namespace's
//! labels after each list and each change, for the resources' [`NamespaceGate`]s.
//!
//! [`NamespaceGate`]: super::namespace_gate::NamespaceGate

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use kube::runtime::watcher;
use kube::runtime::watcher::Event;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::namespace_gate::{labels_of, NamespaceLabels};
use crate::collectors::shared::watch_backoff::backed_off;
use crate::kubernetes::list_watch;

/// Watches namespaces until `cancel` fires, publishing their labels to `labels`.
pub async fn watch_namespaces(
    client: kube::Client,
    labels: watch::Sender<NamespaceLabels>,
    cancel: CancellationToken,
) {
    let api: Api<Namespace> = Api::all(client);
    let mut events = backed_off(list_watch(api, watcher::Config::default()));
    let mut listing: BTreeMap<String, Value> = BTreeMap::new();
    let mut current: BTreeMap<String, Value> = BTreeMap::new();
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = events.next() => event,
        };
        let publish = match event {
            None => return,
            Some(Err(error)) => {
                tracing::warn!(%error, "namespace watch error (namespaceSelector); retrying");
                false
            }
            Some(Ok(Event::Init)) => {
                listing.clear();
                false
            }
            Some(Ok(Event::InitApply(ns))) => {
                if let Some((name, value)) = entry(&ns) {
                    listing.insert(name, value);
                }
                false
            }
            Some(Ok(Event::InitDone)) => {
                current = std::mem::take(&mut listing);
                true
            }
            Some(Ok(Event::Apply(ns))) => entry(&ns)
                .is_some_and(|(name, value)| current.insert(name, value.clone()).as_ref() != Some(&value)),
            Some(Ok(Event::Delete(ns))) => {
                ns.metadata.name.as_ref().is_some_and(|name| current.remove(name).is_some())
            }
        };
        if publish {
            labels.send_replace(Some(Arc::new(current.clone())));
        }
    }
}

fn entry(ns: &Namespace) -> Option<(String, Value)> {
    let name = ns.metadata.name.clone()?;
    let labels = serde_json::to_value(&ns.metadata.labels).unwrap_or(Value::Null);
    Some((name, labels_of(&serde_json::json!({"metadata": {"labels": labels}}))))
}
