//! Tools every collector uses: Kubernetes quantities and OpenTelemetry's instrument rules.

pub mod instrument;
pub mod quantity;
