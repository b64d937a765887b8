//! The relist phase: the fake API server compacts its history, so every open watch ends with
//! 410 Gone and the agent lists every object again while it still holds their points (issue
//! 17: peak RSS during a relist at most 1.2× steady).

use std::time::{Duration, Instant};

use super::exports::{exports, self_value};
use super::process::Agent;
use super::{sample_rss, ScaleError, ScaleOptions};
use crate::fake_apiserver::FakeApiServer;
use crate::otlp_receiver::OtlpReceiver;

/// What one relist of everything cost in memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RelistReport {
    pub rss_before: u64,
    /// Highest RSS from the compaction until an export after the relists ended, and over one
    /// export interval after that.
    pub rss_max: u64,
    /// From the compaction until an export showed every watch listed again; `None` if none did
    /// within the timeout.
    pub listed_after: Option<Duration>,
}

/// Completed (re)lists over every watch of the agent, as of the latest export.
fn lists_done(receiver: &OtlpReceiver) -> f64 {
    let Some(last) = exports(receiver).last().map(|e| e.first) else { return 0.0 };
    self_value(receiver, last, "kube_state_otel.watch.events", &[("type", "init_done")]).unwrap_or(0.0)
}

/// Compacts the server's history and samples the agent's RSS until it has listed again.
pub(super) async fn relist(
    server: &FakeApiServer,
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    options: &ScaleOptions,
) -> Result<RelistReport, ScaleError> {
    let done_before = lists_done(receiver);
    let rss_before = agent.memory()?.rss;
    let started = Instant::now();
    server.compact();
    let mut rss_max = rss_before;
    let deadline = started + options.timeout;
    let listed_after = loop {
        rss_max = rss_max.max(agent.memory()?.rss);
        if lists_done(receiver) > done_before {
            break Some(started.elapsed());
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    rss_max = rss_max.max(sample_rss(agent, options.export_interval).await?);
    Ok(RelistReport { rss_before, rss_max, listed_after })
}
