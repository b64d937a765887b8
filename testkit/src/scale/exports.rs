//! Reading the agent's exports out of the OTLP receiver: which requests make one export, how
//! many points of each are per-object series, and the agent's self-metrics in them.

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::Metric;

use super::process::Agent;
use super::{ExportCycle, ScaleError, ScaleOptions};
use crate::otlp_receiver::{count_points, find_metric, points, OtlpReceiver};

/// The config's `count` metric: one point per phase seen, not per object, and on every shard.
const AGGREGATE_SUFFIX: &str = ".by_phase";

fn is_self_metric(metric: &Metric) -> bool {
    metric.name.starts_with("kube_state_otel.")
}

/// What the receiver keeps of each (possibly huge) export: the agent's self-metrics and the
/// points that combine objects, so the rest (the per-object series) can be counted apart.
pub(super) fn kept_metric(metric: &Metric) -> bool {
    is_self_metric(metric) || metric.name.ends_with(AGGREGATE_SUFFIX)
}

fn has_self_metrics(request: &ExportMetricsServiceRequest) -> bool {
    request
        .resource_metrics
        .iter()
        .flat_map(|rm| &rm.scope_metrics)
        .flat_map(|sm| &sm.metrics)
        .any(is_self_metric)
}

/// One export as it arrived: the request with the agent's self-metrics and the chunks of
/// series that followed it.
#[derive(Clone, Copy, Debug)]
pub(super) struct ArrivedExport {
    /// Index of its first request in the receiver's records.
    pub first: usize,
    /// When its last request arrived.
    pub done: Instant,
    pub points: u64,
    /// Points of the per-object series: all but the self-metrics and the `count` metric.
    pub series_points: u64,
    pub encoded_bytes: usize,
}

/// The exports received so far; the last one may still be arriving.
pub(super) fn exports(receiver: &OtlpReceiver) -> Vec<ArrivedExport> {
    let received = receiver.received();
    let mut exports: Vec<ArrivedExport> = Vec::new();
    for (i, a) in receiver.arrivals().into_iter().enumerate() {
        let kept = received.get(i).map(|r| &r.request);
        let starts = kept.is_some_and(has_self_metrics);
        let series_points = a.points.saturating_sub(kept.map_or(0, count_points));
        match exports.last_mut() {
            Some(e) if !starts => {
                e.done = a.at;
                e.points += a.points;
                e.series_points += series_points;
                e.encoded_bytes += a.encoded_bytes;
            }
            _ => exports.push(ArrivedExport {
                first: i,
                done: a.at,
                points: a.points,
                series_points,
                encoded_bytes: a.encoded_bytes,
            }),
        }
    }
    exports
}

/// Waits until `n` more exports than now have arrived completely (the next one has started).
pub(super) async fn wait_exports(
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    n: usize,
    options: &ScaleOptions,
) -> Result<(), ScaleError> {
    let target = exports(receiver).len() + n + 1;
    wait_started(receiver, agent, target, options.timeout).await
}

/// Waits until `count` exports have started arriving.
pub(super) async fn wait_started(
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    count: usize,
    timeout: Duration,
) -> Result<(), ScaleError> {
    let deadline = Instant::now() + timeout;
    while exports(receiver).len() < count {
        agent.memory()?;
        if Instant::now() > deadline {
            return Err(ScaleError::Agent(format!("fewer than {count} exports in {timeout:?}")));
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// The value of a self-metric point in the `k`-th kept request whose attributes include `wanted`.
pub(super) fn self_value(
    receiver: &OtlpReceiver,
    k: usize,
    name: &str,
    wanted: &[(&str, &str)],
) -> Option<f64> {
    let received = receiver.received();
    let metric = find_metric(&received.get(k)?.request, name)?;
    let matching = points(metric).into_iter().filter(|p| {
        wanted.iter().all(|(key, value)| p.attributes.iter().any(|(pk, pv)| pk == key && pv == value))
    });
    let values: Vec<f64> = matching.map(|p| p.value).collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

/// Export `j`'s cycle: its points, and the duration the next export reports for it.
pub(super) fn cycle_of(receiver: &OtlpReceiver, exports: &[ArrivedExport], j: usize) -> Option<ExportCycle> {
    let (this, next) = (exports.get(j)?, exports.get(j + 1)?);
    let name = "kube_state_otel.export.duration";
    Some(ExportCycle {
        points: this.points,
        encoded_bytes: this.encoded_bytes,
        wall: Duration::from_secs_f64(self_value(receiver, next.first, name, &[("clock", "wall")])?),
        cpu: Duration::from_secs_f64(self_value(receiver, next.first, name, &[("clock", "cpu")])?),
    })
}

/// The last export whose duration has been reported.
pub(super) fn last_cycle(receiver: &OtlpReceiver) -> Option<ExportCycle> {
    let exports = exports(receiver);
    cycle_of(receiver, &exports, exports.len().checked_sub(2)?)
}
