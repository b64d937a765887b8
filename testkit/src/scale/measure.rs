//! The two CPU figures compared with the parse floor: the initial sync (spawn until the first
//! complete export) and the CPU of an idle export (K export intervals without changes / K).

use std::time::Duration;

use super::cpu_trace::CpuTrace;
use super::exports::{exports, self_value, wait_started};
use super::process::Agent;
use super::ScaleError;
use crate::otlp_receiver::OtlpReceiver;

/// From spawning the agent until its first complete export had arrived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitialSync {
    /// Agent CPU time (user + system) over that span.
    pub cpu: Duration,
    /// When the first complete export's last request arrived, since spawn.
    pub at: Duration,
    /// Per-object points of a complete export (the steady exports').
    pub series_points: u64,
}

/// Finds the first complete export (its per-object points reach those of the last complete
/// export: the agent leaves a table out until its first list is done) and the agent's CPU when
/// its last request arrived. Call it once the steady exports have arrived.
pub(super) async fn initial_sync(
    receiver: &OtlpReceiver,
    agent: &Agent,
    trace: &CpuTrace,
) -> Result<InitialSync, ScaleError> {
    let all = exports(receiver);
    // The last one may still be arriving.
    let steady = all.len().checked_sub(2).map(|j| all[j].series_points);
    let steady = steady.ok_or_else(|| ScaleError::Agent("fewer than two exports".into()))?;
    let first = all.iter().find(|e| e.series_points >= steady).expect("the steady export itself");
    let cpu = trace
        .wait_at_or_after(first.done)
        .await
        .ok_or_else(|| ScaleError::Agent("no CPU sample after the first complete export".into()))?;
    Ok(InitialSync { cpu, at: first.done.saturating_duration_since(agent.spawned), series_points: steady })
}

/// Agent CPU from the start of one export to the start of the `k`-th after it, over `k`: the
/// cost of an export when nothing changes, idle work included.
pub(super) async fn idle_cpu_per_export(
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    k: u32,
    timeout: Duration,
) -> Result<Duration, ScaleError> {
    let k = k.max(1);
    let now = exports(receiver).len();
    wait_started(receiver, agent, now + 1, timeout).await?;
    let before = agent.cpu()?;
    wait_started(receiver, agent, now + 1 + k as usize, timeout).await?;
    Ok(agent.cpu()?.saturating_sub(before) / k)
}

/// Objects the agent holds, over all its tables (`kube_state_otel.objects` of the last export).
pub(super) fn objects_held(receiver: &OtlpReceiver) -> Option<u64> {
    let last = exports(receiver).last()?.first;
    self_value(receiver, last, "kube_state_otel.objects", &[]).map(|v| v as u64)
}
