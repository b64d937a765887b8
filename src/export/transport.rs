//! Sending one OTLP metrics request over gRPC or HTTP/protobuf, with headers, gzip or zstd, a
//! deadline and TLS (CA, client certificate, or plaintext when `insecure`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tonic::metadata::{MetadataKey, MetadataMap, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::compress::{content_encoding, Compressor};
use super::frame::EncodedRequest;
use super::unary::{self, CallError};
use crate::config::{Compression, OtlpConfig, OtlpProtocol};

/// Why a transport could not be built or a request was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid OTLP endpoint {endpoint:?}: {reason}")]
    Endpoint { endpoint: String, reason: String },
    #[error("cannot read {file}: {source}")]
    File { file: String, source: std::io::Error },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("export failed: {0}")]
    Send(String),
    #[error("export timed out after {0:?}")]
    Timeout(Duration),
}

/// A connection to the Collector's OTLP metrics service.
#[derive(Clone)]
pub enum Transport {
    Grpc {
        channel: Channel,
        /// Requests are compressed straight into their gRPC frame, or sent as they are framed
        /// when uncompressed (`unary`).
        compressor: Arc<Compressor>,
        /// The configured headers, checked as gRPC ASCII metadata.
        headers: http::HeaderMap,
    },
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
        compressor: Arc<Compressor>,
    },
}

impl Transport {
    /// Builds the transport. For gRPC this must run inside the tokio runtime (the channel's
    /// worker is spawned on it); the connection itself is made lazily.
    pub fn new(config: &OtlpConfig, timeout: Duration) -> Result<Self, TransportError> {
        match config.protocol {
            OtlpProtocol::Grpc => grpc(config, timeout),
            OtlpProtocol::HttpProtobuf => http(config, timeout),
        }
    }

    /// Sends one encoded `ExportMetricsServiceRequest`; `Ok` only when the Collector accepted it.
    pub async fn send(&self, request: &EncodedRequest, timeout: Duration) -> Result<(), TransportError> {
        let sending = async {
            match self {
                Transport::Grpc { channel, compressor, headers } => {
                    let response = unary::export(channel, compressor, headers, request).await;
                    let response = response.map_err(|e| match e {
                        CallError::Channel(e) => TransportError::Send(error_chain(&e)),
                        CallError::Status(s) => {
                            TransportError::Send(format!("gRPC status {:?}: {}", s.code(), s.message()))
                        }
                    })?;
                    if let Some(p) = response.partial_success.filter(|p| p.rejected_data_points > 0) {
                        tracing::warn!(rejected = p.rejected_data_points, message = %p.error_message, "Collector rejected some points");
                    }
                    Ok(())
                }
                Transport::Http { client, url, headers, compressor } => {
                    let body = match compressor.compression() {
                        Compression::None => request.bytes.clone(),
                        _ => compressor
                            .compress(&request.bytes)
                            .map_err(|e| TransportError::Send(e.to_string()))?
                            .into(),
                    };
                    let mut req = client
                        .post(url)
                        .headers(headers.clone())
                        .header("content-type", "application/x-protobuf");
                    if let Some(encoding) = content_encoding(compressor.compression()) {
                        req = req.header("content-encoding", encoding);
                    }
                    let response =
                        req.body(body).send().await.map_err(|e| TransportError::Send(error_chain(&e)))?;
                    let status = response.status();
                    if status.is_success() {
                        Ok(())
                    } else {
                        let text = response.text().await.unwrap_or_default();
                        Err(TransportError::Send(format!(
                            "HTTP {status}: {}",
                            text.chars().take(200).collect::<String>()
                        )))
                    }
                }
            }
        };
        tokio::time::timeout(timeout, sending).await.map_err(|_| TransportError::Timeout(timeout))?
    }
}

fn read(file: &str) -> Result<Vec<u8>, TransportError> {
    std::fs::read(file).map_err(|source| TransportError::File { file: file.to_owned(), source })
}

fn grpc(config: &OtlpConfig, timeout: Duration) -> Result<Transport, TransportError> {
    let bad = |reason: String| TransportError::Endpoint { endpoint: config.endpoint.clone(), reason };
    let mut url = config.endpoint.clone();
    if config.tls.insecure {
        if let Some(rest) = url.strip_prefix("https://") {
            url = format!("http://{rest}");
        }
    }
    let mut endpoint = Endpoint::from_shared(url.clone()).map_err(|e| bad(e.to_string()))?.timeout(timeout);
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_enabled_roots();
        if !config.tls.ca_file.is_empty() {
            tls = tls.ca_certificate(Certificate::from_pem(read(&config.tls.ca_file)?));
        }
        if !config.tls.cert_file.is_empty() {
            tls = tls.identity(Identity::from_pem(read(&config.tls.cert_file)?, read(&config.tls.key_file)?));
        }
        endpoint = endpoint.tls_config(tls).map_err(|e| TransportError::Tls(e.to_string()))?;
    }
    let channel = endpoint.connect_lazy();
    let headers = grpc_headers(&config.headers).map_err(bad)?;
    Ok(Transport::Grpc { channel, compressor: compressor(config), headers })
}

/// The configured headers as gRPC ASCII metadata, less those gRPC itself sets (which tonic's
/// client would leave out of a request's metadata anyway).
fn grpc_headers(headers: &BTreeMap<String, String>) -> Result<http::HeaderMap, String> {
    const RESERVED: [&str; 6] =
        ["te", "user-agent", "content-type", "grpc-message", "grpc-message-type", "grpc-status"];
    let mut metadata = MetadataMap::new();
    for (k, v) in headers {
        let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|e| format!("header {k}: {e}"))?;
        let value = MetadataValue::try_from(v.as_str()).map_err(|e| format!("header {k}: {e}"))?;
        if !RESERVED.contains(&key.as_str()) {
            metadata.insert(key, value);
        }
    }
    Ok(metadata.into_headers())
}

fn http(config: &OtlpConfig, timeout: Duration) -> Result<Transport, TransportError> {
    let bad = |reason: String| TransportError::Endpoint { endpoint: config.endpoint.clone(), reason };
    crate::telemetry::install_crypto_provider();
    let mut builder = reqwest::Client::builder().timeout(timeout);
    if config.tls.insecure {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    if !config.tls.ca_file.is_empty() {
        let ca = reqwest::Certificate::from_pem(&read(&config.tls.ca_file)?)
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        builder = builder.add_root_certificate(ca);
    }
    if !config.tls.cert_file.is_empty() {
        let mut pem = read(&config.tls.cert_file)?;
        pem.extend(read(&config.tls.key_file)?);
        builder = builder
            .identity(reqwest::Identity::from_pem(&pem).map_err(|e| TransportError::Tls(e.to_string()))?);
    }
    let client = builder.build().map_err(|e| TransportError::Tls(error_chain(&e)))?;
    let mut headers = reqwest::header::HeaderMap::new();
    for (k, v) in &config.headers {
        let name = reqwest::header::HeaderName::from_bytes(k.as_bytes())
            .map_err(|e| bad(format!("header {k}: {e}")))?;
        let value = reqwest::header::HeaderValue::from_str(v).map_err(|e| bad(format!("header {k}: {e}")))?;
        headers.insert(name, value);
    }
    let url = format!("{}/v1/metrics", config.endpoint.trim_end_matches('/'));
    Ok(Transport::Http { client, url, headers, compressor: compressor(config) })
}

/// The configured compression, its context kept for the transport's lifetime.
fn compressor(config: &OtlpConfig) -> Arc<Compressor> {
    Arc::new(Compressor::new(config.compression, config.effective_compression_level()))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_headers_are_lowercase_ascii_metadata_less_what_grpc_sets() {
        let configured = [("X-Tenant", "team-a"), ("Content-Type", "text/plain"), ("user-agent", "me")];
        let headers =
            grpc_headers(&configured.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()).unwrap();
        let got: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (k.as_str(), v.as_bytes())).collect();
        assert_eq!(got, [("x-tenant", &b"team-a"[..])]);
        for bad in [("x-key-bin", "a"), ("x-tenant", "a\nb")] {
            let err = grpc_headers(&[(bad.0.to_string(), bad.1.to_string())].into()).unwrap_err();
            assert!(err.starts_with(&format!("header {}", bad.0)), "{err}");
        }
    }
}
