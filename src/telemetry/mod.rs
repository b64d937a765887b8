//! The OpenTelemetry side: meter provider, OTLP transport and buffering exporter, resource,
//! the Prometheus endpoint's reader, self-metrics, logs and spans.

mod cycle;
mod exporter;
mod logging;
mod observed;
mod provider;
pub mod resource;
mod scrape_reader;
mod self_metrics;
mod transport;

pub use cycle::{thread_cpu_time, CycleClock, CycleTime};
pub use exporter::{count_points, BufferedExporter, ExportStats, RequestSink};
pub use logging::{init as init_logging, Logging};
pub use observed::{register as register_observed, StatusBoard};
pub use provider::{meter_provider, meter_provider_with_scrape, shutdown};
pub use scrape_reader::ScrapeReader;
pub use self_metrics::SelfMetrics;
pub use transport::{Transport, TransportError};

/// Selects `ring` as the process's rustls provider (both kube and reqwest use rustls; no second
/// crypto library is built). Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
