//! The etcd collector (SPEC §6): polls each member of each configured cluster on its own
//! connection, like an operator would, and watches prefixes to count changes.

mod client;
mod cluster;
mod config;
mod member;
mod metrics;
mod poller;
mod watch;

pub use client::EtcdError;
pub use config::{ClusterConfig, EtcdConfig, TlsConfig};
pub use metrics::EtcdMetric;
pub use poller::run;
