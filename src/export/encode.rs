//! Protobuf encoding of series straight from the tables, without building OTLP structures.
//!
//! `prost` needs owned messages (a `String` per attribute key and value) and computes nested
//! lengths again at every level; at a million points that allocation and re-measuring is most of
//! an export's CPU. Here each point is written once into its metric's buffer (its attributes
//! copied as the tables keep them, encoded when the point was written, see `series::encoded`; only
//! the times and the value are new), and a chunk is framed into an `ExportMetricsServiceRequest`
//! at the end, in a buffer sized up front from the lengths of its parts. Field numbers are those
//! of the OTLP protos (`opentelemetry/proto/metrics/v1/metrics.proto`, `common/v1/common.proto`).

use crate::series::encoded::{put_varint, varint_len};

const LEN: u32 = 2;
const VARINT: u32 = 0;

fn put_tag(buf: &mut Vec<u8>, field: u32, wire: u32) {
    put_varint(buf, u64::from(field << 3 | wire));
}

/// Length of a length-delimited field with a body of `len` bytes (tags here are one byte).
fn field_len(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

fn put_bytes(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_tag(buf, field, LEN);
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Length of a string field, which proto3 leaves out when empty.
fn str_field_len(s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        field_len(s.len())
    }
}

/// Writes a string field unless it is empty (proto3's default, left out as `prost` does).
fn put_str(buf: &mut Vec<u8>, field: u32, s: &str) {
    if !s.is_empty() {
        put_bytes(buf, field, s.as_bytes());
    }
}

/// `start_time_unix_nano = 2`, `time_unix_nano = 3`, `as_double = 4`: three fixed64 fields of
/// a tag byte and 8 bytes each.
const FIXED_LEN: usize = 3 * 9;

/// Appends one `NumberDataPoint` (as field 1 of a `Gauge` or `Sum`) with a double value and the
/// attributes `shared` then `rest`, both already encoded as `NumberDataPoint.attributes`
/// fields (`series::encoded`): only the times and the value are written, the attributes copied.
pub fn put_point(buf: &mut Vec<u8>, shared: &[u8], rest: &[u8], times: (u64, u64), value: f64) {
    let len = FIXED_LEN + shared.len() + rest.len();
    buf.reserve(1 + varint_len(len as u64) + len);
    // Gauge.data_points = Sum.data_points = 1
    buf.push(1 << 3 | LEN as u8);
    put_varint(buf, len as u64);
    let mut fixed = [0u8; FIXED_LEN];
    for (i, (field, v)) in [(2u8, times.0), (3, times.1), (4, value.to_bits())].into_iter().enumerate() {
        fixed[9 * i] = field << 3 | 1; // wire type 1: fixed64
        fixed[9 * i + 1..9 * i + 9].copy_from_slice(&v.to_le_bytes());
    }
    buf.extend_from_slice(&fixed);
    buf.extend_from_slice(shared);
    buf.extend_from_slice(rest);
}

/// How a metric's points are carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Gauge,
    /// A cumulative sum, monotonic or not.
    Sum {
        monotonic: bool,
    },
}

/// One metric with its points already encoded by [`put_point`].
pub struct EncodedMetric<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub unit: &'a str,
    pub shape: Shape,
    pub points: &'a [u8],
}

impl EncodedMetric<'_> {
    /// Length of the `Gauge` or `Sum` message.
    fn data_len(&self) -> usize {
        match self.shape {
            Shape::Gauge => self.points.len(),
            // aggregation_temporality = 2 (CUMULATIVE = 2), is_monotonic = 3
            Shape::Sum { monotonic } => self.points.len() + 2 + if monotonic { 2 } else { 0 },
        }
    }

    fn len(&self) -> usize {
        str_field_len(self.name)
            + str_field_len(self.description)
            + str_field_len(self.unit)
            + field_len(self.data_len())
    }

    fn put(&self, buf: &mut Vec<u8>) {
        put_str(buf, 1, self.name);
        put_str(buf, 2, self.description);
        put_str(buf, 3, self.unit);
        // Metric.gauge = 5, Metric.sum = 7
        let field = if self.shape == Shape::Gauge { 5 } else { 7 };
        put_tag(buf, field, LEN);
        put_varint(buf, self.data_len() as u64);
        buf.extend_from_slice(self.points);
        if let Shape::Sum { monotonic } = self.shape {
            put_tag(buf, 2, VARINT);
            put_varint(buf, 2);
            if monotonic {
                put_tag(buf, 3, VARINT);
                put_varint(buf, 1);
            }
        }
    }
}

/// The lengths of an `ExportMetricsServiceRequest` with one resource and one scope: the whole
/// request and the two messages nested in it, each needed before its body is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestLen {
    pub request: usize,
    resource_metrics: usize,
    scope_metrics: usize,
}

/// Lengths of the request [`put_request`] writes with these arguments.
pub fn request_len(resource: &[u8], scope: &[u8], metrics: &[EncodedMetric]) -> RequestLen {
    let metrics_len: usize = metrics.iter().map(|m| field_len(m.len())).sum();
    let scope_metrics = field_len(scope.len()) + metrics_len;
    let resource_metrics = field_len(resource.len()) + field_len(scope_metrics);
    RequestLen { request: field_len(resource_metrics), resource_metrics, scope_metrics }
}

/// Appends an `ExportMetricsServiceRequest` with one resource (`resource`: an encoded
/// `Resource`) and one scope (`scope`: an encoded `InstrumentationScope`) carrying `metrics`;
/// `len` is [`request_len`] of the same arguments. The caller sizes `buf`, so it never grows.
pub fn put_request(
    buf: &mut Vec<u8>,
    len: RequestLen,
    resource: &[u8],
    scope: &[u8],
    metrics: &[EncodedMetric],
) {
    // ExportMetricsServiceRequest.resource_metrics = 1
    put_tag(buf, 1, LEN);
    put_varint(buf, len.resource_metrics as u64);
    // ResourceMetrics.resource = 1, .scope_metrics = 2
    put_bytes(buf, 1, resource);
    put_tag(buf, 2, LEN);
    put_varint(buf, len.scope_metrics as u64);
    // ScopeMetrics.scope = 1, .metrics = 2
    put_bytes(buf, 1, scope);
    for metric in metrics {
        put_tag(buf, 2, LEN);
        put_varint(buf, metric.len() as u64);
        metric.put(buf);
    }
}

/// The whole request in a buffer of its own, checked to be as long as [`request_len`] says.
#[cfg(test)]
pub fn request(resource: &[u8], scope: &[u8], metrics: &[EncodedMetric]) -> Vec<u8> {
    let len = request_len(resource, scope, metrics);
    let mut buf = Vec::with_capacity(len.request);
    put_request(&mut buf, len, resource, scope, metrics);
    assert_eq!(buf.len(), len.request, "as long as announced");
    buf
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        any_value, AnyValue, InstrumentationScope, KeyValue as ProtoKeyValue,
    };
    use opentelemetry_proto::tonic::metrics::v1::{
        metric::Data, number_data_point, AggregationTemporality, Gauge, Metric, NumberDataPoint,
        ResourceMetrics, ScopeMetrics, Sum,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;

    use super::*;
    use crate::series::encoded::encode;
    use opentelemetry::KeyValue;
    use prost::Message;

    fn proto_kv(key: &str, value: any_value::Value) -> ProtoKeyValue {
        ProtoKeyValue { key: key.into(), value: Some(AnyValue { value: Some(value) }), key_strindex: 0 }
    }

    #[test]
    fn decodes_as_the_same_request_prost_builds() {
        let long = "x".repeat(300);
        let shared = [KeyValue::new("name", long.clone()), KeyValue::new("n", 7_i64)];
        let rest = [KeyValue::new("phase", "Running"), KeyValue::new("ok", true)];
        let mut gauge_points = Vec::new();
        put_point(&mut gauge_points, &encode(&shared), &encode(&rest), (1, 2), 0.5);
        put_point(&mut gauge_points, &[], &encode(&rest[..1]), (1, 2), -3.0);
        let mut sum_points = Vec::new();
        put_point(&mut sum_points, &[], &[], (5, 6), 1e300);
        let resource = Resource {
            attributes: vec![proto_kv("service.name", any_value::Value::StringValue("k".into()))],
            ..Default::default()
        };
        let scope = InstrumentationScope { name: "kube-state-otel".into(), ..Default::default() };
        let bytes = request(
            &resource.encode_to_vec(),
            &scope.encode_to_vec(),
            &[
                EncodedMetric {
                    name: "g",
                    description: "a gauge",
                    unit: "1",
                    shape: Shape::Gauge,
                    points: &gauge_points,
                },
                EncodedMetric {
                    name: "s",
                    description: "",
                    unit: "",
                    shape: Shape::Sum { monotonic: true },
                    points: &sum_points,
                },
                EncodedMetric {
                    name: "u",
                    description: "d",
                    unit: "By",
                    shape: Shape::Sum { monotonic: false },
                    points: &sum_points,
                },
            ],
        );
        let point = |attributes, start, time, value| NumberDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: time,
            value: Some(number_data_point::Value::AsDouble(value)),
            ..Default::default()
        };
        let running = || proto_kv("phase", any_value::Value::StringValue("Running".into()));
        let gauge = vec![
            point(
                vec![
                    proto_kv("name", any_value::Value::StringValue(long.clone())),
                    proto_kv("n", any_value::Value::IntValue(7)),
                    running(),
                    proto_kv("ok", any_value::Value::BoolValue(true)),
                ],
                1,
                2,
                0.5,
            ),
            point(vec![running()], 1, 2, -3.0),
        ];
        let sum = |is_monotonic| {
            Some(Data::Sum(Sum {
                data_points: vec![point(vec![], 5, 6, 1e300)],
                aggregation_temporality: AggregationTemporality::Cumulative as i32,
                is_monotonic,
            }))
        };
        let metric = |name: &str, description: &str, unit: &str, data| Metric {
            name: name.into(),
            description: description.into(),
            unit: unit.into(),
            metadata: vec![],
            data,
        };
        let want = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: Some(resource),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(scope),
                    metrics: vec![
                        metric("g", "a gauge", "1", Some(Data::Gauge(Gauge { data_points: gauge }))),
                        metric("s", "", "", sum(true)),
                        metric("u", "d", "By", sum(false)),
                    ],
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            }],
        };
        assert_eq!(ExportMetricsServiceRequest::decode(&bytes[..]).unwrap(), want);
    }

    #[test]
    fn varint_lengths() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            assert_eq!(buf.len(), varint_len(v), "{v}");
        }
    }
}
