//! The Kubernetes client the Lease is kept with: every request gets a deadline, and the time of
//! the last successful write is recorded, so the holder knows when it last renewed and can give
//! up leadership once `renewDeadline` has passed without a renewal (the Lease library does not
//! report renewals, only changes of holder).

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use futures::FutureExt;
use http::{Method, Request, Response};
use kube::client::Body;
use tokio::sync::watch;
use tokio::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// When the Lease was last written successfully (acquired, renewed or released).
#[derive(Clone)]
pub struct RenewClock(Arc<watch::Sender<Option<Instant>>>);

impl Default for RenewClock {
    fn default() -> Self {
        RenewClock(Arc::new(watch::Sender::new(None)))
    }
}

impl RenewClock {
    pub fn last_write(&self) -> Option<Instant> {
        *self.0.borrow()
    }

    /// Notified on every recorded write.
    pub fn subscribe(&self) -> watch::Receiver<Option<Instant>> {
        self.0.subscribe()
    }

    fn record(&self, at: Instant) {
        self.0.send_if_modified(|last| {
            let newer = last.is_none_or(|l| l < at);
            if newer {
                *last = Some(at);
            }
            newer
        });
    }
}

/// A `kube::Client` service that applies a deadline and records successful writes.
#[derive(Clone)]
struct Tracked {
    client: kube::Client,
    timeout: Duration,
    clock: RenewClock,
}

impl tower::Service<Request<Body>> for Tracked {
    type Response = Response<Body>;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<Response<Body>, BoxError>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let this = self.clone();
        let write = request.method() != Method::GET;
        // The Lease's renewTime is taken just before the request is made, so the moment it
        // starts (not when the answer arrives) is what its expiry counts from.
        let started = Instant::now();
        async move {
            let response = tokio::time::timeout(this.timeout, this.client.send(request))
                .await
                .map_err(|_| format!("Lease request timed out after {:?}", this.timeout))??;
            if write && response.status().is_success() {
                this.clock.record(started);
            }
            Ok(response)
        }
        .boxed()
    }
}

/// A client over `client` whose requests time out after `timeout` and whose successful writes
/// are recorded on the returned clock.
pub fn tracked(client: &kube::Client, timeout: Duration) -> (kube::Client, RenewClock) {
    let clock = RenewClock::default();
    let service = Tracked { client: client.clone(), timeout, clock: clock.clone() };
    (kube::Client::new(service, client.default_namespace().to_owned()), clock)
}
