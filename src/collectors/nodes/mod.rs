//! The nodes collector (SPEC §5): semantic-convention node metrics, per-node pod figures and
//! cluster totals from two watchers (nodes, pods). Pods are reduced on arrival to node name,
//! phase and summed requests/limits.

mod config;
mod metrics;
mod node;
mod pod;
mod render;
mod seam;
mod state;
#[cfg(test)]
mod state_tests;
mod watch;

pub use config::NodesConfig;
pub use metrics::NodeMetric;
pub(crate) use seam::plan;
pub use state::NodesState;
pub use watch::run;
