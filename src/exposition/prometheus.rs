//! OTLP metrics → Prometheus text exposition (0.0.4) and OpenMetrics text, as the Collector's
//! `prometheus` exporter serves them: translated names, `# HELP`/`# TYPE`, `job`/`instance`
//! from `service.name`/`service.instance.id`, the other resource attributes on `target_info`,
//! families sorted by name and series by labels. Like the Collector's exporter, it adds no
//! `otel_scope_*` labels.
//!
//! Gauges, sums and explicit-bucket histograms are translated (the agent produces nothing
//! else). Delta sums and histograms are left out: a scrape endpoint can only expose cumulative
//! values.

use std::collections::BTreeMap;
use std::fmt::Write;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::{AnyValue as AnyValueMsg, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value as PointValue;
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, HistogramDataPoint, NumberDataPoint};

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
    Histogram,
}

impl FamilyType {
    fn name(self) -> &'static str {
        match self {
            FamilyType::Gauge => "gauge",
            FamilyType::Counter => "counter",
            FamilyType::Histogram => "histogram",
        }
    }
}

#[derive(Debug)]
struct Sample {
    /// Sorted by name.
    labels: Vec<(String, String)>,
    /// The value; for a histogram the sum of the observations.
    value: f64,
    /// Start time in seconds, for OpenMetrics' `_created` of counters and histograms.
    created: Option<f64>,
    /// Histograms only: cumulative count per upper bound, and the total count.
    buckets: Vec<(f64, u64)>,
    count: u64,
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
        let _ = writeln!(out, "# HELP {name} {}", escape_help(&family.help, false));
        let _ = writeln!(out, "# TYPE {name} {}", family.kind.name());
        for sample in &family.samples {
            if family.kind == FamilyType::Histogram {
                write_histogram(&mut out, &name, sample, float::text);
            } else {
                write_sample(&mut out, &name, &sample.labels, &float::text(sample.value));
            }
        }
    }
    out
}

/// `_bucket` per bound (cumulative, `le` last as Prometheus' clients write it, `+Inf` = the
/// count), `_sum` and `_count`.
fn write_histogram(out: &mut String, name: &str, sample: &Sample, format: fn(f64) -> String) {
    let bucket = format!("{name}_bucket");
    for (bound, cumulative) in sample.buckets.iter().chain([(f64::INFINITY, sample.count)].iter()) {
        let mut labels = sample.labels.clone();
        labels.push(("le".to_owned(), format(*bound)));
        write_sample(out, &bucket, &labels, &cumulative.to_string());
    }
    write_sample(out, &format!("{name}_sum"), &sample.labels, &format(sample.value));
    write_sample(out, &format!("{name}_count"), &sample.labels, &sample.count.to_string());
}

/// OpenMetrics text format 1.0: counter families are named without `_total` (their samples
/// keep it) and carry `_created`, and the exposition ends with `# EOF`.
pub fn to_openmetrics(request: &ExportMetricsServiceRequest) -> String {
    let mut out = String::new();
    for (name, family) in families(request) {
        let base = match family.kind {
            FamilyType::Counter => name.strip_suffix("_total").unwrap_or(&name),
            FamilyType::Gauge | FamilyType::Histogram => name.as_str(),
        };
        let _ = writeln!(out, "# HELP {base} {}", escape_help(&family.help, true));
        let _ = writeln!(out, "# TYPE {base} {}", family.kind.name());
        for sample in &family.samples {
            match family.kind {
                FamilyType::Gauge => {
                    write_sample(&mut out, base, &sample.labels, &float::openmetrics(sample.value));
                    continue;
                }
                FamilyType::Counter => {
                    let total = format!("{base}_total");
                    write_sample(&mut out, &total, &sample.labels, &float::openmetrics(sample.value));
                }
                FamilyType::Histogram => write_histogram(&mut out, base, sample, float::openmetrics),
            }
            if let Some(created) = sample.created {
                let name = format!("{base}_created");
                write_sample(&mut out, &name, &sample.labels, &float::openmetrics(created));
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
                family.samples.push(Sample {
                    labels: info,
                    value: 1.0,
                    created: None,
                    buckets: Vec::new(),
                    count: 0,
                });
            }
        }
        for sm in &rm.scope_metrics {
            for metric in &sm.metrics {
                let cumulative = AggregationTemporality::Cumulative as i32;
                if let Some(Data::Histogram(h)) = &metric.data {
                    if h.aggregation_temporality == cumulative {
                        let name = metric_name(&metric.name, &metric.unit, MetricType::Histogram);
                        let family = families.entry(name).or_insert_with(|| Family {
                            help: metric.description.clone(),
                            kind: FamilyType::Histogram,
                            samples: Vec::new(),
                        });
                        family.samples.extend(h.data_points.iter().map(|p| histogram_sample(p, &target)));
                    }
                    continue;
                }
                let (points, kind, family_type) = match &metric.data {
                    Some(Data::Gauge(g)) => (&g.data_points, MetricType::Gauge, FamilyType::Gauge),
                    Some(Data::Sum(s)) if s.aggregation_temporality == cumulative => {
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

fn point_labels(attributes: &[KeyValue], target: &TargetLabels) -> Vec<(String, String)> {
    let mut labels = sanitized(attributes);
    for (k, v) in target.job_instance() {
        labels.insert(k, v);
    }
    labels.into_iter().collect()
}

fn start_seconds(start_time_unix_nano: u64) -> Option<f64> {
    (start_time_unix_nano > 0).then(|| start_time_unix_nano as f64 / 1e9)
}

fn sample(point: &NumberDataPoint, target: &TargetLabels, kind: FamilyType) -> Sample {
    let value = match point.value {
        Some(PointValue::AsDouble(v)) => v,
        Some(PointValue::AsInt(v)) => v as f64,
        None => 0.0,
    };
    let created = if kind == FamilyType::Counter { start_seconds(point.start_time_unix_nano) } else { None };
    Sample { labels: point_labels(&point.attributes, target), value, created, buckets: Vec::new(), count: 0 }
}

/// Explicit bounds with cumulative counts; OTLP's last bucket (above every bound) is `+Inf`.
fn histogram_sample(point: &HistogramDataPoint, target: &TargetLabels) -> Sample {
    let mut cumulative = 0u64;
    let buckets = point
        .explicit_bounds
        .iter()
        .zip(&point.bucket_counts)
        .map(|(bound, count)| {
            cumulative += count;
            (*bound, cumulative)
        })
        .collect();
    Sample {
        labels: point_labels(&point.attributes, target),
        value: point.sum.unwrap_or(0.0),
        created: start_seconds(point.start_time_unix_nano),
        buckets,
        count: point.count,
    }
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
