//! A pod reduced on arrival to what the node figures need; the Pod itself is never kept.

use super::pod_parts::{Container, PodSpec, PodStatus, Resources};
use crate::collectors::shared::quantity::{to_milli, to_units};

/// Pod phase; the index orders the per-phase arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub const ALL: [Phase; 5] =
        [Phase::Pending, Phase::Running, Phase::Succeeded, Phase::Failed, Phase::Unknown];

    /// A missing phase is `Pending` (the API server's default); an unrecognised one `Unknown`.
    pub fn parse(phase: Option<&str>) -> Phase {
        match phase.unwrap_or("Pending") {
            "Pending" => Phase::Pending,
            "Running" => Phase::Running,
            "Succeeded" => Phase::Succeeded,
            "Failed" => Phase::Failed,
            _ => Phase::Unknown,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Terminated pods hold no resources on their node.
    pub fn is_terminated(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// CPU in millicores and memory in bytes, as integers so sums kept incrementally stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amounts {
    pub cpu_milli: i64,
    pub memory: i64,
}

impl Amounts {
    fn of(list: Option<&Resources>) -> Amounts {
        let cpu = list.and_then(|l| l.cpu.as_ref()).map(|q| q.0.as_str());
        let memory = list.and_then(|l| l.memory.as_ref()).map(|q| q.0.as_str());
        Amounts {
            cpu_milli: cpu.and_then(to_milli).unwrap_or(0),
            memory: memory.and_then(to_units).unwrap_or(0),
        }
    }

    /// Saturating: a pod asking for more than an `i64` holds in all gets the most it holds,
    /// never an overflow.
    fn add(self, other: Amounts) -> Amounts {
        Amounts {
            cpu_milli: self.cpu_milli.saturating_add(other.cpu_milli),
            memory: self.memory.saturating_add(other.memory),
        }
    }

    fn max(self, other: Amounts) -> Amounts {
        Amounts { cpu_milli: self.cpu_milli.max(other.cpu_milli), memory: self.memory.max(other.memory) }
    }
}

/// What the collector keeps per pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodFacts {
    /// `spec.nodeName`; `None` while the pod is not scheduled.
    pub node: Option<Box<str>>,
    pub phase: Phase,
    pub requests: Amounts,
    pub limits: Amounts,
}

impl PodFacts {
    /// The facts of a pod whose decoded members are `spec` and `status`.
    pub fn of(spec: Option<&PodSpec>, status: Option<&PodStatus>) -> PodFacts {
        let node = spec.and_then(|s| s.node_name.as_deref()).filter(|n| !n.is_empty()).map(Box::from);
        let phase = Phase::parse(status.and_then(|s| s.phase.as_deref()));
        let (requests, limits) = match spec {
            Some(spec) => {
                let containers = spec.containers.as_deref().unwrap_or_default();
                let init = spec.init_containers.as_deref().unwrap_or_default();
                let overhead = spec.overhead.as_ref();
                (
                    effective(containers, init, requests_of).add(Amounts::of(overhead)),
                    with_limit_overhead(effective(containers, init, limits_of), overhead),
                )
            }
            None => Default::default(),
        };
        PodFacts { node, phase, requests, limits }
    }
}

fn requests_of(c: &Container) -> Option<&Resources> {
    c.resources.as_ref().and_then(|r| r.requests.as_ref())
}

fn limits_of(c: &Container) -> Option<&Resources> {
    c.resources.as_ref().and_then(|r| r.limits.as_ref())
}

/// Kubernetes' effective pod amount: the larger of (app containers + sidecars) and, for each
/// regular init container, (that container + the sidecars started before it).
fn effective<'a>(
    containers: &'a [Container],
    init: &'a [Container],
    amounts: impl Fn(&'a Container) -> Option<&'a Resources>,
) -> Amounts {
    let mut sidecars = Amounts::default();
    let mut init_peak = Amounts::default();
    for c in init {
        let own = Amounts::of(amounts(c));
        if c.restart_policy.as_deref() == Some("Always") {
            sidecars = sidecars.add(own);
        } else {
            init_peak = init_peak.max(own.add(sidecars));
        }
    }
    let app = containers.iter().fold(Amounts::default(), |sum, c| sum.add(Amounts::of(amounts(c))));
    app.add(sidecars).max(init_peak)
}

/// Limits get the overhead only where a limit is set, as the scheduler counts them.
fn with_limit_overhead(limits: Amounts, overhead: Option<&Resources>) -> Amounts {
    let overhead = Amounts::of(overhead);
    let add = |limit: i64, extra: i64| if limit > 0 { limit + extra } else { 0 };
    Amounts {
        cpu_milli: add(limits.cpu_milli, overhead.cpu_milli),
        memory: add(limits.memory, overhead.memory),
    }
}
