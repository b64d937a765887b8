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

/// Exports with nothing changing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IdleExports {
    /// Agent CPU per export, idle work included.
    pub cpu_per_export: Duration,
    /// Bytes the receiver read on its gRPC connections per point exported.
    pub wire_bytes_per_point: f64,
}

/// Agent CPU (and bytes on the wire) from the start of one export to the start of the `k`-th
/// after it, over `k` (over their points for the bytes).
pub(super) async fn idle_exports(
    receiver: &OtlpReceiver,
    agent: &mut Agent,
    k: u32,
    timeout: Duration,
) -> Result<IdleExports, ScaleError> {
    let k = k.max(1) as usize;
    let now = exports(receiver).len();
    wait_started(receiver, agent, now + 1, timeout).await?;
    let (cpu_before, wire_before) = (agent.cpu()?, receiver.grpc_wire_bytes());
    wait_started(receiver, agent, now + 1 + k, timeout).await?;
    let (cpu_after, wire_after) = (agent.cpu()?, receiver.grpc_wire_bytes());
    let points: u64 = exports(receiver)[now..now + k].iter().map(|e| e.points).sum();
    Ok(IdleExports {
        cpu_per_export: cpu_after.saturating_sub(cpu_before) / k as u32,
        wire_bytes_per_point: wire_after.saturating_sub(wire_before) as f64 / points.max(1) as f64,
    })
}

/// Objects the agent holds, over all its tables (`kube_state_otel.objects` of the last export).
pub(super) fn objects_held(receiver: &OtlpReceiver) -> Option<u64> {
    let last = exports(receiver).last()?.first;
    self_value(receiver, last, "kube_state_otel.objects", &[]).map(|v| v as u64)
}
