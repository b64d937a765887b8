//! One object nested deeper than a JSON parser's recursion limit must not stop its resource.
//!
//! kube parses list and watch responses with serde_json, whose recursion limit (128 levels)
//! makes a whole list fail on one object nested deeper than that; the watcher then retries the
//! list forever and no object of the resource is ever seen. This layer, below kube, rewrites
//! such responses before kube parses them: a value nested deeper than [`MAX_DEPTH`] becomes
//! `null`, so the object is still seen (with that subtree missing) and the others are untouched.
//! Watch streams are handled line by line (one event per line); any other response whole. A
//! byte scan finds the depth, so responses with nothing that deep pass unchanged.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tower::{Layer, Service};

/// Deepest nesting kept, counted from the response's top level: below serde_json's 128 with
/// room for the envelope (`{"items": [...]}`, `{"type": ..., "object": ...}`).
pub const MAX_DEPTH: usize = 100;

/// Where a JSON text's bytes sit: inside a string or not, and how deeply nested.
#[derive(Debug, Default)]
struct Nesting {
    depth: usize,
    in_string: bool,
    escaped: bool,
}

/// What one byte does to the nesting.
enum Step {
    /// `{` or `[` outside a string: one level deeper.
    Open,
    /// `}` or `]` outside a string: one level out.
    Close,
    Other,
}

impl Nesting {
    /// Moves past `b`; `depth` is then the nesting after it.
    fn step(&mut self, b: u8) -> Step {
        if self.in_string {
            match (self.escaped, b) {
                (true, _) => self.escaped = false,
                (false, b'\\') => self.escaped = true,
                (false, b'"') => self.in_string = false,
                _ => {}
            }
            return Step::Other;
        }
        match b {
            b'"' => {
                self.in_string = true;
                Step::Other
            }
            b'{' | b'[' => {
                self.depth += 1;
                Step::Open
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                Step::Close
            }
            _ => Step::Other,
        }
    }
}

/// Nesting depth of the JSON in `text` (strings and their escapes skipped), or `max + 1` as
/// soon as it is deeper than `max`. Every response passes here, so strings (most of the bytes)
/// are skipped with `memchr` rather than byte by byte.
fn max_depth(text: &[u8], max: usize) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < text.len() {
        match text[i] {
            b'"' => {
                i += 1;
                loop {
                    match text.get(i..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
                        None => return deepest,
                        Some(j) if text[i + j] == b'\\' => i += j + 2,
                        Some(j) => {
                            i += j;
                            break;
                        }
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return depth;
                }
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

/// `text` with every object or list nested deeper than `max` replaced by `null`; `None` when
/// nothing is that deep.
pub fn prune_depth(text: &[u8], max: usize) -> Option<Vec<u8>> {
    if max_depth(text, max) <= max {
        return None;
    }
    let mut out = Vec::with_capacity(text.len());
    let mut nesting = Nesting::default();
    // The depth a pruned value started at; its bytes are dropped until it closes.
    let mut pruned_at: Option<usize> = None;
    for &b in text {
        let step = nesting.step(b);
        match (pruned_at, step) {
            (None, Step::Open) if nesting.depth > max => {
                pruned_at = Some(nesting.depth - 1);
                out.extend_from_slice(b"null");
            }
            (None, _) => out.push(b),
            (Some(at), Step::Close) if nesting.depth == at => pruned_at = None,
            (Some(_), _) => {}
        }
    }
    Some(out)
}

/// Adds depth pruning to kube's service stack.
#[derive(Debug, Clone, Copy, Default)]
pub struct DepthLimitLayer;

impl<S> Layer<S> for DepthLimitLayer {
    type Service = DepthLimited<S>;
    fn layer(&self, inner: S) -> DepthLimited<S> {
        DepthLimited { inner }
    }
}

/// A service whose responses are pruned (see the module).
#[derive(Debug, Clone)]
pub struct DepthLimited<S> {
    inner: S,
}

impl<S, ReqBody, B> Service<Request<ReqBody>> for DepthLimited<S>
where
    S: Service<Request<ReqBody>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: HttpBody<Data = Bytes> + Send + 'static,
{
    type Response = Response<DepthLimitedBody<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let lines = is_watch(request.uri().query().unwrap_or(""));
        let response = self.inner.call(request);
        Box::pin(async move { Ok(response.await?.map(|body| DepthLimitedBody::new(body, lines))) })
    }
}

/// Whether a request's query asks for a watch stream (one JSON event per line).
fn is_watch(query: &str) -> bool {
    query.split('&').any(|pair| matches!(pair, "watch=true" | "watch=1"))
}

/// A response body passed on pruned: a line at a time for watch streams, whole otherwise.
pub struct DepthLimitedBody<B> {
    inner: Pin<Box<B>>,
    lines: bool,
    pending: Vec<u8>,
    ended: bool,
}

impl<B> DepthLimitedBody<B> {
    fn new(inner: B, lines: bool) -> Self {
        DepthLimitedBody { inner: Box::pin(inner), lines, pending: Vec::new(), ended: false }
    }

    /// What can be passed on now: complete lines of a stream, or the whole body once it ended.
    fn take_ready(&mut self) -> Option<Bytes> {
        let end = match (self.ended, self.lines) {
            (true, _) => self.pending.len(),
            (false, true) => self.pending.iter().rposition(|b| *b == b'\n')? + 1,
            (false, false) => return None,
        };
        if end == 0 {
            return None;
        }
        let ready: Vec<u8> = self.pending.drain(..end).collect();
        let pruned = if self.lines {
            let mut out = Vec::with_capacity(ready.len());
            for line in ready.split_inclusive(|b| *b == b'\n') {
                match prune_depth(line, MAX_DEPTH) {
                    Some(pruned) => out.extend_from_slice(&pruned),
                    None => out.extend_from_slice(line),
                }
            }
            out
        } else {
            prune_depth(&ready, MAX_DEPTH).unwrap_or(ready)
        };
        Some(Bytes::from(pruned))
    }
}

impl<B> HttpBody for DepthLimitedBody<B>
where
    B: HttpBody<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = self.get_mut();
        loop {
            if let Some(data) = this.take_ready() {
                return Poll::Ready(Some(Ok(Frame::data(data))));
            }
            if this.ended {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => this.pending.extend_from_slice(&data),
                    Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                },
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => this.ended = true,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended && self.pending.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> String {
        format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
    }

    #[test]
    fn shallow_text_passes_unchanged() {
        assert_eq!(prune_depth(br#"{"a": [1, {"b": "[[[{"}]}"#, 3), None, "brackets in strings do not count");
        assert_eq!(max_depth(br#"{"a": "\"[", "b": [[]]}"#, 10), 3);
        assert_eq!(max_depth(br#"{"a": "\\", "b": [[[[]]]]}"#, 3), 4, "stops once deeper than the limit");
        assert_eq!(
            max_depth(br#"{"a": "x\\\"[[[[[", "b": []}"#, 10),
            2,
            "escaped backslash then an escaped quote"
        );
        assert_eq!(max_depth(br#"[{"a": "x\"#, 10), 2, "a text cut after a backslash");
    }

    #[test]
    fn values_deeper_than_the_limit_become_null() {
        let text = format!(r#"{{"keep": 1, "deep": {}, "s": "]]", "after": [2]}}"#, nested(5));
        let pruned = String::from_utf8(prune_depth(text.as_bytes(), 3).unwrap()).unwrap();
        assert_eq!(pruned, r#"{"keep": 1, "deep": [[null]], "s": "]]", "after": [2]}"#);
        let parsed: serde_json::Value = serde_json::from_str(&pruned).unwrap();
        assert_eq!(parsed["after"][0], 2);
        let deep = format!(r#"{{"items": [{{"a": {}}}, {{"b": 1}}]}}"#, nested(300));
        let parsed: serde_json::Value =
            serde_json::from_slice(&prune_depth(deep.as_bytes(), MAX_DEPTH).unwrap()).unwrap();
        assert_eq!(parsed["items"][1]["b"], 1, "the other objects are intact");
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err(), "serde_json alone fails");
    }

    #[test]
    fn watch_requests_are_told_from_lists() {
        assert!(is_watch("watch=true&resourceVersion=5"));
        assert!(is_watch("allowWatchBookmarks=true&watch=1"));
        assert!(!is_watch("limit=500"));
        assert!(!is_watch("watchx=true"));
    }
}
#[cfg(test)]
mod stream_tests {
    use std::time::Duration;

    use futures::StreamExt;
    use http_body_util::{BodyExt, StreamBody};
    use tokio_stream::wrappers::ReceiverStream;

    use super::*;

    /// A watch stream's complete lines pass at once; a partial line waits for its end.
    #[tokio::test]
    async fn lines_pass_as_they_arrive() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(4);
        let mut body =
            DepthLimitedBody::new(StreamBody::new(ReceiverStream::new(rx)), true).into_data_stream();
        tx.send(Ok(Frame::data(Bytes::from_static(b"{\"a\":1}\n{\"b\"")))).await.unwrap();
        let first = tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap();
        assert_eq!(first.unwrap().unwrap(), Bytes::from_static(b"{\"a\":1}\n"));
        tx.send(Ok(Frame::data(Bytes::from_static(b":2}\n")))).await.unwrap();
        let second = tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap();
        assert_eq!(second.unwrap().unwrap(), Bytes::from_static(b"{\"b\":2}\n"));
        drop(tx);
        assert!(body.next().await.is_none());
    }
}
