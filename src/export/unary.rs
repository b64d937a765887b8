//! One call of the OTLP metrics `Export` method with an encoded request.
//!
//! tonic's client encodes each message into a buffer of its own, behind the 5-byte gRPC prefix,
//! which for an encoded request is a copy of every byte (and a fresh multi-MiB buffer to fault
//! in) per request, before compressing that copy. An uncompressed request is written with that
//! prefix already in front of it (`EncodedRequest::grpc_frame`), so it is sent as it is; a
//! compressed one is compressed straight behind a prefix of its own
//! (`EncodedRequest::compressed_grpc_frame`). Either way the request body is that one buffer,
//! through the same channel (origin, user agent, deadline) with the headers tonic's client sets
//! (`grpc-encoding` and `grpc-accept-encoding` when compressed), and the response is read by
//! tonic's decoder, which decompresses it and turns a `grpc-status` in the trailers, or an HTTP
//! status without one, into an error.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, TE};
use http::{HeaderMap, HeaderValue, Method, Uri, Version};
use http_body::{Body, Frame};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use tonic::codec::{CompressionEncoding, Streaming};
use tonic::transport::Channel;
use tonic::{Code, Status};
use tower::Service;

use super::compress::{content_encoding, Compressor};
use super::frame::EncodedRequest;
use crate::config::Compression;

const GRPC_ENCODING: &str = "grpc-encoding";
const GRPC_ACCEPT_ENCODING: &str = "grpc-accept-encoding";

/// Why a call failed: the channel could not carry it, or the server answered with an error.
#[derive(Debug)]
pub(super) enum CallError {
    Channel(tonic::transport::Error),
    Status(Status),
}

/// The OTLP metrics service's Export method.
const EXPORT_PATH: &str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

/// Sends `request` with `headers`, compressed by `compressor`, and returns the
/// response.
pub(super) async fn export(
    channel: &Channel,
    compressor: &Compressor,
    headers: &HeaderMap,
    request: &EncodedRequest,
) -> Result<ExportMetricsServiceResponse, CallError> {
    let frame = match compressor.compression() {
        Compression::None => request.grpc_frame().cloned().ok_or_else(|| {
            CallError::Status(Status::resource_exhausted("the request is too long for one gRPC message"))
        })?,
        _ => request
            .compressed_grpc_frame(compressor)
            .map_err(|e| CallError::Status(Status::internal(format!("compressing the request: {e}"))))?,
    };
    framed(channel, headers, content_encoding(compressor.compression()), frame).await
}

/// Sends `frame` (one gRPC message, prefix included, compressed with `encoding` if any) as the
/// request body.
async fn framed(
    channel: &Channel,
    headers: &HeaderMap,
    encoding: Option<&'static str>,
    frame: Bytes,
) -> Result<ExportMetricsServiceResponse, CallError> {
    let mut request = http::Request::new(tonic::body::Body::new(OneBuffer(Some(frame))));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = Uri::from_static(EXPORT_PATH);
    *request.version_mut() = Version::HTTP_2;
    request.headers_mut().extend(headers.clone());
    request.headers_mut().insert(TE, HeaderValue::from_static("trailers"));
    request.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    if let Some(encoding) = encoding {
        let value = HeaderValue::from_static(encoding);
        request.headers_mut().insert(GRPC_ENCODING, value.clone());
        request.headers_mut().insert(GRPC_ACCEPT_ENCODING, value);
    }
    let mut channel = channel.clone();
    std::future::poll_fn(|cx| channel.poll_ready(cx)).await.map_err(CallError::Channel)?;
    let response = channel.call(request).await.map_err(CallError::Channel)?;
    read_response(response).await.map_err(CallError::Status)
}

/// The one message of a unary response, or the status it failed with, as tonic's client
/// reads it: a `grpc-status` in the headers is a response without a message.
async fn read_response<B>(response: http::Response<B>) -> Result<ExportMetricsServiceResponse, Status>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let missing = || Status::internal("Missing response message.");
    if let Some(status) = Status::from_header_map(response.headers()) {
        return Err(if status.code() == Code::Ok { missing() } else { status });
    }
    let encoding = response_encoding(response.headers())?;
    let status = response.status();
    let mut body = Streaming::new_response(decoder(), response.into_body(), status, encoding, None);
    let message = body.message().await?.ok_or_else(missing)?;
    body.trailers().await?;
    Ok(message)
}

fn decoder() -> tonic_prost::ProstDecoder<ExportMetricsServiceResponse> {
    tonic_prost::ProstDecoder::default()
}

/// The compression of a response's message, from its `grpc-encoding` (a Collector answers in the
/// encoding of the request).
fn response_encoding(headers: &HeaderMap) -> Result<Option<CompressionEncoding>, Status> {
    match headers.get(GRPC_ENCODING).map(HeaderValue::as_bytes) {
        None | Some(b"identity") => Ok(None),
        Some(b"gzip") => Ok(Some(CompressionEncoding::Gzip)),
        Some(b"zstd") => Ok(Some(CompressionEncoding::Zstd)),
        Some(other) => Err(Status::unimplemented(format!(
            "the response is compressed with {:?}, which is not supported",
            String::from_utf8_lossy(other)
        ))),
    }
}

/// A body of one buffer, sent as it is.
struct OneBuffer(Option<Bytes>);

impl Body for OneBuffer {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.take().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_none()
    }
}

#[cfg(test)]
mod tests {
    use futures::stream;
    use http_body_util::StreamBody;
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsPartialSuccess;
    use prost::Message;

    use super::*;

    type Frames = StreamBody<stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>>;

    /// A response with these headers and `frames` as its body.
    fn response(
        status: u16,
        headers: &[(&'static str, &'static str)],
        frames: Vec<Frame<Bytes>>,
    ) -> http::Response<Frames> {
        let mut response = http::Response::new(StreamBody::new(stream::iter(
            frames.into_iter().map(Ok).collect::<Vec<_>>(),
        )));
        *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
        for (k, v) in headers {
            response.headers_mut().insert(*k, HeaderValue::from_static(v));
        }
        response
    }

    fn trailers(status: &'static str, message: &'static str) -> Frame<Bytes> {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static(status));
        trailers.insert("grpc-message", HeaderValue::from_static(message));
        Frame::trailers(trailers)
    }

    fn message(response: &ExportMetricsServiceResponse) -> Frame<Bytes> {
        let bytes = response.encode_to_vec();
        let mut framed = vec![0];
        framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        framed.extend_from_slice(&bytes);
        Frame::data(framed.into())
    }

    const GRPC: (&str, &str) = ("content-type", "application/grpc");

    #[tokio::test]
    async fn a_message_then_an_ok_status_is_the_answer() {
        let answer = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: 3,
                error_message: "odd".into(),
            }),
        };
        let got = read_response(response(200, &[GRPC], vec![message(&answer), trailers("0", "")])).await;
        assert_eq!(got.unwrap(), answer);
    }

    #[tokio::test]
    async fn an_error_status_in_the_trailers_or_the_headers_fails_the_call() {
        let answer = ExportMetricsServiceResponse::default();
        let late =
            read_response(response(200, &[GRPC], vec![message(&answer), trailers("14", "refused")])).await;
        let status = late.unwrap_err();
        assert_eq!((status.code(), status.message()), (Code::Unavailable, "refused"));
        let only =
            read_response(response(200, &[GRPC, ("grpc-status", "8"), ("grpc-message", "full")], vec![]))
                .await;
        let status = only.unwrap_err();
        assert_eq!((status.code(), status.message()), (Code::ResourceExhausted, "full"));
    }

    /// A Collector answers in the encoding of the request.
    #[tokio::test]
    async fn a_compressed_answer_is_decompressed() {
        let answer = ExportMetricsServiceResponse {
            partial_success: Some(ExportMetricsPartialSuccess {
                rejected_data_points: 1,
                error_message: "x".into(),
            }),
        };
        let packed = zstd::encode_all(&answer.encode_to_vec()[..], 3).unwrap();
        let mut framed = vec![1];
        framed.extend_from_slice(&(packed.len() as u32).to_be_bytes());
        framed.extend_from_slice(&packed);
        let frames = vec![Frame::data(framed.into()), trailers("0", "")];
        let got = read_response(response(200, &[GRPC, ("grpc-encoding", "zstd")], frames)).await;
        assert_eq!(got.unwrap(), answer);
        let odd = read_response(response(200, &[GRPC, ("grpc-encoding", "br")], vec![])).await;
        assert_eq!(odd.unwrap_err().code(), Code::Unimplemented);
    }

    #[tokio::test]
    async fn an_answer_without_a_message_fails_the_call() {
        let ok_without = read_response(response(200, &[GRPC, ("grpc-status", "0")], vec![])).await;
        assert_eq!(ok_without.unwrap_err().code(), Code::Internal);
        let ended = read_response(response(200, &[GRPC], vec![trailers("0", "")])).await;
        assert_eq!(ended.unwrap_err().code(), Code::Internal);
    }

    #[tokio::test]
    async fn an_http_error_without_a_grpc_status_fails_the_call() {
        let status = read_response(response(404, &[], vec![])).await.unwrap_err();
        assert_eq!(status.code(), Code::Unimplemented, "{status:?}");
    }

    #[tokio::test]
    async fn the_body_is_the_one_buffer_as_it_is() {
        let frame = Bytes::from_static(b"\0\0\0\0\x02ab");
        let mut body = OneBuffer(Some(frame.clone()));
        assert!(!body.is_end_stream());
        let first = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let data = first.unwrap().unwrap().into_data().unwrap();
        assert_eq!((data.as_ptr(), data.len()), (frame.as_ptr(), frame.len()), "not a copy");
        assert!(body.is_end_stream());
        assert!(std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await.is_none());
    }
}
