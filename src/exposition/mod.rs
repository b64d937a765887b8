//! Exposition formats for collected metrics: what `render` prints and the `/metrics` endpoint
//! serves. Each takes the OTLP request the exporter built, so every output shows exactly what
//! would be sent to the Collector.

mod float;
mod names;
mod otlp_json;
mod prometheus;

/// Go's float text, also what kube-state-metrics writes numbers in labels as.
pub use float::text as go_float_text;
pub use names::{label_name, metric_name, MetricType};
pub use otlp_json::to_otlp_json;
pub use prometheus::{to_openmetrics, to_prometheus_text, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE};
