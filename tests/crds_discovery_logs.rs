//! Discovery runs every period, but each type is logged once: the collector against the fake
//! API server with a log subscriber capturing its lines. In a test binary of its own, so no
//! other test's threads touch the log callsites while the subscriber is set.

use std::time::Duration;

use kube_state_otel_testkit::fake_apiserver::FakeApiServer;

#[path = "support/discovery.rs"]
mod discovery;
#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use discovery::*;
use harness::Harness;

/// Log lines written while the test runs, for a subscriber on the test's one thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Single-threaded so the thread-local log subscriber sees every task of the collector.
#[tokio::test(flavor = "current_thread")]
async fn each_type_is_logged_once_however_many_discoveries_run() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let server = FakeApiServer::start().await;
    for spec in [certificates(), certificate_reviews()] {
        server.register_resource(spec);
    }
    let h = Harness::start_on(server, plan(OPERATORS), false).await;
    wait_for_detail(&h, "operators/cert-manager.io/Certificate", |d| d == "watched: listed").await;
    // Three more discoveries (one a second).
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let discoveries = h.server.requests().iter().filter(|r| r.path == "/apis/cert-manager.io/v1").count();
    assert!(discoveries >= 3, "{discoveries} discoveries");
    h.stop().await;
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines = |needle: &str| logs.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(lines("type=cert-manager.io/CertificateReview"), 1, "{logs}");
    assert_eq!(lines("not watched: discovery lists the verbs [\"create\"]"), 1, "{logs}");
    assert_eq!(lines("type matched by select; watching it"), 1, "{logs}");
}
