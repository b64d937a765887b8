//! OTLP metrics → Prometheus text exposition (0.0.4) and OpenMetrics text, as the Collector's
//! `prometheus` exporter serves them: translated names, `# HELP`/`# TYPE`, `job`/`instance`
//! from `service.name`/`service.instance.id`, the other resource attributes on `target_info`,
//! families sorted by name and series by labels. Like the Collector's exporter, it adds no
//! `otel_scope_*` labels.
//!
//! Only gauges and sums are translated (the agent produces nothing else). Delta sums are left
//! out: a scrape endpoint can only expose cumulative values.

use std::collections::BTreeMap;
use std::fmt::Write;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as AnyValueMsg, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as PointValue;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, NumberDataPoint};

use super::float;
use super::names::{label_name, metric_name, MetricType};

/// `Content-Type` of [`to_prometheus_text`].
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// `Content-Type` of [`to_openmetrics`].
pub const OPENMETRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

const TARGET_INFO: &str = "target_info";
const TARGET_INFO_HELP: &str = "Target metadata";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FamilyType {
    Gauge,
    Counter,
}

#[derive(Debug)]
struct Sample {
    /// Sorted by name.
    labels: Vec<(String, String)>,
    value: f64,
    /// Start time in seconds, for OpenMetrics' `_created` of counters.
    created: Option<f64>,
}

#[derive(Debug)]
struct Family {
    help: String,
    kind: FamilyType,
    samples: Vec<Sample>,
}

/// Prometheus text exposition format 0.0.4.
pub fn to_prometheus_text(request: &ExportMetricsServiceRequest) -> String {
    let mut out = String::new();
    for (name, family) in families(request) {
        let kind = match family.kind {
            FamilyType::Gauge => "gauge",
            FamilyType::Counter => "counter",
        };
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help, false));
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for sample in &family.samples {
            write_sample(&mut out, &name, &sample.labels, &float::text(sample.value));
        }
    }
    out
}

/// OpenMetrics text format 1.0: counter families are named without `_total` (their samples
/// keep it) and carry `_created`, and the exposition ends with `# EOF`.
pub fn to_openmetrics(request: &ExportMetricsServiceRequest) -> String {
    let mut out = String::new();
    for (name, family) in families(request) {
        let (base, kind) = match family.kind {
            FamilyType::Gauge => (name.as_str(), "gauge"),
            FamilyType::Counter => (name.strip_suffix("_total").unwrap_or(&name), "counter"),
        };
        let _ = writeln!(out, "# HELP {base} {}", escape_help(&family.help, true));
        let _ = writeln!(out, "# TYPE {base} {kind}");
        for sample in &family.samples {
            match family.kind {
                FamilyType::Gauge => {
                    write_sample(&mut out, base, &sample.labels, &float::openmetrics(sample.value))
                }
                FamilyType::Counter => {
                    let total = format!("{base}_total");
                    write_sample(&mut out, &total, &sample.labels, &float::openmetrics(sample.value));
                    if let Some(created) = sample.created {
                        let name = format!("{base}_created");
                        write_sample(&mut out, &name, &sample.labels, &float::openmetrics(created));
                    }
                }
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

/// Every family of the request by Prometheus name, samples sorted.
fn families(request: &ExportMetricsServiceRequest) -> BTreeMap<String, Family> {
    let mut families: BTreeMap<String, Family> = BTreeMap::new();
    for rm in &request.resource_metrics {
        let resource = rm.resource.as_ref().map(|r| r.attributes.as_slice()).unwrap_or_default();
        let target = TargetLabels::of(resource);
        if let Some(info) = target.info_labels(resource) {
            let family = families.entry(TARGET_INFO.into()).or_insert_with(|| Family {
                help: TARGET_INFO_HELP.into(),
                kind: FamilyType::Gauge,
                samples: Vec::new(),
            });
            // One per target (job and instance), as the Collector deduplicates resources.
            if !family.samples.iter().any(|s| s.labels == info) {
                family.samples.push(Sample { labels: info, value: 1.0, created: None });
            }
        }
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                let (points, kind, family_type) = match &metric.data {
                    Some(Data::Gauge(g)) => (&g.data_points, MetricType::Gauge, FamilyType::Gauge),
                    Some(Data::Sum(s))
                        if s.aggregation_temporality == AggregationTemporality::Cumulative as i32 =>
                    {
                        if s.is_monotonic {
                            (&s.data_points, MetricType::Counter, FamilyType::Counter)
                        } else {
                            (&s.data_points, MetricType::NonMonotonicSum, FamilyType::Gauge)
                        }
                    }
                    _ => continue,
                };
                let name = metric_name(&metric.name, &metric.unit, kind);
                let family = families.entry(name).or_insert_with(|| Family {
                    help: metric.description.clone(),
                    kind: family_type,
                    samples: Vec::new(),
                });
                for point in points {
                    family.samples.push(sample(point, &target, family_type));
                }
            }
        }
    }
    for family in families.values_mut() {
        family.samples.sort_by(|a, b| a.labels.cmp(&b.labels));
    }
    families
}

fn sample(point: &NumberDataPoint, target: &TargetLabels, kind: FamilyType) -> Sample {
    let mut labels = sanitized(&point.attributes);
    for (k, v) in target.job_instance() {
        labels.insert(k, v);
    }
    let value = match point.value {
        Some(PointValue::AsDouble(v)) => v,
        Some(PointValue::AsInt(v)) => v as f64,
        None => 0.0,
    };
    let created = (kind == FamilyType::Counter && point.start_time_unix_nano > 0)
        .then(|| point.start_time_unix_nano as f64 / 1e9);
    Sample { labels: labels.into_iter().collect(), value, created }
}

/// Attributes as labels; keys that sanitize to the same name have their values joined with
/// `;` in the order of the original keys, as the Collector does.
fn sanitized(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    let mut sorted: Vec<&KeyValue> = attributes.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    for kv in sorted {
        let value = value_text(kv.value.as_ref());
        labels
            .entry(label_name(&kv.key))
            .and_modify(|v| {
                v.push(';');
                v.push_str(&value);
            })
            .or_insert(value);
    }
    labels
}

/// `job` and `instance` from the resource, as the Collector derives them.
struct TargetLabels {
    job: Option<String>,
    instance: Option<String>,
}

impl TargetLabels {
    fn of(resource: &[KeyValue]) -> Self {
        let get = |key: &str| {
            resource
                .iter()
                .find(|kv| kv.key == key)
                .map(|kv| value_text(kv.value.as_ref()))
                .filter(|v| !v.is_empty())
        };
        let job = match (get("service.namespace"), get("service.name")) {
            (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
            (_, name) => name,
        };
        TargetLabels { job, instance: get("service.instance.id") }
    }

    fn job_instance(&self) -> impl Iterator<Item = (String, String)> + '_ {
        let job = self.job.clone().map(|j| ("job".to_owned(), j));
        let instance = self.instance.clone().map(|i| ("instance".to_owned(), i));
        job.into_iter().chain(instance)
    }

    /// `target_info`'s labels: the resource attributes other than the service identity, plus
    /// `job`/`instance`; none when nothing else is there.
    fn info_labels(&self, resource: &[KeyValue]) -> Option<Vec<(String, String)>> {
        let identity = ["service.name", "service.namespace", "service.instance.id"];
        let rest: Vec<KeyValue> =
            resource.iter().filter(|kv| !identity.contains(&kv.key.as_str())).cloned().collect();
        if rest.is_empty() {
            return None;
        }
        let mut labels = sanitized(&rest);
        labels.extend(self.job_instance());
        Some(labels.into_iter().collect())
    }
}

/// An attribute value as text (strings as they are, others as the Collector prints them).
fn value_text(value: Option<&AnyValueMsg>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        // String-table indices only occur in profiles, never in metrics.
        None | Some(AnyValue::StringValueStrindex(_)) => String::new(),
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(AnyValue::BytesValue(b)) => b.iter().map(|x| format!("{x:02x}")).collect(),
        Some(AnyValue::ArrayValue(a)) => {
            let items: Vec<String> = a.values.iter().map(|v| format!("{:?}", value_text(Some(v)))).collect();
            format!("[{}]", items.join(","))
        }
        Some(AnyValue::KvlistValue(l)) => {
            let items: Vec<String> = l
                .values
                .iter()
                .map(|kv| format!("{:?}:{:?}", kv.key, value_text(kv.value.as_ref())))
                .collect();
            format!("{{{}}}", items.join(","))
        }
    }
}

fn write_sample(out: &mut String, name: &str, labels: &[(String, String)], value: &str) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape_label_value(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn escape_label_value(v: &str) -> String {
    v.replace('\\', r"\\").replace('"', "\\\"").replace('\n', r"\n")
}

/// HELP text: `\` and newlines escaped; OpenMetrics escapes `"` too.
fn escape_help(help: &str, openmetrics: bool) -> String {
    let escaped = help.replace('\\', r"\\").replace('\n', r"\n");
    if openmetrics {
        escaped.replace('"', "\\\"")
    } else {
        escaped
    }
}

#[cfg(test)]
#[path = "prometheus_tests.rs"]
mod tests;
