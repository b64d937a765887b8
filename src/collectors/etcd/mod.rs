//! The etcd collector (SPEC §6): polls each member of each configured cluster on its own
//! connection, like an operator would, and watches prefixes to count changes.

mod auth;
mod client;
mod cluster;
mod config;
mod failure;
mod member;
mod metrics;
mod points;
mod poller;
mod resolve;
mod seam;
mod version;
mod watch;

pub use config::EtcdConfig;
pub use metrics::EtcdMetric;
pub use poller::run;
pub(crate) use seam::plan;
