//! An agent export pipeline that pushes to a test receiver: a series registry for the code under
//! test to write to, the agent's own metrics, and the OTLP push.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use kube_state_otel::config::OtlpConfig;
use kube_state_otel::export::{Envelope, Exporter, OwnMetrics, Pusher, Transport};
use kube_state_otel::series::MetricsRegistry;

/// Exports to `otlp` under a resource with `attributes`, keeping `max_batches` exports while
/// the receiver refuses.
pub fn exporter(otlp: &OtlpConfig, attributes: &[(&str, &str)], max_batches: usize) -> Exporter {
    let timeout = Duration::from_secs(5);
    let transport = Transport::new(otlp, timeout).unwrap();
    let pusher = Pusher::new(Some(transport), timeout, max_batches);
    let attributes: BTreeMap<String, String> =
        attributes.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let own = OwnMetrics::new(&attributes, 100_000);
    Exporter::new(MetricsRegistry::new(), own, Envelope::new(&attributes), pusher)
}
