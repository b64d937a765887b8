//! kube-state-otel: OpenTelemetry-native state metrics for Kubernetes custom resources, nodes
//! and etcd clusters.

pub mod backoff;
pub mod certificates;
pub mod collectors;
pub mod commands;
pub mod config;
pub mod config_parts;
pub mod export;
pub mod exposition;
pub mod kubernetes;
pub mod malloc;
pub mod objects;
pub mod runtime;
pub mod series;
pub mod telemetry;
