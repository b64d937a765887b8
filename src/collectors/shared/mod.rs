//! Tools every collector uses: Kubernetes quantities and name rules, and OpenTelemetry's
//! instrument rules.

pub mod instrument;
pub mod k8s_names;
pub mod quantity;
