//! One object nested deeper than a JSON parser's recursion limit must not stop its resource.
//!
//! kube parses list and watch responses with serde_json, whose recursion limit (128 levels)
//! makes a whole list fail on one object nested deeper than that; the watcher then retries the
//! list forever and no object of the resource is ever seen. This layer, below kube, rewrites
//! such responses before kube parses them: a value nested deeper than [`MAX_DEPTH`] becomes
//! `null`, so the object is still seen (with that subtree missing) and the others are untouched.
//! Each chunk of a body is scanned as it arrives (the nesting carries over to the next), and
//! passes unchanged, without a copy, unless something in it is that deep.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tower::{Layer, Service};

use super::depth_blocks::{skip_block, string_step, Nesting, BLOCK};

/// Deepest nesting kept, counted from the response's top level: below serde_json's 128 with
/// room for the envelope (`{"items": [...]}`, `{"type": ..., "object": ...}`).
pub const MAX_DEPTH: usize = 100;

/// The pruning of one response, fed its bytes as they arrive: where the text is (inside a
/// string or not, how deeply nested) carries from one chunk to the next, so a value split
/// across chunks is pruned like one that is not, and a watch stream (one JSON value per line)
/// needs no splitting into lines.
#[derive(Debug, Default)]
struct Pruner {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// The depth a pruned value started at; its bytes are dropped until it closes.
    pruned_at: Option<usize>,
}

impl Pruner {
    /// `chunk` with every object or list nested deeper than `max` replaced by `null`; `None`
    /// when it passes unchanged (the common case: nothing is copied then).
    fn feed(&mut self, chunk: &[u8], max: usize) -> Option<Vec<u8>> {
        self.feed_with(chunk, max, true)
    }

    /// [`Self::feed`], 64-byte blocks skipped as bit masks ([`depth_blocks`]) where `blocks`
    /// says so and they allow it, else a step at a time ([`Self::step`]: strings, most of the
    /// bytes, skipped with `memchr`).
    fn feed_with(&mut self, chunk: &[u8], max: usize, blocks: bool) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = self.pruned_at.map(|_| Vec::new());
        let mut i = 0;
        // After a block the fast path declined, steps go on to its end before the next try.
        let mut stepping_until = if blocks { 0 } else { usize::MAX };
        while i < chunk.len() {
            if i >= stepping_until && self.pruned_at.is_none() && !self.escaped {
                if let Some(block) = chunk.get(i..i + BLOCK) {
                    let block: &[u8; BLOCK] = block.try_into().expect("a slice of BLOCK bytes");
                    let at = Nesting { depth: self.depth, in_string: self.in_string };
                    match skip_block(block, at, max) {
                        Some(after) => {
                            (self.depth, self.in_string) = (after.depth, after.in_string);
                            if let Some(out) = &mut out {
                                out.extend_from_slice(block);
                            }
                            i += BLOCK;
                            continue;
                        }
                        None => stepping_until = i + BLOCK,
                    }
                }
            }
            let (next, action) = self.step(chunk, i, max);
            match action {
                Action::Keep => {
                    if let Some(out) = &mut out {
                        out.extend_from_slice(&chunk[i..next]);
                    }
                }
                Action::Drop => {}
                Action::Null => {
                    let out = out.get_or_insert_with(|| {
                        let mut started = Vec::with_capacity(chunk.len());
                        started.extend_from_slice(&chunk[..i]);
                        started
                    });
                    out.extend_from_slice(b"null");
                }
            }
            i = next;
        }
        out
    }

    /// Moves past the bytes from `i`: one structural byte or a run of string bytes. Returns
    /// where it stopped and what becomes of those bytes.
    fn step(&mut self, chunk: &[u8], i: usize, max: usize) -> (usize, Action) {
        let kept = if self.pruned_at.is_some() { Action::Drop } else { Action::Keep };
        if self.in_string {
            let (next, closed) = string_step(chunk, i, &mut self.escaped);
            self.in_string = !closed;
            return (next, kept);
        }
        match chunk[i] {
            b'"' => self.in_string = true,
            b'{' | b'[' => {
                self.depth += 1;
                if self.pruned_at.is_none() && self.depth > max {
                    self.pruned_at = Some(self.depth - 1);
                    return (i + 1, Action::Null);
                }
            }
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.pruned_at == Some(self.depth) {
                    self.pruned_at = None;
                    return (i + 1, Action::Drop);
                }
            }
            _ => {}
        }
        (i + 1, kept)
    }
}

/// What becomes of the bytes one step moved past.
enum Action {
    Keep,
    /// Inside a pruned value, or the byte that closes it.
    Drop,
    /// The byte that opens a pruned value: `null` in its place.
    Null,
}

/// `text` with every object or list nested deeper than `max` replaced by `null`; `None` when
/// nothing is that deep.
#[cfg(test)]
fn prune_depth(text: &[u8], max: usize) -> Option<Vec<u8>> {
    Pruner::default().feed(text, max)
}

/// A whole response as the guard passes it, in one piece: pruned past [`MAX_DEPTH`], or `None`
/// when unchanged; a step at a time without `blocks` (benches: the fast path against the exact
/// one).
pub fn guard_text(text: &[u8], blocks: bool) -> Option<Vec<u8>> {
    Pruner::default().feed_with(text, MAX_DEPTH, blocks)
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
        let response = self.inner.call(request);
        Box::pin(async move { Ok(response.await?.map(DepthLimitedBody::new)) })
    }
}

/// A response body passed on pruned, each chunk as it arrives.
pub struct DepthLimitedBody<B> {
    inner: Pin<Box<B>>,
    pruner: Pruner,
    ended: bool,
}

impl<B> DepthLimitedBody<B> {
    fn new(inner: B) -> Self {
        DepthLimitedBody { inner: Box::pin(inner), pruner: Pruner::default(), ended: false }
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
            if this.ended {
                return Poll::Ready(None);
            }
            match ready!(this.inner.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let data = match this.pruner.feed(&data, MAX_DEPTH) {
                            None => data,
                            Some(pruned) => Bytes::from(pruned),
                        };
                        if !data.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(data))));
                        }
                    }
                    Err(trailers) => return Poll::Ready(Some(Ok(trailers))),
                },
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => this.ended = true,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended || self.inner.is_end_stream()
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
        assert_eq!(prune_depth(br#"{"a": "\"[", "b": [[]]}"#, 3), None);
        assert_eq!(
            prune_depth(br#"{"a": "x\\\"[[[[[", "b": []}"#, 2),
            None,
            "escaped backslash, escaped quote"
        );
        assert_eq!(prune_depth(br#"[{"a": "x\"#, 2), None, "a text cut after a backslash");
        assert_eq!(prune_depth(br#"{"a": "\\", "b": [[1]]}"#, 2).unwrap(), br#"{"a": "\\", "b": [null]}"#);
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
}

#[cfg(test)]
mod block_tests {
    use proptest::prelude::*;

    use super::*;

    /// Text made of what the guard looks at, with letters between.
    fn jsonish() -> impl Strategy<Value = Vec<u8>> {
        let of =
            |alphabet: &[u8]| proptest::collection::vec(proptest::sample::select(alphabet.to_vec()), 0..700);
        // With escapes; without (most blocks skipped); nesting deeper and deeper.
        prop_oneof![of(b"{}[]\"\\aaaaab:,"), of(b"{}[]\"aaaaaaaaaab:,"), of(b"{[}\"aaaaaaaa")]
    }

    proptest! {
        /// Fed in any pieces, with blocks skipped or not, the guard gives the same bytes.
        #[test]
        fn blocks_change_nothing(text in jsonish(), max in 1usize..12, cuts in proptest::collection::vec(0usize..700, 0..4)) {
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|c| *c < text.len()).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let pieces: Vec<&[u8]> = std::iter::once(0).chain(cuts.iter().copied())
                .zip(cuts.iter().copied().chain(std::iter::once(text.len())))
                .map(|(from, to)| &text[from..to])
                .collect();
            let run = |blocks: bool| {
                let mut pruner = Pruner::default();
                let out: Vec<u8> = pieces.iter().flat_map(|piece| {
                    pruner.feed_with(piece, max, blocks).unwrap_or_else(|| piece.to_vec())
                }).collect();
                (out, pruner.depth, pruner.in_string, pruner.escaped, pruner.pruned_at)
            };
            prop_assert_eq!(run(true), run(false));
        }
    }
}

#[cfg(test)]
mod stream_tests {
    use std::time::Duration;

    use futures::StreamExt;
    use http_body_util::{BodyExt, StreamBody};
    use tokio_stream::wrappers::ReceiverStream;

    use super::*;

    fn frame(bytes: &'static [u8]) -> Result<Frame<Bytes>, std::convert::Infallible> {
        Ok(Frame::data(Bytes::from_static(bytes)))
    }

    /// Chunks pass as they arrive, unchanged when nothing in them is too deep; a deep value
    /// split across chunks, after a string split after a backslash, is pruned all the same.
    #[tokio::test]
    async fn chunks_pass_as_they_arrive_and_are_pruned_across_boundaries() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::convert::Infallible>>(4);
        let mut body = DepthLimitedBody::new(StreamBody::new(ReceiverStream::new(rx))).into_data_stream();
        let mut next = async || tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap();
        tx.send(frame(b"{\"a\":1}\n{\"b\"")).await.unwrap();
        assert_eq!(next().await.unwrap().unwrap(), Bytes::from_static(b"{\"a\":1}\n{\"b\""));
        tx.send(frame(b":\"x\\")).await.unwrap();
        assert_eq!(next().await.unwrap().unwrap(), Bytes::from_static(b":\"x\\"), "unchanged");
        let deep = format!("\"[[\",\"c\":{}{}}}\n", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        tx.send(frame(deep.leak().as_bytes())).await.unwrap();
        let rest = next().await.unwrap().unwrap();
        drop(tx);
        assert!(next().await.is_none());
        let line = [&b"{\"b\":\"x\\"[..], &rest].concat();
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["b"], "x\"[[", "brackets after an escaped quote stay in the string");
        let mut c = &parsed["c"];
        for _ in 0..MAX_DEPTH - 1 {
            c = &c[0];
        }
        assert_eq!(*c, serde_json::Value::Null, "the level past the limit");
    }
}
