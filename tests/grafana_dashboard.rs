//! `deploy/grafana/kube-state-otel.json` queries only series the agent produces, under the names
//! the Collector's prometheus exporter (and the agent's `/metrics`) gives them: every metric name
//! comes from the nodes or etcd metric specs through the same translation, every label from
//! the rendered node series, the etcd attribute keys or the promoted resource attributes, and
//! every `$variable` is defined.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kube_state_otel::collectors::{etcd, nodes};
use kube_state_otel::exposition::{label_name, metric_name, MetricType};
use kube_state_otel::series::{InstrumentKind, MetricSpec};
use serde_json::Value;

const FUNCTIONS: &[&str] =
    &["sum", "count", "min", "max", "avg", "by", "rate", "increase", "label_values", "on", "group_left"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn prometheus_names(specs: Vec<MetricSpec>) -> Vec<String> {
    specs
        .iter()
        .map(|s| {
            let kind = match s.kind {
                InstrumentKind::Gauge => MetricType::Gauge,
                InstrumentKind::Counter => MetricType::Counter,
                InstrumentKind::UpDownCounter => MetricType::NonMonotonicSum,
            };
            metric_name(&s.name, &s.unit, kind)
        })
        .collect()
}

/// Label names on the node series `render` prints for the example nodes and pods.
fn rendered_node_labels() -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .args(["render", "--config"])
        .arg(root().join("config/kube-state-otel.yaml"))
        .arg("--objects")
        .arg(root().join("config/examples/nodes/objects.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut labels = BTreeSet::new();
    for line in text.lines().filter(|l| l.starts_with("k8s_")) {
        let inside = &line[line.find('{').unwrap() + 1..line.rfind('}').unwrap()];
        labels.extend(inside.split("\",").filter_map(|kv| kv.split('=').next()).map(str::to_owned));
    }
    labels
}

/// Removes `"..."` strings (label values, legends) so only identifiers remain.
fn strip_strings(expr: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in expr.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

/// (metric names, label names) used by a PromQL expression: identifiers inside `{...}` before
/// an operator and inside `by (...)` are labels; `[5m]` ranges are skipped; the rest that is not
/// a function or number is a metric name.
fn identifiers(expr: &str) -> (Vec<String>, Vec<String>) {
    let expr = strip_strings(expr);
    let (mut metrics, mut labels) = (Vec::new(), Vec::new());
    let mut chars = expr.char_indices().peekable();
    let mut in_braces = false;
    let mut in_grouping = false;
    let mut in_range = false;
    let mut in_label_values = false;
    let mut last_word = String::new();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            let word = expr[i..end].to_owned();
            if in_range {
            } else if in_braces || in_grouping {
                labels.push(word.clone());
            } else if !FUNCTIONS.contains(&word.as_str()) {
                metrics.push(word.clone());
            }
            last_word = word;
            continue;
        }
        match c {
            '{' => in_braces = true,
            '}' => in_braces = false,
            '[' => in_range = true,
            ']' => in_range = false,
            '(' if last_word == "by" || last_word == "on" || last_word == "group_left" => in_grouping = true,
            '(' if last_word == "label_values" => in_label_values = true,
            // label_values(metric, label): the second argument is a label.
            ',' if in_label_values && !in_braces => in_grouping = true,
            ')' => {
                in_grouping = false;
                in_label_values = false;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last_word.clear();
        }
    }
    (metrics, labels)
}

fn panels(value: &Value, out: &mut Vec<Value>) {
    for panel in value.as_array().into_iter().flatten() {
        out.push(panel.clone());
        panels(&panel["panels"], out);
    }
}

#[test]
fn the_dashboard_queries_only_series_the_agent_exports() {
    let path = root().join("deploy/grafana/kube-state-otel.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let mut known: BTreeSet<String> = prometheus_names(nodes::specs()).into_iter().collect();
    known.extend(prometheus_names(etcd::specs()));
    let mut labels = rendered_node_labels();
    labels.extend(etcd::ATTRIBUTE_KEYS.iter().map(|k| label_name(k)));
    // Resource attributes the Collector's exporter promotes (resource_to_telemetry_conversion).
    labels.insert(label_name("k8s.cluster.name"));
    assert!(labels.contains("k8s_node_name") && labels.contains("k8s_pod_status_phase"), "{labels:?}");

    let variables: BTreeSet<String> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    let mut queries: Vec<String> = dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v["query"]["query"].as_str().map(str::to_owned))
        .collect();
    let mut all = Vec::new();
    panels(&dashboard["panels"], &mut all);
    let mut ids = BTreeSet::new();
    let mut covered = BTreeSet::new();
    for panel in &all {
        assert!(ids.insert(panel["id"].as_u64().unwrap()), "duplicate panel id {}", panel["id"]);
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(queries.len() > 20, "{queries:?}");
    for query in &queries {
        for var in query.split('$').skip(1) {
            let name: String = var.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            assert!(variables.contains(&name), "${name} in {query} is not a dashboard variable");
        }
        let (metrics, used_labels) = identifiers(query);
        assert!(!metrics.is_empty(), "no metric in {query}");
        for metric in metrics {
            assert!(known.contains(&metric), "{metric} (in {query}) is not exported by the agent");
            covered.insert(metric);
        }
        for label in used_labels {
            assert!(labels.contains(&label), "label {label} (in {query}) is on no exported series");
        }
    }
    // The dashboard covers both collectors it is for.
    assert!(covered.iter().any(|m| m.starts_with("k8s_node_")), "{covered:?}");
    assert!(covered.iter().any(|m| m.starts_with("etcd_member_")), "{covered:?}");
}

#[test]
fn the_expression_reader_tells_metrics_from_labels() {
    let (metrics, labels) = identifiers(
        r#"sum by (a_b) (rate(etcd_watch_events_total{x=~"$v|y",z!="q"}[5m])) / on(k) group_left m_two"#,
    );
    assert_eq!(metrics, ["etcd_watch_events_total", "m_two"]);
    assert_eq!(labels, ["a_b", "x", "z", "k"]);
    let (metrics, labels) = identifiers(r#"label_values(up{job="a", c="d"}, instance)"#);
    assert_eq!(
        (metrics, labels),
        (vec!["up".to_owned()], vec!["job".to_owned(), "c".to_owned(), "instance".to_owned()])
    );
}
