//! Logs (json or text, level from config or `RUST_LOG`) and, when `export.otlp.traces` is on,
//! the agent's own spans exported over OTLP through `tracing-opentelemetry`.

use std::collections::BTreeMap;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::{Config, LogFormat, OtlpProtocol};

/// Keeps the span pipeline alive; shut it down at exit to flush spans.
pub struct Logging {
    tracer_provider: Option<SdkTracerProvider>,
}

impl Logging {
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber. Call once, inside the tokio runtime (the gRPC span
/// exporter needs it). `resource` is the same as the metrics'.
pub fn init(config: &Config, resource: &BTreeMap<String, String>) -> Logging {
    let filter =
        std::env::var("RUST_LOG").ok().and_then(|f| EnvFilter::try_new(f).ok()).unwrap_or_else(|| {
            EnvFilter::try_new(&config.logging.level).unwrap_or_else(|_| EnvFilter::new("info"))
        });
    let fmt = match config.logging.format {
        LogFormat::Json => tracing_subscriber::fmt::layer().json().with_current_span(false).boxed(),
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
    };
    let tracer_provider = (config.export.otlp.enabled && config.export.otlp.traces)
        .then(|| tracer_provider(config, resource))
        .flatten();
    let otel = tracer_provider.as_ref().map(|p| {
        tracing_opentelemetry::layer()
            .with_tracer(p.tracer("kube-state-otel"))
            .with_filter(EnvFilter::new("kube_state_otel=info"))
    });
    let _ = tracing_subscriber::registry().with(filter).with(fmt).with(otel).try_init();
    Logging { tracer_provider }
}

fn tracer_provider(config: &Config, resource: &BTreeMap<String, String>) -> Option<SdkTracerProvider> {
    let otlp = &config.export.otlp;
    let timeout = config.export.timeout.get();
    let exporter = match otlp.protocol {
        OtlpProtocol::Grpc => {
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (k, v) in &otlp.headers {
                if let (Ok(k), Ok(v)) = (
                    tonic::metadata::MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes()),
                    tonic::metadata::MetadataValue::try_from(v.as_str()),
                ) {
                    metadata.insert(k, v);
                }
            }
            opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(otlp.endpoint.clone())
                .with_timeout(timeout)
                .with_metadata(metadata)
                .build()
        }
        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(format!("{}/v1/traces", otlp.endpoint.trim_end_matches('/')))
            .with_timeout(timeout)
            .with_headers(otlp.headers.clone().into_iter().collect())
            .build(),
    };
    match exporter {
        Ok(exporter) => Some(
            SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(crate::export::resource::resource(resource))
                .build(),
        ),
        Err(e) => {
            eprintln!("span export disabled: {e}");
            None
        }
    }
}
