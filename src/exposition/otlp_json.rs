//! OTLP/JSON (the OTLP specification's protobuf JSON mapping): camelCase field names, 64-bit
//! integers as decimal strings, enums as numbers, trace and span ids as hex.
//!
//! opentelemetry-proto's `with-serde` mapping already follows these rules; this module only
//! fixes the output shape (pretty, one document).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;

/// The request as an OTLP/JSON document, as sent to `/v1/metrics` with
/// `Content-Type: application/json`.
pub fn to_otlp_json(request: &ExportMetricsServiceRequest) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(request)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::metrics::v1::metric::Data;
    use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as PointValue;
    use opentelemetry_proto::tonic::metrics::v1::{
        AggregationTemporality, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    };
    use serde_json::{json, Value};

    use super::*;

    #[test]
    fn follows_the_otlp_json_mapping() {
        let request = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "etcd.watch.events".into(),
                        unit: "{event}".into(),
                        data: Some(Data::Sum(Sum {
                            data_points: vec![NumberDataPoint {
                                start_time_unix_nano: 1_700_000_000_000_000_001,
                                time_unix_nano: 1_700_000_030_000_000_002,
                                value: Some(PointValue::AsInt(9_007_199_254_740_993)),
                                ..Default::default()
                            }],
                            aggregation_temporality: AggregationTemporality::Cumulative as i32,
                            is_monotonic: true,
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let doc: Value = serde_json::from_str(&to_otlp_json(&request).unwrap()).unwrap();
        let sum = &doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["sum"];
        assert_eq!(sum["aggregationTemporality"], json!(2));
        assert_eq!(sum["isMonotonic"], json!(true));
        let point = &sum["dataPoints"][0];
        assert_eq!(point["startTimeUnixNano"], json!("1700000000000000001"));
        assert_eq!(point["timeUnixNano"], json!("1700000030000000002"));
        assert_eq!(point["asInt"], json!("9007199254740993"));
    }
}
