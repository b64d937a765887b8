//! The hand-written OTLP encoder against `prost`: random metrics (any names, units, attribute
//! keys and values of every type, long enough for multi-byte lengths; any doubles, NaN and
//! infinities included) encoded, then decoded with `prost`, give back exactly the same points,
//! in exactly the bytes `prost` would use (no empty fields written).

use kube_state_otel_testkit::arbitrary::cases;
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, InstrumentationScope};
use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point, NumberDataPoint};
use opentelemetry_proto::tonic::resource::v1::Resource;
use proptest::prelude::*;
use prost::Message;

use super::encode::{put_point, request, EncodedMetric, Shape};

#[derive(Debug, Clone)]
enum Attr {
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
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
        })
        .collect()
}

/// A decoded attribute in comparable form (doubles by their bits).
fn decoded_attr(kv: &opentelemetry_proto::tonic::common::v1::KeyValue) -> (String, String) {
    let value = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => format!("s:{s}"),
        Some(any_value::Value::IntValue(i)) => format!("i:{i}"),
        Some(any_value::Value::DoubleValue(f)) => format!("f:{}", f.to_bits()),
        Some(any_value::Value::BoolValue(b)) => format!("b:{b}"),
        other => format!("?{other:?}"),
    };
    (kv.key.clone(), value)
}

fn expected_attr((k, v): &(String, Attr)) -> (String, String) {
    let value = match v {
        Attr::Text(s) => format!("s:{s}"),
        Attr::Int(i) => format!("i:{i}"),
        Attr::Float(f) => format!("f:{}", f.to_bits()),
        Attr::Bool(b) => format!("b:{b}"),
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
                    put_point(&mut buf, &key_values(&p.shared), &key_values(&p.rest), p.times, p.value);
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
