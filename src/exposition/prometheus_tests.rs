use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as AnyValueMsg, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as PointValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics,
    ScopeMetrics, Sum,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use super::*;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValueMsg { value: Some(AnyValue::StringValue(value.into())) }),
        ..Default::default()
    }
}

fn point(attrs: &[(&str, &str)], value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: attrs.iter().map(|(k, v)| kv(k, v)).collect(),
        start_time_unix_nano: 1_700_000_000_500_000_000,
        time_unix_nano: 1_700_000_030_000_000_000,
        value: Some(PointValue::AsDouble(value)),
        ..Default::default()
    }
}

fn metric(name: &str, unit: &str, help: &str, data: Data) -> Metric {
    Metric {
        name: name.into(),
        unit: unit.into(),
        description: help.into(),
        data: Some(data),
        ..Default::default()
    }
}

fn request() -> ExportMetricsServiceRequest {
    let phase = metric(
        "sealos.kubeblocks_cluster.phase",
        "",
        "Cluster phase",
        Data::Gauge(Gauge {
            data_points: vec![
                point(&[("cluster", "pg"), ("state", "Running")], 1.0),
                point(&[("cluster", "mysql"), ("state", "Failed \"x\"\n\\")], 0.0),
            ],
        }),
    );
    let db = metric(
        "etcd.member.db.size",
        "By",
        "Size of the\ndb \\ file",
        Data::Gauge(Gauge { data_points: vec![point(&[("etcd.member.name", "m1")], 5368709120.0)] }),
    );
    let events = metric(
        "etcd.watch.events",
        "{event}",
        "Watch events",
        Data::Sum(Sum {
            data_points: vec![point(&[("etcd.event.type", "put")], 42.0)],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: true,
        }),
    );
    let objects = metric(
        "objects",
        "{object}",
        "",
        Data::Sum(Sum {
            data_points: vec![NumberDataPoint { value: Some(PointValue::AsInt(7)), ..Default::default() }],
            aggregation_temporality: AggregationTemporality::Cumulative as i32,
            is_monotonic: false,
        }),
    );
    let delta = metric(
        "dropped",
        "1",
        "",
        Data::Sum(Sum {
            data_points: vec![point(&[], 1.0)],
            aggregation_temporality: AggregationTemporality::Delta as i32,
            is_monotonic: true,
        }),
    );
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "kube-state-otel"),
                    kv("service.instance.id", "kso-0"),
                    kv("k8s.cluster.name", "prod-east"),
                ],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope { name: "kube-state-otel".into(), ..Default::default() }),
                metrics: vec![phase, db, events, objects, delta],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

const SCOPE: &str = r#"instance="kso-0",job="kube-state-otel""#;

#[test]
fn writes_the_text_format_like_the_collector() {
    let want = format!(
        r#"# HELP etcd_member_db_size_bytes Size of the\ndb \\ file
# TYPE etcd_member_db_size_bytes gauge
etcd_member_db_size_bytes{{etcd_member_name="m1",{SCOPE}}} 5.36870912e+09
# HELP etcd_watch_events_total Watch events
# TYPE etcd_watch_events_total counter
etcd_watch_events_total{{etcd_event_type="put",{SCOPE}}} 42
# HELP objects 
# TYPE objects gauge
objects{{{SCOPE}}} 7
# HELP sealos_kubeblocks_cluster_phase Cluster phase
# TYPE sealos_kubeblocks_cluster_phase gauge
sealos_kubeblocks_cluster_phase{{cluster="mysql",{SCOPE},state="Failed \"x\"\n\\"}} 0
sealos_kubeblocks_cluster_phase{{cluster="pg",{SCOPE},state="Running"}} 1
# HELP target_info Target metadata
# TYPE target_info gauge
target_info{{instance="kso-0",job="kube-state-otel",k8s_cluster_name="prod-east"}} 1
"#
    );
    assert_eq!(to_prometheus_text(&request()), want);
}

#[test]
fn writes_openmetrics_with_counter_families_created_and_eof() {
    let text = to_openmetrics(&request());
    let want_counter = format!(
        "# HELP etcd_watch_events Watch events\n# TYPE etcd_watch_events counter\n\
         etcd_watch_events_total{{etcd_event_type=\"put\",{SCOPE}}} 42.0\n\
         etcd_watch_events_created{{etcd_event_type=\"put\",{SCOPE}}} 1.7000000005e+09\n"
    );
    assert!(text.contains(&want_counter), "{text}");
    assert!(text.contains("# HELP etcd_member_db_size_bytes Size of the\\ndb \\\\ file\n"), "{text}");
    assert!(text.contains(&format!(
        "sealos_kubeblocks_cluster_phase{{cluster=\"pg\",{SCOPE},state=\"Running\"}} 1.0\n"
    )));
    assert!(text.ends_with("k8s_cluster_name=\"prod-east\"} 1.0\n# EOF\n"), "{text}");
}

#[test]
fn joins_colliding_labels_and_omits_target_info_without_an_instance() {
    let request = ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: vec![kv("service.name", "a")], ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![metric(
                    "m",
                    "1",
                    "h",
                    Data::Gauge(Gauge { data_points: vec![point(&[("a.b", "2"), ("a/b", "1")], 0.5)] }),
                )],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    assert_eq!(
        to_prometheus_text(&request),
        "# HELP m_ratio h\n# TYPE m_ratio gauge\nm_ratio{a_b=\"2;1\",job=\"a\"} 0.5\n"
    );
}

fn histogram_request(temporality: AggregationTemporality) -> ExportMetricsServiceRequest {
    let point = HistogramDataPoint {
        attributes: vec![kv("collector", "etcd")],
        start_time_unix_nano: 1_700_000_000_500_000_000,
        time_unix_nano: 1_700_000_030_000_000_000,
        count: 5,
        sum: Some(1.75),
        bucket_counts: vec![1, 3, 0, 1],
        explicit_bounds: vec![0.1, 0.5, 1.0],
        ..Default::default()
    };
    let histogram =
        Data::Histogram(Histogram { data_points: vec![point], aggregation_temporality: temporality as i32 });
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "kube-state-otel"), kv("service.instance.id", "kso-0")],
                ..Default::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![metric("kube_state_otel.collector.duration", "s", "Poll time", histogram)],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

#[test]
fn writes_histograms_with_cumulative_buckets_sum_and_count() {
    let labels = format!(r#"collector="etcd",{SCOPE}"#);
    let want = format!(
        "# HELP kube_state_otel_collector_duration_seconds Poll time\n\
         # TYPE kube_state_otel_collector_duration_seconds histogram\n\
         kube_state_otel_collector_duration_seconds_bucket{{{labels},le=\"0.1\"}} 1\n\
         kube_state_otel_collector_duration_seconds_bucket{{{labels},le=\"0.5\"}} 4\n\
         kube_state_otel_collector_duration_seconds_bucket{{{labels},le=\"1\"}} 4\n\
         kube_state_otel_collector_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 5\n\
         kube_state_otel_collector_duration_seconds_sum{{{labels}}} 1.75\n\
         kube_state_otel_collector_duration_seconds_count{{{labels}}} 5\n"
    );
    assert_eq!(to_prometheus_text(&histogram_request(AggregationTemporality::Cumulative)), want);
    let open = to_openmetrics(&histogram_request(AggregationTemporality::Cumulative));
    assert!(open.contains(&format!("_bucket{{{labels},le=\"1.0\"}} 4\n")), "{open}");
    assert!(open.contains(&format!("_created{{{labels}}} 1.7000000005e+09\n")), "{open}");
    assert!(to_prometheus_text(&histogram_request(AggregationTemporality::Delta)).is_empty());
}
