//! The nodes collector (SPEC §5): semantic-convention node metrics, per-node pod figures and
//! cluster totals from two watchers (nodes, pods). Pods are reduced on arrival to node name,
//! phase and summed requests/limits. Both are decoded into the collector's own types
//! (`WatchedNode`, `WatchedPod`), which build only the members the collector reads.

mod config;
mod decode;
mod metrics;
mod node;
mod pod;
mod pod_parts;
mod render;
mod resource;
mod seam;
mod state;
#[cfg(test)]
mod state_tests;
mod watch;
mod watched_node;
mod watched_pod;
#[cfg(test)]
mod watched_tests;

pub use config::NodesConfig;
pub use metrics::NodeMetric;
pub(crate) use seam::plan;
pub use state::NodesState;
pub use watch::run;
pub use watched_node::WatchedNode;
pub use watched_pod::WatchedPod;
