//! The churn phase: custom resources modified at a target rate, then the wait until the
//! agent's exports have counted every modification.

use std::time::{Duration, Instant};

use super::exports::{cycle_of, exports, self_value, ArrivedExport};
use super::process::Agent;
use super::{cluster, sample_rss, ChurnReport, ExportCycle, ScaleError, ScaleOptions, CRD_RESOURCE};
use crate::fake_apiserver::FakeApiServer;
use crate::otlp_receiver::OtlpReceiver;

/// Watch events of type `apply` the crds collector counted, as of the latest export.
fn crd_applies(receiver: &OtlpReceiver) -> f64 {
    let Some(last) = exports(receiver).last().map(|e| e.first) else { return 0.0 };
    let collector = format!("crds/{CRD_RESOURCE}");
    self_value(
        receiver,
        last,
        "kube_state_otel.watch.events",
        &[("collector", &collector), ("type", "apply")],
    )
    .unwrap_or(0.0)
}

/// Modifies custom resources at `churn_rate` per second for `churn_duration`, then waits
/// until the agent has counted every modification.
pub(super) async fn churn(
    server: &FakeApiServer,
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    options: &ScaleOptions,
) -> Result<ChurnReport, ScaleError> {
    let counted_before = crd_applies(receiver);
    let rss_before = agent.memory()?.rss;
    let cpu_before = agent.cpu()?;
    let first_export = exports(receiver).len();
    let started = Instant::now();
    let mut ticker = tokio::time::interval(Duration::from_millis(10));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut modified = 0u64;
    let mut rss_max = rss_before;
    let mut last_sample = Instant::now();
    let crs = options.crs.max(1) as u64;
    while started.elapsed() < options.churn_duration {
        ticker.tick().await;
        let due = (started.elapsed().as_secs_f64() * options.churn_rate as f64) as u64;
        while modified < due {
            let i = (modified.wrapping_mul(7919) % crs) as usize;
            server.apply(cluster(i, modified + 1)).map_err(|e| ScaleError::Server(e.message.clone()))?;
            modified += 1;
        }
        if last_sample.elapsed() >= Duration::from_millis(250) {
            rss_max = rss_max.max(agent.memory()?.rss);
            last_sample = Instant::now();
        }
    }
    let duration = started.elapsed();
    let cpu_during = agent.cpu()?.saturating_sub(cpu_before);
    let rss_end = agent.memory()?.rss;

    // Every modification is one `apply` event; the exports report the count.
    let deadline = Instant::now() + options.timeout;
    let caught_up_after = loop {
        if crd_applies(receiver) - counted_before >= modified as f64 {
            break Some(started.elapsed().saturating_sub(duration));
        }
        if Instant::now() > deadline {
            break None;
        }
        rss_max = rss_max.max(agent.memory()?.rss);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let counted = crd_applies(receiver) - counted_before;
    // Steady again: the RSS over one more export interval after the churn.
    let rss_after = sample_rss(agent, options.export_interval).await?;

    // The exports from the one before the phase until the one that showed it caught up.
    let caught_up_at = started + duration + caught_up_after.unwrap_or(options.timeout);
    let all = exports(receiver);
    let during: Vec<ArrivedExport> =
        all.iter().skip(first_export.saturating_sub(1)).filter(|e| e.done <= caught_up_at).copied().collect();
    let max_export_gap = during.windows(2).map(|w| w[1].done - w[0].done).max().unwrap_or_default();
    let cycles: Vec<ExportCycle> =
        (first_export..first_export + during.len()).filter_map(|j| cycle_of(receiver, &all, j)).collect();
    Ok(ChurnReport {
        target_rate: options.churn_rate,
        modified,
        duration,
        counted: counted as u64,
        caught_up_after,
        exports: during.len().saturating_sub(1),
        max_export_gap,
        slowest_cycle: cycles.into_iter().max_by_key(|c| c.wall),
        cpu: cpu_during,
        rss_before,
        rss_end,
        rss_max,
        rss_after,
    })
}
