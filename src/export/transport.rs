//! Sending one OTLP metrics request over gRPC or HTTP/protobuf, with headers, gzip or zstd, a
//! deadline and TLS (CA, client certificate, or plaintext when `insecure`).

use std::time::Duration;

use bytes::{BufMut, Bytes};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use tonic::codec::{Codec, CompressionEncoding, EncodeBuf, Encoder};
use tonic::metadata::{MetadataKey, MetadataValue};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::compress::{compress, content_encoding};
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
        /// tonic compresses at the algorithm's default level (gzip 6, zstd 3).
        encoding: Option<CompressionEncoding>,
        headers: Vec<(MetadataKey<tonic::metadata::Ascii>, MetadataValue<tonic::metadata::Ascii>)>,
    },
    Http {
        client: reqwest::Client,
        url: String,
        headers: reqwest::header::HeaderMap,
        compression: Compression,
        level: u32,
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
    pub async fn send(&self, request: Bytes, timeout: Duration) -> Result<(), TransportError> {
        let sending = async {
            match self {
                Transport::Grpc { channel, encoding, headers } => {
                    let mut req = tonic::Request::new(request);
                    for (k, v) in headers {
                        req.metadata_mut().insert(k.clone(), v.clone());
                    }
                    let status = |s: tonic::Status| {
                        TransportError::Send(format!("gRPC status {:?}: {}", s.code(), s.message()))
                    };
                    let mut client = tonic::client::Grpc::new(channel.clone());
                    if let Some(encoding) = *encoding {
                        client = client.send_compressed(encoding).accept_compressed(encoding);
                    }
                    client.ready().await.map_err(|e| TransportError::Send(error_chain(&e)))?;
                    let response =
                        client.unary(req, EXPORT_PATH.clone(), EncodedCodec).await.map_err(status)?;
                    match response.into_inner().partial_success {
                        Some(p) if p.rejected_data_points > 0 => {
                            tracing::warn!(rejected = p.rejected_data_points, message = %p.error_message, "Collector rejected some points");
                            Ok(())
                        }
                        _ => Ok(()),
                    }
                }
                Transport::Http { client, url, headers, compression, level } => {
                    let body = match compression {
                        Compression::None => request,
                        _ => compress(*compression, *level, &request)
                            .map_err(|e| TransportError::Send(e.to_string()))?
                            .into(),
                    };
                    let mut req = client
                        .post(url)
                        .headers(headers.clone())
                        .header("content-type", "application/x-protobuf");
                    if let Some(encoding) = content_encoding(*compression) {
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

/// The OTLP metrics service's Export method.
static EXPORT_PATH: http::uri::PathAndQuery =
    http::uri::PathAndQuery::from_static("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export");

/// Sends requests already encoded (so a retry resends the same bytes, and nothing is copied)
/// and decodes the response with prost.
struct EncodedCodec;

struct BytesEncoder;

impl Encoder for BytesEncoder {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Codec for EncodedCodec {
    type Encode = Bytes;
    type Decode = ExportMetricsServiceResponse;
    type Encoder = BytesEncoder;
    type Decoder = tonic_prost::ProstDecoder<ExportMetricsServiceResponse>;

    fn encoder(&mut self) -> BytesEncoder {
        BytesEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        tonic_prost::ProstDecoder::default()
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
    let encoding = match config.compression {
        Compression::None => None,
        Compression::Gzip => Some(CompressionEncoding::Gzip),
        Compression::Zstd => Some(CompressionEncoding::Zstd),
    };
    let mut headers = Vec::new();
    for (k, v) in &config.headers {
        let key = MetadataKey::from_bytes(k.to_ascii_lowercase().as_bytes())
            .map_err(|e| bad(format!("header {k}: {e}")))?;
        let value = MetadataValue::try_from(v.as_str()).map_err(|e| bad(format!("header {k}: {e}")))?;
        headers.push((key, value));
    }
    Ok(Transport::Grpc { channel, encoding, headers })
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
    Ok(Transport::Http {
        client,
        url,
        headers,
        compression: config.compression,
        level: config.effective_compression_level(),
    })
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
