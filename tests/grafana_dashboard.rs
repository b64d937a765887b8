//! The Grafana dashboards in `deploy/grafana/` (nodes and etcd; custom resources and the
//! agent) query only series the agent produces, under the names the Collector's prometheus
//! exporter (and the agent's `/metrics`) gives them: every metric name comes from the
//! collectors' metric declarations or the agent's own metrics through the same translation,
//! every label from the rendered node series, the declared attribute keys, the self-metrics'
//! attributes or the promoted resource attributes, and every `$variable` is defined.

#[path = "support/promql.rs"]
mod promql;
#[path = "support/self_metrics.rs"]
mod self_metrics;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use kube_state_otel::collectors::declared_metrics;
use kube_state_otel::exposition::label_name;
use promql::{identifiers, label_names, prometheus_names};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
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

fn panels(value: &Value, out: &mut Vec<Value>) {
    for panel in value.as_array().into_iter().flatten() {
        out.push(panel.clone());
        panels(&panel["panels"], out);
    }
}

/// Every exported Prometheus metric name, and every label name a series can carry.
fn exported() -> (BTreeSet<String>, BTreeSet<String>) {
    let mut known = BTreeSet::new();
    let mut labels = rendered_node_labels();
    for (_, declarations) in declared_metrics() {
        known.extend(prometheus_names(declarations));
        labels.extend(label_names(declarations));
    }
    for (name, self_labels) in self_metrics::documented() {
        known.insert(name);
        labels.extend(self_labels);
    }
    // Resource attributes the Collector's exporter promotes (resource_to_telemetry_conversion);
    // `job` and `instance` come from service.name and service.instance.id on both paths, `le`
    // is a histogram's bucket bound.
    labels.insert(label_name("k8s.cluster.name"));
    labels.extend(["job", "instance", "le"].map(String::from));
    assert!(labels.contains("k8s_node_name") && labels.contains("k8s_pod_status_phase"), "{labels:?}");
    (known, labels)
}

/// Checks the dashboard `file` and returns the metric names its queries use.
fn check_dashboard(file: &str) -> BTreeSet<String> {
    let path = root().join("deploy/grafana").join(file);
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (known, labels) = exported();

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
        assert!(ids.insert(panel["id"].as_u64().unwrap()), "{file}: duplicate panel id {}", panel["id"]);
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    assert!(queries.len() > 15, "{file}: {queries:?}");
    for query in &queries {
        for var in query.split('$').skip(1) {
            let name: String = var.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            assert!(variables.contains(&name), "{file}: ${name} in {query} is not a dashboard variable");
        }
        let (metrics, used_labels) = identifiers(query);
        assert!(!metrics.is_empty(), "{file}: no metric in {query}");
        for metric in metrics {
            assert!(known.contains(&metric), "{file}: {metric} (in {query}) is not exported by the agent");
            covered.insert(metric);
        }
        for label in used_labels {
            assert!(labels.contains(&label), "{file}: label {label} (in {query}) is on no exported series");
        }
    }
    covered
}

#[test]
fn the_nodes_and_etcd_dashboard_queries_only_series_the_agent_exports() {
    let covered = check_dashboard("kube-state-otel.json");
    // The dashboard covers both collectors it is for.
    assert!(covered.iter().any(|m| m.starts_with("k8s_node_")), "{covered:?}");
    assert!(covered.iter().any(|m| m.starts_with("etcd_member_")), "{covered:?}");
}

#[test]
fn the_custom_resources_and_agent_dashboard_shows_every_health_signal() {
    let covered = check_dashboard("kube-state-otel-agent.json");
    for metric in [
        "kube_state_otel_objects",
        "kube_state_otel_series",
        "kube_state_otel_series_collisions_total",
        "kube_state_otel_series_dropped_total",
        "kube_state_otel_extract_errors_total",
        "kube_state_otel_watch_events_total",
        "kube_state_otel_export_points_total",
        "kube_state_otel_export_failures_total",
        "kube_state_otel_export_buffered",
        "kube_state_otel_export_dropped_total",
        "kube_state_otel_config_reloads_total",
        "kube_state_otel_leader_ratio",
        "kube_state_otel_collector_up_ratio",
        "kube_state_otel_collector_ready_ratio",
    ] {
        assert!(covered.contains(metric), "the agent dashboard shows no {metric}: {covered:?}");
    }
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
    let (metrics, labels) = identifiers("a_bytes > 1e9 and deriv(b_total[10m]) > 0.5");
    assert_eq!((metrics, labels), (vec!["a_bytes".to_owned(), "b_total".to_owned()], vec![]));
}
