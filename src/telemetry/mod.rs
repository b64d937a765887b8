//! The OpenTelemetry side: meter provider, OTLP transport, resource, logs and spans.

mod self_metrics;

pub use self_metrics::SelfMetrics;
