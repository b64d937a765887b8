//! The `export` section: OTLP push, Prometheus endpoint, resource attributes.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::Duration;

/// Where and how metrics are exported.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExportConfig {
    /// Time between exports (`OTEL_METRIC_EXPORT_INTERVAL`, in milliseconds, overrides it).
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// Deadline of one export (`OTEL_EXPORTER_OTLP_TIMEOUT`, in milliseconds, overrides it).
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// Most data points one of the agent's own metrics may export (the OpenTelemetry SDK's
    /// default of 2000 would fold the rest into an overflow series; the SDK reserves memory for
    /// this many per instrument). The collectors' series are exported in full, in requests of at
    /// most 16384 points.
    #[serde(default = "default_cardinality_limit")]
    pub cardinality_limit: usize,
    /// The OTLP exporter.
    #[serde(default)]
    pub otlp: OtlpConfig,
    /// The optional Prometheus scrape endpoint.
    #[serde(default)]
    pub prometheus: PrometheusConfig,
    /// Extra resource attributes; `OTEL_RESOURCE_ATTRIBUTES` wins over these.
    #[serde(default)]
    pub resource: BTreeMap<String, String>,
}

fn default_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_timeout() -> Duration {
    Duration::from_secs(10)
}

fn default_cardinality_limit() -> usize {
    10_000
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            interval: default_interval(),
            timeout: default_timeout(),
            cardinality_limit: default_cardinality_limit(),
            otlp: OtlpConfig::default(),
            prometheus: PrometheusConfig::default(),
            resource: BTreeMap::new(),
        }
    }
}

/// OTLP push to a Collector.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OtlpConfig {
    /// Whether metrics are pushed over OTLP.
    #[serde(default = "crate::config_parts::default_true")]
    pub enabled: bool,
    /// Base URL, as `OTEL_EXPORTER_OTLP_ENDPOINT`: for `http/protobuf`, `/v1/metrics` is appended.
    #[serde(default = "default_endpoint")]
    pub endpoint: String,
    /// `grpc` or `http/protobuf`.
    #[serde(default)]
    pub protocol: OtlpProtocol,
    /// Extra request headers (gRPC metadata), e.g. an authorization token.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `none`, `gzip` or `zstd`.
    #[serde(default)]
    pub compression: Compression,
    /// Level of `compression` (gzip 1–9, zstd 1–19), over both protocols; absent: the
    /// algorithm's default (gzip 6, zstd 3).
    #[serde(default)]
    pub compression_level: Option<u32>,
    /// TLS for `https` endpoints.
    #[serde(default)]
    pub tls: OtlpTlsConfig,
    /// Exports kept and retried while the Collector is unreachable.
    #[serde(default)]
    pub buffer: BufferConfig,
    /// Also export the agent's own spans (poll cycles, exports) to the same endpoint.
    #[serde(default)]
    pub traces: bool,
}

fn default_endpoint() -> String {
    "http://otel-collector:4317".into()
}

impl Default for OtlpConfig {
    fn default() -> Self {
        OtlpConfig {
            enabled: true,
            endpoint: default_endpoint(),
            protocol: OtlpProtocol::default(),
            headers: BTreeMap::new(),
            compression: Compression::default(),
            compression_level: None,
            tls: OtlpTlsConfig::default(),
            buffer: BufferConfig::default(),
            traces: false,
        }
    }
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
pub enum OtlpProtocol {
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

/// Payload compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    /// The default: at its default level 3, smaller and about 12× cheaper than gzip 6 on the
    /// same export (docs/performance.md, "Compression").
    #[default]
    Zstd,
}

impl Compression {
    /// The levels the algorithm takes, `None` for no compression.
    pub fn levels(self) -> Option<std::ops::RangeInclusive<u32>> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some(1..=9),
            Compression::Zstd => Some(1..=19),
        }
    }

    /// The level used when none is configured, and the only one the gRPC transport uses.
    pub fn default_level(self) -> u32 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 6,
            Compression::Zstd => 3,
        }
    }
}

impl OtlpConfig {
    /// The compression level in effect: the configured one or the algorithm's default.
    pub fn effective_compression_level(&self) -> u32 {
        self.compression_level.unwrap_or(self.compression.default_level())
    }
}

/// TLS settings of the OTLP connection.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OtlpTlsConfig {
    /// Skip verification of the server certificate (testing only).
    #[serde(default)]
    pub insecure: bool,
    /// PEM file of the CA that signed the Collector's certificate; empty: system roots.
    #[serde(default)]
    pub ca_file: String,
    /// PEM client certificate, for mutual TLS.
    #[serde(default)]
    pub cert_file: String,
    /// PEM private key of `certFile`.
    #[serde(default)]
    pub key_file: String,
}

/// The retry buffer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BufferConfig {
    /// Most failed exports kept; the oldest is dropped (and counted) first.
    #[serde(default = "default_max_batches")]
    pub max_batches: usize,
}

fn default_max_batches() -> usize {
    20
}

impl Default for BufferConfig {
    fn default() -> Self {
        BufferConfig { max_batches: default_max_batches() }
    }
}

/// The Prometheus scrape endpoint.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusConfig {
    /// Whether `GET /metrics` is served.
    #[serde(default)]
    pub enabled: bool,
    /// Listen address of the endpoint; the address of `server.listen` serves `/metrics` on the
    /// health server (then without `tls`: the health server speaks plain HTTP).
    #[serde(default = "default_prometheus_listen")]
    pub listen: String,
    /// Serve `/metrics` over HTTPS with this certificate; the files are read again when they
    /// change, without a restart.
    #[serde(default)]
    pub tls: Option<PrometheusTlsConfig>,
    /// Require `Authorization: Bearer <token>` on `/metrics`; the token is read from
    /// `{file: ...}` (again when the file changes) or `{env: VARIABLE}`.
    #[serde(default)]
    pub bearer_token: Option<crate::config_parts::SecretSource>,
}

/// The serving certificate of the Prometheus endpoint, PEM encoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrometheusTlsConfig {
    /// Certificate chain, leaf first (`tls.crt` of a Kubernetes TLS Secret).
    pub cert_file: String,
    /// Private key of the certificate (`tls.key`).
    pub key_file: String,
}

fn default_prometheus_listen() -> String {
    "0.0.0.0:9464".into()
}

impl PrometheusConfig {
    /// Whether `listen` is the health server's address `server_listen` (then `/metrics` is
    /// served there): compared as socket addresses, so `127.0.0.1:80` and `127.0.0.1:080` are.
    pub fn shares_address_with(&self, server_listen: &str) -> bool {
        same_address(&self.listen, server_listen)
    }
}

/// Whether both name the same socket address (`127.0.0.1:80` and `127.0.0.1:080` do).
fn same_address(a: &str, b: &str) -> bool {
    match (a.parse::<SocketAddr>(), b.parse::<SocketAddr>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Default for PrometheusConfig {
    fn default() -> Self {
        PrometheusConfig {
            enabled: false,
            listen: default_prometheus_listen(),
            tls: None,
            bearer_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_compare_as_socket_addresses() {
        assert!(same_address("0.0.0.0:8080", "0.0.0.0:8080"));
        assert!(same_address("[::]:8080", "[0:0::0]:8080"));
        assert!(!same_address("0.0.0.0:8080", "0.0.0.0:9464"));
        assert!(!same_address("127.0.0.1:8080", "0.0.0.0:8080"));
    }
}
