//! While the Collector refuses, exports are kept (bounded, oldest dropped and counted) and then
//! delivered once each, in order, with their original timestamps.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kube_state_otel::config::{Compression, OtlpConfig, OtlpProtocol};
use kube_state_otel::export::Exporter;
use kube_state_otel::series::{MetricSpec, Point};
use kube_state_otel_testkit::otlp_receiver::{points, OtlpReceiver};

#[path = "support/exporter.rs"]
mod support;

struct Setup {
    receiver: OtlpReceiver,
    exporter: Exporter,
    _table: kube_state_otel::series::TableHandle,
}

async fn setup(protocol: OtlpProtocol, compression: Compression, max_batches: usize) -> Setup {
    let receiver = OtlpReceiver::start().await;
    let endpoint =
        if protocol == OtlpProtocol::Grpc { receiver.grpc_endpoint() } else { receiver.http_endpoint() };
    let otlp = OtlpConfig { endpoint, protocol, compression, ..OtlpConfig::default() };
    let exporter = support::exporter(&otlp, &[], max_batches);
    let registry = exporter.registry();
    let table = registry.table("t", vec![MetricSpec::gauge("interval.number", "1", "which export interval")]);
    Setup { receiver, exporter, _table: table }
}

/// One export interval: the gauge carries the interval's number.
async fn interval(s: &Setup, n: u32) {
    let id = s._table.metric_id("interval.number").unwrap();
    s._table.replace("only", vec![Point::new(id, vec![], f64::from(n))]);
    // A refused export stays queued; the test looks at the queue.
    let _ = s.exporter.export_once().await;
}

/// Requests that carried the table's metric (each export also sends the agent's own metrics).
fn with_table(received: &[kube_state_otel_testkit::otlp_receiver::Received]) -> usize {
    let has = |r: &&kube_state_otel_testkit::otlp_receiver::Received| {
        kube_state_otel_testkit::otlp_receiver::find_metric(&r.request, "interval.number").is_some()
    };
    received.iter().filter(has).count()
}

fn delivered(receiver: &OtlpReceiver) -> Vec<(f64, u64)> {
    receiver
        .requests()
        .iter()
        .filter_map(|r| kube_state_otel_testkit::otlp_receiver::find_metric(r, "interval.number").map(points))
        .map(|p| (p[0].value, p[0].time_unix_nano))
        .collect()
}

async fn refuse_then_accept(protocol: OtlpProtocol, compression: Compression) {
    let s = setup(protocol, compression, 10).await;
    interval(&s, 1).await;
    s.receiver.set_refuse(true);
    for n in 2..=4 {
        interval(&s, n).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(s.exporter.pusher().buffered(), 3);
    assert!(s.exporter.pusher().stats().failures.load(Ordering::Relaxed) >= 3);
    s.receiver.set_refuse(false);
    interval(&s, 5).await;
    s.receiver.wait_for(Duration::from_secs(10), "5 intervals", |r| with_table(r) >= 5).await;
    let got = delivered(&s.receiver);
    assert_eq!(
        got.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        vec![1.0, 2.0, 3.0, 4.0, 5.0],
        "each once, in order"
    );
    assert!(got.windows(2).all(|w| w[0].1 < w[1].1), "original, increasing timestamps: {got:?}");
    assert_eq!(s.exporter.pusher().buffered(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_keeps_exports_while_refused_and_delivers_them_in_order() {
    refuse_then_accept(OtlpProtocol::Grpc, Compression::default()).await;
}

/// Uncompressed gRPC requests are sent as they were framed, the same bytes again on a retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uncompressed_grpc_keeps_exports_while_refused_and_delivers_them_in_order() {
    refuse_then_accept(OtlpProtocol::Grpc, Compression::None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_keeps_exports_while_refused_and_delivers_them_in_order() {
    refuse_then_accept(OtlpProtocol::HttpProtobuf, Compression::default()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_drops_the_oldest_and_counts_it() {
    let s = setup(OtlpProtocol::Grpc, Compression::default(), 2).await;
    s.receiver.set_refuse(true);
    for n in 1..=5 {
        interval(&s, n).await;
    }
    assert_eq!(s.exporter.pusher().buffered(), 2);
    assert_eq!(s.exporter.pusher().stats().dropped.load(Ordering::Relaxed), 3);
    s.receiver.set_refuse(false);
    // The background retry delivers the kept exports without waiting for the next interval.
    s.receiver.wait_for(Duration::from_secs(10), "kept exports", |r| with_table(r) >= 2).await;
    let got: Vec<f64> = delivered(&s.receiver).iter().map(|(v, _)| *v).collect();
    assert_eq!(got, vec![4.0, 5.0]);
}
