//! The hand-written OTLP encoder against `prost`: random metrics (any names, units, attribute
//! keys and values of every type, long enough for multi-byte lengths; any doubles, NaN and
//! infinities included) encoded, then decoded with `prost`, give back exactly the same points,
//! in exactly the bytes `prost` would use (no empty fields written). And the same through a
//! series table: random objects' points stored (their attributes encoded once, shared prefix and
//! interned tails), then exported in chunks, decode to the points written, in prost's length.

use kube_state_otel_testkit::arbitrary::cases;
use opentelemetry::{Array, KeyValue, StringValue, Value};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point, NumberDataPoint};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;
use prost::Message;

use super::encode::{put_point, request, EncodedMetric, Shape};
use super::{Envelope, ExportTimes, Snapshot};
use crate::series::encoded::encode;
use crate::series::{MetricId, MetricSpec, MetricsRegistry, Point as SeriesPoint};

#[derive(Debug, Clone)]
enum Attr {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Ints(Vec<i64>),
    Texts(Vec<String>),
}

#[derive(Debug, Clone)]
struct Point {
    shared: Vec<(String, Attr)>,
    rest: Vec<(String, Attr)>,
    times: (u64, u64),
    value: f64,
}

#[derive(Debug, Clone)]
struct Metric {
    name: String,
    description: String,
    unit: String,
    shape: Shape,
    points: Vec<Point>,
}

fn long_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-z]{100,300}", "\\PC{0,200}"]
}

fn attr() -> impl Strategy<Value = (String, Attr)> {
    let value = prop_oneof![
        long_text().prop_map(Attr::Text),
        any::<i64>().prop_map(Attr::Int),
        any::<f64>().prop_map(Attr::Float),
        any::<bool>().prop_map(Attr::Bool),
        prop::collection::vec(any::<i64>(), 0..3).prop_map(Attr::Ints),
        prop::collection::vec(long_text(), 0..3).prop_map(Attr::Texts),
    ];
    (long_text(), value)
}

fn point() -> impl Strategy<Value = Point> {
    let attrs = || prop::collection::vec(attr(), 0..4);
    (attrs(), attrs(), (1..=u64::MAX, 1..=u64::MAX), any::<f64>())
        .prop_map(|(shared, rest, times, value)| Point { shared, rest, times, value })
}

fn metric() -> impl Strategy<Value = Metric> {
    let shape = prop_oneof![
        Just(Shape::Gauge),
        Just(Shape::Sum { monotonic: true }),
        Just(Shape::Sum { monotonic: false })
    ];
    (long_text(), long_text(), "[a-zA-Z{}/]{0,10}", shape, prop::collection::vec(point(), 0..6)).prop_map(
        |(name, description, unit, shape, points)| Metric { name, description, unit, shape, points },
    )
}

fn key_values(attrs: &[(String, Attr)]) -> Vec<KeyValue> {
    attrs
        .iter()
        .map(|(k, v)| match v {
            Attr::Text(s) => KeyValue::new(k.clone(), s.clone()),
            Attr::Int(i) => KeyValue::new(k.clone(), *i),
            Attr::Float(f) => KeyValue::new(k.clone(), *f),
            Attr::Bool(b) => KeyValue::new(k.clone(), *b),
            Attr::Ints(v) => KeyValue::new(k.clone(), Value::Array(Array::I64(v.clone()))),
            Attr::Texts(v) => {
                let strings = v.iter().map(|s| StringValue::from(s.clone())).collect();
                KeyValue::new(k.clone(), Value::Array(Array::String(strings)))
            }
        })
        .collect()
}

/// A decoded value in comparable form (doubles by their bits).
fn decoded_value(value: Option<&any_value::Value>) -> String {
    match value {
        Some(any_value::Value::StringValue(s)) => format!("s:{s}"),
        Some(any_value::Value::IntValue(i)) => format!("i:{i}"),
        Some(any_value::Value::DoubleValue(f)) => format!("f:{}", f.to_bits()),
        Some(any_value::Value::BoolValue(b)) => format!("b:{b}"),
        Some(any_value::Value::ArrayValue(a)) => {
            let values: Vec<String> = a.values.iter().map(|v| decoded_value(v.value.as_ref())).collect();
            format!("a:{values:?}")
        }
        other => format!("?{other:?}"),
    }
}

/// A decoded attribute in comparable form.
fn decoded_attr(kv: &opentelemetry_proto::tonic::common::v1::KeyValue) -> (String, String) {
    (kv.key.clone(), decoded_value(kv.value.as_ref().and_then(|v| v.value.as_ref())))
}

fn expected_attr((k, v): &(String, Attr)) -> (String, String) {
    let value = match v {
        Attr::Text(s) => format!("s:{s}"),
        Attr::Int(i) => format!("i:{i}"),
        Attr::Float(f) => format!("f:{}", f.to_bits()),
        Attr::Bool(b) => format!("b:{b}"),
        Attr::Ints(v) => format!("a:{:?}", v.iter().map(|i| format!("i:{i}")).collect::<Vec<_>>()),
        Attr::Texts(v) => format!("a:{:?}", v.iter().map(|s| format!("s:{s}")).collect::<Vec<_>>()),
    };
    (k.clone(), value)
}

fn check_point(got: &NumberDataPoint, want: &Point) -> Result<(), TestCaseError> {
    prop_assert_eq!((got.start_time_unix_nano, got.time_unix_nano), want.times);
    match got.value {
        Some(number_data_point::Value::AsDouble(v)) => prop_assert_eq!(v.to_bits(), want.value.to_bits()),
        other => prop_assert!(false, "value {other:?}"),
    }
    let got: Vec<_> = got.attributes.iter().map(decoded_attr).collect();
    let want: Vec<_> = want.shared.iter().chain(&want.rest).map(expected_attr).collect();
    prop_assert_eq!(got, want);
    Ok(())
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn encoded_requests_decode_to_the_same_points(metrics in prop::collection::vec(metric(), 0..5), service in long_text()) {
        let buffers: Vec<Vec<u8>> = metrics
            .iter()
            .map(|m| {
                let mut buf = Vec::new();
                for p in &m.points {
                    let (shared, rest) = (encode(&key_values(&p.shared)), encode(&key_values(&p.rest)));
                    put_point(&mut buf, &shared, &rest, p.times, p.value);
                }
                buf
            })
            .collect();
        let encoded: Vec<EncodedMetric> = metrics
            .iter()
            .zip(&buffers)
            .map(|(m, points)| EncodedMetric {
                name: &m.name,
                description: &m.description,
                unit: &m.unit,
                shape: m.shape,
                points,
            })
            .collect();
        let resource = Resource {
            attributes: vec![opentelemetry_proto::tonic::common::v1::KeyValue {
                key: "service.name".into(),
                value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                    value: Some(any_value::Value::StringValue(service)),
                }),
                key_strindex: 0,
            }],
            ..Default::default()
        };
        let scope = InstrumentationScope { name: "kube-state-otel".into(), ..Default::default() };
        let bytes = request(&resource.encode_to_vec(), &scope.encode_to_vec(), &encoded);

        let decoded = ExportMetricsServiceRequest::decode(bytes.as_slice()).unwrap();
        prop_assert_eq!(decoded.encoded_len(), bytes.len(), "as compact as prost: no empty field written");
        let [resource_metrics] = decoded.resource_metrics.as_slice() else { panic!("one resource") };
        prop_assert_eq!(resource_metrics.resource.as_ref(), Some(&resource));
        let [scope_metrics] = resource_metrics.scope_metrics.as_slice() else { panic!("one scope") };
        prop_assert_eq!(scope_metrics.scope.as_ref(), Some(&scope));
        prop_assert_eq!(scope_metrics.metrics.len(), metrics.len());
        for (got, want) in scope_metrics.metrics.iter().zip(&metrics) {
            prop_assert_eq!((&got.name, &got.description, &got.unit), (&want.name, &want.description, &want.unit));
            let points = match (&got.data, want.shape) {
                (Some(Data::Gauge(g)), Shape::Gauge) => &g.data_points,
                (Some(Data::Sum(s)), Shape::Sum { monotonic }) => {
                    prop_assert_eq!(s.is_monotonic, monotonic);
                    prop_assert_eq!(s.aggregation_temporality, 2, "cumulative");
                    &s.data_points
                }
                (data, shape) => return Err(TestCaseError::fail(format!("{shape:?} decoded as {data:?}"))),
            };
            prop_assert_eq!(points.len(), want.points.len());
            for (got, want) in points.iter().zip(&want.points) {
                check_point(got, want)?;
            }
        }
    }
}

/// One object for a table: attributes its points start with, then its points.
#[derive(Debug, Clone)]
struct Object {
    shared: Vec<(String, Attr)>,
    points: Vec<ObjectPoint>,
}

/// A metric (of 3), whether the point starts with its object's attributes, the rest, a value.
#[derive(Debug, Clone)]
struct ObjectPoint {
    metric: u32,
    with_shared: bool,
    rest: Vec<(String, Attr)>,
    value: f64,
}

fn object() -> impl Strategy<Value = Object> {
    let point = (0..3u32, any::<bool>(), prop::collection::vec(attr(), 0..3), any::<f64>())
        .prop_map(|(metric, with_shared, rest, value)| ObjectPoint { metric, with_shared, rest, value });
    (prop::collection::vec(attr(), 0..4), prop::collection::vec(point, 1..5))
        .prop_map(|(shared, points)| Object { shared, points })
}

impl Object {
    /// The object's points as a collector writes them.
    fn series_points(&self) -> Vec<SeriesPoint> {
        self.points
            .iter()
            .map(|p| {
                let shared = if p.with_shared { &self.shared[..] } else { &[] };
                let attributes = key_values(shared).into_iter().chain(key_values(&p.rest)).collect();
                SeriesPoint::new(MetricId(p.metric), attributes, p.value)
            })
            .collect()
    }
}

/// A point in comparable form: metric name, value bits and attributes.
fn comparable(name: &str, value: f64, attributes: Vec<(String, String)>) -> String {
    format!("{name} {} {attributes:?}", value.to_bits())
}

/// A written attribute in the form `decoded_attr` gives.
fn written_attr(kv: &KeyValue) -> (String, String) {
    (kv.key.to_string(), decoded_value(AnyValue::from(kv.value.clone()).value.as_ref()))
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn stored_points_export_as_written(objects in prop::collection::vec(object(), 0..8), max_points in 1..20usize) {
        let registry = MetricsRegistry::new();
        let names = ["m.gauge", "m.counter", "m.updown"];
        let mut specs = vec![MetricSpec::gauge(names[0], "1", "g"), MetricSpec::counter(names[1], "1", "c")];
        specs.push(MetricSpec { kind: crate::series::InstrumentKind::UpDownCounter, ..MetricSpec::gauge(names[2], "", "") });
        let table = registry.table("t", specs);
        let mut want = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            let points = object.series_points();
            for p in &points {
                let attributes = p.attributes.iter().map(written_attr).collect();
                want.push(comparable(names[p.metric.0 as usize], p.value, attributes));
            }
            table.replace(&format!("o{i}"), points.clone());
            let back: Vec<String> = table
                .points_of(&format!("o{i}"))
                .iter()
                .map(|p| comparable(names[p.metric.0 as usize], p.value, p.attributes.iter().map(written_attr).collect()))
                .collect();
            let written: Vec<String> = points
                .iter()
                .map(|p| comparable(names[p.metric.0 as usize], p.value, p.attributes.iter().map(written_attr).collect()))
                .collect();
            prop_assert_eq!(back, written, "points_of gives back the points written");
        }
        let times = ExportTimes { start_unix_nano: 7, now_unix_nano: u64::MAX };
        let envelope = std::sync::Arc::new(Envelope::new(&[("service.name".to_owned(), "k".to_owned())].into()));
        let mut snapshot = Snapshot::new(&registry, None, envelope, times).with_max_points(max_points);
        let mut got = Vec::new();
        while let Some(chunk) = snapshot.next_request() {
            let decoded = ExportMetricsServiceRequest::decode(chunk.bytes.clone()).unwrap();
            prop_assert_eq!(decoded.encoded_len(), chunk.bytes.len(), "as compact as prost");
            let metrics = decoded.resource_metrics.iter().flat_map(|rm| &rm.scope_metrics).flat_map(|sm| &sm.metrics);
            for metric in metrics {
                let points = match &metric.data {
                    Some(Data::Gauge(g)) => &g.data_points,
                    Some(Data::Sum(s)) => &s.data_points,
                    other => return Err(TestCaseError::fail(format!("{other:?}"))),
                };
                for p in points {
                    prop_assert_eq!((p.start_time_unix_nano, p.time_unix_nano), (7, u64::MAX));
                    let Some(number_data_point::Value::AsDouble(value)) = p.value else {
                        return Err(TestCaseError::fail("a double"));
                    };
                    got.push(comparable(&metric.name, value, p.attributes.iter().map(decoded_attr).collect()));
                }
            }
        }
        want.sort();
        got.sort();
        prop_assert_eq!(got, want);
    }
}
