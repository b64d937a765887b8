//! A long-lived watch per prefix that counts put and delete events.
//!
//! The counts live in the task, so they survive reconnects. After a failure the watch resumes
//! from the revision after the last event seen (on the next endpoint, after a backoff), so
//! events are neither lost nor counted twice, unless the revision was compacted meanwhile.

use std::sync::Arc;
use std::time::Duration;

use etcd_client::{EventType, WatchOptions};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::client::{call, connect, tls_hint, Access, EtcdError, Purpose};
use super::points::watch_points;
use crate::backoff::{Attempts, Backoff};
use crate::collectors::CollectorStatus;
use crate::series::SeriesTable;
use crate::telemetry::{SelfMetrics, WatchEventKind};

/// The wait before reconnecting: 200 ms doubling to 30 s.
const RETRY: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(30));

/// What one watch task watches and where it reports.
pub struct WatchTarget {
    pub cluster: String,
    pub prefix: String,
    pub endpoints: Vec<String>,
    pub access: Access,
    pub timeout: Duration,
    pub table: Arc<SeriesTable>,
    pub status: CollectorStatus,
    pub self_metrics: SelfMetrics,
}

/// Events seen so far, and where to resume.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Progress {
    puts: u64,
    deletes: u64,
    /// Revision to resume from after a reconnect; `None` watches from now.
    resume_from: Option<i64>,
}

/// The wait after a watch that lasted `watch_lasted` failed. A watch that lasted as long as the
/// longest wait counts as a success: the failures before it are forgotten.
fn next_wait(failures: &mut Attempts, watch_lasted: Duration) -> Duration {
    if watch_lasted >= RETRY.max() {
        failures.reset();
    }
    failures.next_delay(&RETRY)
}

/// Watches until `cancel` fires.
pub async fn run(target: WatchTarget, cancel: CancellationToken) {
    let key = format!("watch/{}/{}", target.cluster, target.prefix);
    let part = format!("{}/watch {}", target.cluster, target.prefix);
    let mut progress = Progress::default();
    target.table.replace(&key, watch_points(&target.cluster, &target.prefix, 0, 0));
    let mut failures = Attempts::default();
    for endpoint in target.endpoints.iter().cycle() {
        let started = Instant::now();
        let error = tokio::select! {
            _ = cancel.cancelled() => return,
            error = watch(&target, endpoint, &key, &part, &mut progress) => error,
        };
        target.self_metrics.watch_event("etcd", WatchEventKind::Error);
        let wait = next_wait(&mut failures, started.elapsed());
        let hint = tls_hint(target.access.tls.as_ref(), &error).map(|h| format!("; {h}")).unwrap_or_default();
        tracing::debug!(cluster = %target.cluster, prefix = %target.prefix, %endpoint, %error, "etcd watch failed");
        target.status.set_detail(
            &part,
            Some(format!(
                "watch via {endpoint} failed, retrying in {}: {error}{hint}",
                humantime::format_duration(wait)
            )),
        );
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One watch stream; returns why it ended.
async fn watch(
    target: &WatchTarget,
    endpoint: &str,
    key: &str,
    part: &str,
    progress: &mut Progress,
) -> EtcdError {
    let client = match connect(endpoint, &target.access, target.timeout, Purpose::Watch).await {
        Ok(client) => client,
        Err(e) => return e,
    };
    let mut options = WatchOptions::new().with_prefix();
    if let Some(revision) = progress.resume_from {
        options = options.with_start_revision(revision);
    }
    let mut watch_client = client.watch_client();
    let mut stream = match call(
        "watch",
        target.timeout,
        watch_client.watch(target.prefix.as_str(), Some(options)),
    )
    .await
    {
        Ok(stream) => stream,
        Err(e) => return e,
    };
    loop {
        let response = match stream.message().await {
            Ok(Some(response)) => response,
            Ok(None) => return EtcdError::WatchEnded,
            Err(source) => return EtcdError::Request { what: "watch", source },
        };
        if response.created() {
            target.status.set_detail(part, None);
        }
        if response.canceled() {
            let reason = if response.compact_revision() > 0 {
                // The events in between are gone; count from the oldest one still kept.
                progress.resume_from = Some(response.compact_revision());
                format!("revision compacted, resuming from {}", response.compact_revision())
            } else {
                response.cancel_reason().to_owned()
            };
            return EtcdError::WatchCanceled { reason };
        }
        if response.events().is_empty() {
            continue;
        }
        for event in response.events() {
            let kind = match event.event_type() {
                EventType::Put => {
                    progress.puts += 1;
                    WatchEventKind::Apply
                }
                EventType::Delete => {
                    progress.deletes += 1;
                    WatchEventKind::Delete
                }
            };
            target.self_metrics.watch_event("etcd", kind);
            if let Some(kv) = event.kv() {
                progress.resume_from = Some(kv.mod_revision() + 1);
            }
        }
        target
            .table
            .replace(key, watch_points(&target.cluster, &target.prefix, progress.puts, progress.deletes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delay_doubles_to_the_cap_and_resets_after_a_long_watch() {
        let mut failures = Attempts::default();
        let short = Duration::from_millis(5);
        let got: Vec<u128> = (0..10).map(|_| next_wait(&mut failures, short).as_millis()).collect();
        assert_eq!(got, [200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
        assert_eq!(next_wait(&mut failures, RETRY.max()), Duration::from_millis(200));
        assert_eq!(next_wait(&mut failures, short), Duration::from_millis(400));
    }
}
