//! The export pipeline against the OTLP test receiver: both protocols, headers, uncompressed, gzip
//! and zstd (at a chosen level too), resource attributes, more points than the SDK's default cardinality limit, and vanishing series.

use std::time::Duration;

use kube_state_otel::config::{Compression, OtlpConfig, OtlpProtocol};
use kube_state_otel::series::{MetricSpec, Point};
use kube_state_otel_testkit::otlp_receiver::{points, value_where, OtlpReceiver};
use opentelemetry::KeyValue;

#[path = "support/exporter.rs"]
mod support;

async fn export_once(protocol: OtlpProtocol, compression: Compression, compression_level: Option<u32>) {
    let receiver = OtlpReceiver::start().await;
    let endpoint = match protocol {
        OtlpProtocol::Grpc => receiver.grpc_endpoint(),
        OtlpProtocol::HttpProtobuf => receiver.http_endpoint(),
    };
    let mut otlp = OtlpConfig { endpoint, protocol, compression, compression_level, ..OtlpConfig::default() };
    otlp.headers.insert("x-tenant".into(), "team-a".into());
    let exporter =
        support::exporter(&otlp, &[("service.name", "kube-state-otel"), ("k8s.cluster.name", "test")], 5);
    let registry = exporter.registry();
    let table = registry.table("test", vec![MetricSpec::gauge("test.object.value", "By", "one per object")]);
    let metric = table.metric_id("test.object.value").unwrap();
    for i in 0..6000 {
        table.replace(
            &format!("uid-{i}"),
            vec![Point::new(metric, vec![KeyValue::new("name", format!("obj-{i}"))], i as f64)],
        );
    }
    exporter.export_once().await.unwrap();
    let m = receiver.wait_for_metric("test.object.value", Duration::from_secs(10)).await;
    assert_eq!(m.unit, "By");
    assert_eq!(m.description, "one per object");
    let got = points(&m);
    assert_eq!(got.len(), 6000, "all points, none folded into an overflow series");
    assert!(got.iter().all(|p| !p.attributes.iter().any(|(k, _)| k == "otel.metric.overflow")));
    assert_eq!(value_where(&m, &[("name", "obj-4321")]), Some(4321.0));
    let resource = receiver.latest_resource();
    assert!(resource.contains(&("k8s.cluster.name".into(), "test".into())), "{resource:?}");
    let headers = &receiver.received()[0].headers;
    assert!(headers.contains(&("x-tenant".into(), "team-a".into())), "{headers:?}");
    let encoding_header = match protocol {
        OtlpProtocol::Grpc => "grpc-encoding",
        OtlpProtocol::HttpProtobuf => "content-encoding",
    };
    let encoding = headers.iter().find(|(k, _)| k == encoding_header).map(|(_, v)| v.as_str());
    let expected = match compression {
        Compression::None => None,
        Compression::Gzip => Some("gzip"),
        Compression::Zstd => Some("zstd"),
    };
    assert_eq!(encoding, expected, "{headers:?}");

    // A removed object is absent from the next export.
    table.remove("uid-4321");
    exporter.export_once().await.unwrap();
    receiver.wait_for(Duration::from_secs(10), "second export", |r| r.len() >= 2).await;
    let m = receiver.latest_metric("test.object.value").unwrap();
    assert_eq!(points(&m).len(), 5999);
    assert_eq!(value_where(&m, &[("name", "obj-4321")]), None);
    // Plus each export's `kube_state_otel.export.duration` (wall and cpu).
    assert_eq!(exporter.pusher().stats().points.load(std::sync::atomic::Ordering::Relaxed), 11999 + 2 * 2);
    exporter.own_metrics().shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_with_gzip_exports_more_than_the_default_cardinality_limit() {
    export_once(OtlpProtocol::Grpc, Compression::Gzip, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_with_gzip_exports_more_than_the_default_cardinality_limit() {
    export_once(OtlpProtocol::HttpProtobuf, Compression::Gzip, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_without_compression() {
    export_once(OtlpProtocol::HttpProtobuf, Compression::None, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_without_compression() {
    export_once(OtlpProtocol::Grpc, Compression::None, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_with_zstd() {
    export_once(OtlpProtocol::Grpc, Compression::Zstd, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_with_zstd() {
    export_once(OtlpProtocol::HttpProtobuf, Compression::Zstd, None).await;
}

/// The agent compresses gRPC requests itself, so any level goes over gRPC too (the receiver
/// answers compressed, as the Collector does).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_with_zstd_and_gzip_at_chosen_levels() {
    export_once(OtlpProtocol::Grpc, Compression::Zstd, Some(19)).await;
    export_once(OtlpProtocol::Grpc, Compression::Gzip, Some(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_with_zstd_and_gzip_at_chosen_levels() {
    export_once(OtlpProtocol::HttpProtobuf, Compression::Zstd, Some(19)).await;
    export_once(OtlpProtocol::HttpProtobuf, Compression::Gzip, Some(1)).await;
}
