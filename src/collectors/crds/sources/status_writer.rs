//! Writes queued statuses through the `/status` subresource with a JSON merge patch, one per
//! call of [`StatusWriter::write_next`] (the loop calls it every 200 ms, so at most five writes
//! a second however many sources change); a newer status replaces a queued one, and a failed
//! write is tried again after [`RETRY_AFTER`].

use std::collections::BTreeMap;
use std::time::Duration;

use kube::api::{Api, DynamicObject, Patch, PatchParams};
use serde_json::{json, Value};
use tokio::time::Instant;

use super::kinds::SourceRef;

/// The field manager of the agent's status writes.
pub const FIELD_MANAGER: &str = "kube-state-otel";
/// The wait before a failed status write is tried again.
pub const RETRY_AFTER: Duration = Duration::from_secs(5);

pub struct StatusWriter {
    client: kube::Client,
    pending: BTreeMap<SourceRef, (Value, Instant)>,
}

impl StatusWriter {
    pub fn new(client: kube::Client) -> Self {
        StatusWriter { client, pending: BTreeMap::new() }
    }

    /// Queues `status` for `source`, replacing what was queued for it.
    pub fn queue(&mut self, source: SourceRef, status: Value) {
        self.pending.insert(source, (status, Instant::now()));
    }

    /// Writes the first queued status that is due, if any.
    pub async fn write_next(&mut self) {
        let now = Instant::now();
        let Some(source) = self.pending.iter().find(|(_, (_, due))| *due <= now).map(|(s, _)| s.clone())
        else {
            return;
        };
        let Some((status, _)) = self.pending.remove(&source) else { return };
        let ar = source.kind.api_resource();
        let api: Api<DynamicObject> = match &source.namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        let patch = json!({"status": status});
        let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
        match api.patch_status(&source.name, &params, &Patch::Merge(&patch)).await {
            Ok(_) => tracing::debug!(source = %source, "status written"),
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(error) => {
                tracing::warn!(source = %source, %error, "cannot write the status of a metric source; retrying");
                self.pending.entry(source).or_insert((status, now + RETRY_AFTER));
            }
        }
    }
}
