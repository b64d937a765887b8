//! The nodes collector (SPEC §5): semantic-convention node metrics, per-node pod figures and
//! cluster totals from two watchers (nodes, pods). Pods are reduced on arrival to node name,
//! phase and summed requests/limits.

mod config;
mod metrics;
mod node;
mod pod;
mod quantity;
mod render;
mod state;
#[cfg(test)]
mod state_tests;
mod watch;

pub use config::NodesConfig;
pub use metrics::NodeMetric;
pub use node::{node_points, NodeExtract, Readiness};
pub use pod::{reduce_pod, Amounts, Phase, PodFacts};
pub use render::render_tables;
pub use state::NodesState;
pub use watch::run;
