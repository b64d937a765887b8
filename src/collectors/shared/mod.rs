//! Tools every collector uses: Kubernetes quantities and name rules, the wait before a failed
//! watch is tried again, and OpenTelemetry's instrument rules.

pub mod instrument;
pub mod k8s_names;
pub mod quantity;
pub mod shard;
pub mod watch_backoff;
