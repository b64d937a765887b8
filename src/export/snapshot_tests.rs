use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
use opentelemetry_proto::tonic::metrics::v1::{
    metric::Data, number_data_point, AggregationTemporality, Metric,
};
use prost::Message;

use super::reader::ROWS_PER_LOCK;
use super::{EncodedRequest, Envelope, ExportTimes, Snapshot};
use crate::series::{MetricId, MetricSpec, MetricsRegistry, Point, TableHandle};

const TIMES: ExportTimes = ExportTimes { start_unix_nano: 10, now_unix_nano: 20 };

/// Names of one width, so chunks of as many rows are as long.
fn registry_with_rows(rows: usize) -> (MetricsRegistry, TableHandle) {
    let registry = MetricsRegistry::new();
    let specs = vec![
        MetricSpec::gauge("t.phase", "1", "phase"),
        MetricSpec::counter("t.restarts", "{restart}", "restarts"),
        MetricSpec::gauge("t.by_phase", "{object}", "objects per phase").summed(),
    ];
    let table = registry.table("t", specs);
    for i in 0..rows {
        let name = KeyValue::new("name", format!("o{i:04}"));
        table.replace(
            &format!("uid-{i}"),
            vec![
                Point::new(MetricId(0), vec![name.clone(), KeyValue::new("phase", "Running")], 1.0),
                Point::new(MetricId(0), vec![name.clone(), KeyValue::new("phase", "Failed")], 0.0),
                Point::new(MetricId(1), vec![name], i as f64),
                Point::new(MetricId(2), vec![KeyValue::new("phase", "Running")], 1.0),
            ],
        );
    }
    (registry, table)
}

fn envelope() -> Arc<Envelope> {
    Arc::new(Envelope::new(&[("service.name".to_owned(), "kso".to_owned())].into()))
}

fn snapshot(registry: &MetricsRegistry) -> Snapshot {
    Snapshot::new(registry, None, envelope(), TIMES)
}

fn decoded(chunk: EncodedRequest) -> Vec<Metric> {
    let request = ExportMetricsServiceRequest::decode(chunk.bytes).unwrap();
    let metrics =
        request.resource_metrics.into_iter().flat_map(|rm| rm.scope_metrics).flat_map(|sm| sm.metrics);
    metrics.collect()
}

fn points_of(metrics: &[Metric], name: &str) -> usize {
    metrics
        .iter()
        .filter(|m| m.name == name)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len(),
            Some(Data::Sum(s)) => s.data_points.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn chunks_are_bounded_and_carry_every_point_once() {
    let (registry, _table) = registry_with_rows(1000);
    let mut snapshot = snapshot(&registry).with_max_points(700);
    let all: Vec<Vec<Metric>> = std::iter::from_fn(|| snapshot.next_request()).map(decoded).collect();
    assert!(snapshot.is_done());
    assert!(all.len() >= 4, "{} chunks", all.len());
    for chunk in &all {
        let n: usize = ["t.phase", "t.restarts", "t.by_phase"].iter().map(|m| points_of(chunk, m)).sum();
        assert!(n <= 700 + ROWS_PER_LOCK * 3, "{n} points in a chunk");
    }
    let all: Vec<Metric> = all.into_iter().flatten().collect();
    assert_eq!(points_of(&all, "t.phase"), 2000);
    assert_eq!(points_of(&all, "t.restarts"), 1000);
    assert_eq!(points_of(&all, "t.by_phase"), 1, "summed across objects");
}

/// An export's requests are written in one buffer, each in the last one's once that was
/// delivered (dropped), never in one still held.
#[test]
fn a_delivered_requests_buffer_carries_the_next_one() {
    let (registry, _table) = registry_with_rows(1000);
    let mut snapshot = snapshot(&registry).with_max_points(700);
    let held = snapshot.next_request().unwrap();
    let second = snapshot.next_request().unwrap();
    assert_ne!(second.bytes.as_ptr(), held.bytes.as_ptr(), "the first is still held");
    let delivered = second.bytes.as_ptr();
    let second = decoded(second);
    let third = snapshot.next_request().unwrap();
    assert_eq!(third.bytes.as_ptr(), delivered, "the second was dropped");
    assert_eq!(points_of(&second, "t.phase") + points_of(&decoded(third), "t.phase"), 2 * 2 * 256);
    assert!(!decoded(held).is_empty());
}

#[test]
fn kinds_values_and_times_follow_the_specs() {
    let (registry, _table) = registry_with_rows(3);
    let metrics = decoded(snapshot(&registry).next_request().unwrap());
    let find = |name: &str| metrics.iter().find(|m| m.name == name).unwrap();
    let Some(Data::Sum(restarts)) = &find("t.restarts").data else { panic!("counter is a sum") };
    assert!(restarts.is_monotonic);
    assert_eq!(restarts.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    assert_eq!(find("t.restarts").unit, "{restart}");
    let Some(Data::Gauge(by_phase)) = &find("t.by_phase").data else { panic!("gauge") };
    let point = &by_phase.data_points[0];
    assert_eq!(point.value, Some(number_data_point::Value::AsDouble(3.0)));
    assert_eq!((point.start_time_unix_nano, point.time_unix_nano), (10, 20));
    assert_eq!(point.attributes[0].key, "phase");
    assert_eq!(
        point.attributes[0].value,
        Some(AnyValue { value: Some(any_value::Value::StringValue("Running".into())) })
    );
}

#[test]
fn a_detached_table_is_not_exported() {
    let (registry, table) = registry_with_rows(3);
    drop(table);
    assert!(snapshot(&registry).next_request().is_none());
    assert_eq!(super::count_points(&snapshot(&registry).into_request()), 0);
}

#[test]
fn a_table_awaiting_its_list_is_not_exported_until_listed() {
    let registry = MetricsRegistry::new();
    let table = registry.table_after_list("t", vec![MetricSpec::gauge("t.count", "1", "objects").summed()]);
    table.replace("a", vec![Point::new(MetricId(0), vec![], 1.0)]);
    assert!(snapshot(&registry).next_request().is_none(), "half a list is no count at all");
    assert_eq!(super::count_points(&snapshot(&registry).into_request()), 0);
    table.mark_listed();
    assert_eq!(snapshot(&registry).next_request().unwrap().points, 1);
}

/// The whole request a scrape or `render` gets is the encoded chunks' content, merged into one
/// metric per name, under the same resource and scope.
#[test]
fn the_whole_request_equals_the_chunks_merged() {
    let (registry, _table) = registry_with_rows(700);
    let whole = snapshot(&registry).into_request();
    let mut chunks = snapshot(&registry).with_max_points(500);
    let requests: Vec<ExportMetricsServiceRequest> = std::iter::from_fn(|| chunks.next_request())
        .map(|c| ExportMetricsServiceRequest::decode(c.bytes).unwrap())
        .collect();
    assert!(requests.len() > 1);
    assert_eq!(whole.resource_metrics.len(), 1);
    let (rm, first) = (&whole.resource_metrics[0], &requests[0].resource_metrics[0]);
    assert_eq!(rm.resource, first.resource);
    assert_eq!(rm.scope_metrics[0].scope, first.scope_metrics[0].scope);
    let mut merged: Vec<Metric> = Vec::new();
    for metric in requests.into_iter().flat_map(|r| r.resource_metrics).flat_map(|rm| rm.scope_metrics) {
        for mut m in metric.metrics {
            match merged.iter_mut().find(|x| x.name == m.name) {
                Some(x) => match (&mut x.data, &mut m.data) {
                    (Some(Data::Gauge(a)), Some(Data::Gauge(b))) => a.data_points.append(&mut b.data_points),
                    (Some(Data::Sum(a)), Some(Data::Sum(b))) => a.data_points.append(&mut b.data_points),
                    other => panic!("kinds differ: {other:?}"),
                },
                None => merged.push(m),
            }
        }
    }
    assert_eq!(rm.scope_metrics[0].metrics, merged);
}

#[test]
fn the_agents_own_metrics_come_first_and_join_the_first_chunk() {
    let (registry, _table) = registry_with_rows(2);
    let own = Snapshot::new(&MetricsRegistry::new(), None, envelope(), TIMES);
    let mut own_request = own.into_request();
    own_request.resource_metrics[0].scope_metrics[0].metrics =
        decoded(snapshot(&registry).next_request().unwrap())
            .into_iter()
            .filter(|m| m.name == "t.restarts")
            .map(|mut m| {
                m.name = "kube_state_otel.own".into();
                m
            })
            .collect();
    let mut with_own = Snapshot::new(&registry, Some(own_request.clone()), envelope(), TIMES);
    let first = with_own.next_request().unwrap();
    assert_eq!(first.points, 2 + 7, "own: 2 points; series: 2 objects x 3, and 1 summed");
    assert!(with_own.next_request().is_none(), "one request for a small export");
    let decoded = ExportMetricsServiceRequest::decode(first.bytes).unwrap();
    assert_eq!(decoded.resource_metrics.len(), 2);
    assert_eq!(decoded.resource_metrics[0], own_request.resource_metrics[0]);
    let scrape = Snapshot::new(&registry, Some(own_request), envelope(), TIMES).into_request();
    let names: Vec<&str> =
        scrape.resource_metrics[0].scope_metrics[0].metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["kube_state_otel.own", "t.by_phase", "t.phase", "t.restarts"]);
}
