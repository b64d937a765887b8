//! The shipped alert rules: `deploy/prometheus/rules.yaml` passes `promtool check rules`, its
//! unit tests (`tests/fixtures/alert_rules_test.yaml`) pass `promtool test rules`, every metric
//! and label a rule (or a unit-test input series) names is one the agent exports under the
//! Collector's prometheus exporter names, and the Prometheus Operator and VictoriaMetrics
//! Operator overlays carry the same groups as a PrometheusRule and a VMRule that
//! `kubectl kustomize` renders.

#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/promql.rs"]
mod promql;
#[path = "support/self_metrics.rs"]
mod self_metrics;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use kube_state_otel::collectors::declared_metrics;
use promql::{identifiers, label_names, prometheus_names};
use serde_json::Value;

const RULES: &str = "deploy/prometheus/rules.yaml";
const RULE_TESTS: &str = "tests/fixtures/alert_rules_test.yaml";
const PROMETHEUS_OPERATOR_OVERLAY: &str = "deploy/kubernetes/overlays/prometheus-operator";
const VICTORIAMETRICS_OPERATOR_OVERLAY: &str = "deploy/kubernetes/overlays/victoriametrics-operator";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml(relative: &str) -> Value {
    serde_saphyr::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// Runs promtool from the repository root; a missing promtool fails the test, naming it.
fn promtool(args: &[&str]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run promtool (Debian package `prometheus`): {e}"));
    let text =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "promtool {} failed:\n{text}", args.join(" "));
    text
}

fn rules(groups: &Value) -> Vec<&Value> {
    groups.as_array().expect("groups is a list").iter().flat_map(|g| g["rules"].as_array().unwrap()).collect()
}

/// Every exported Prometheus metric name with the label names its series carry.
fn exported() -> BTreeMap<String, BTreeSet<String>> {
    let mut metrics = self_metrics::documented();
    for (_, declarations) in declared_metrics() {
        for (declaration, name) in declarations.iter().zip(prometheus_names(declarations)) {
            metrics.insert(name, label_names(std::slice::from_ref(declaration)));
        }
    }
    metrics
}

/// What is wrong with `expr`: metrics not exported, labels none of its metrics carry.
fn unknown_names(expr: &str, exported: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let (metrics, labels) = identifiers(expr);
    let mut wrong: Vec<String> = metrics
        .iter()
        .filter(|m| !exported.contains_key(*m))
        .map(|m| format!("metric {m} in `{expr}`"))
        .collect();
    let carried: BTreeSet<&String> = metrics.iter().filter_map(|m| exported.get(m)).flatten().collect();
    wrong.extend(labels.iter().filter(|l| !carried.contains(l)).map(|l| format!("label {l} in `{expr}`")));
    wrong
}

#[test]
fn promtool_accepts_the_rules() {
    let out = promtool(&["check", "rules", RULES]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn promtool_unit_tests_pass() {
    let out = promtool(&["test", "rules", RULE_TESTS]);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_rule_has_for_severity_summary_and_description() {
    let groups = yaml(RULES)["groups"].clone();
    let names: Vec<&str> = groups.as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kube-state-otel.etcd", "kube-state-otel.nodes", "kube-state-otel.agent"]);
    for rule in rules(&groups) {
        let alert = rule["alert"].as_str().unwrap_or_else(|| panic!("only alerting rules: {rule}"));
        assert!(rule["for"].is_string(), "{alert} has no `for`");
        assert!(
            ["critical", "warning", "info"]
                .contains(&rule["labels"]["severity"].as_str().unwrap_or_default()),
            "{alert}: severity label"
        );
        for annotation in ["summary", "description"] {
            assert!(rule["annotations"][annotation].is_string(), "{alert} has no {annotation}");
        }
    }
}

#[test]
fn every_alert_fires_in_the_unit_tests_and_one_stays_quiet() {
    let alerts: BTreeSet<String> =
        rules(&yaml(RULES)["groups"]).iter().map(|r| r["alert"].as_str().unwrap().to_owned()).collect();
    let tests = yaml(RULE_TESTS);
    let cases: Vec<&Value> = tests["tests"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().unwrap())
        .collect();
    let non_empty = |c: &&&Value| c["exp_alerts"].as_array().is_some_and(|a| !a.is_empty());
    let fired: BTreeSet<String> =
        cases.iter().filter(non_empty).map(|c| c["alertname"].as_str().unwrap().to_owned()).collect();
    let missing: Vec<_> = alerts.difference(&fired).collect();
    assert!(missing.is_empty(), "no unit test expects these to fire: {missing:?}");
    assert!(cases.iter().any(|c| c["exp_alerts"].as_array().is_some_and(Vec::is_empty)), "no quiet case");
}

#[test]
fn rules_query_only_exported_metrics_and_labels() {
    let exported = exported();
    // The translation the rules rely on: unit and type suffixes.
    for name in [
        "etcd_member_up_ratio",
        "etcd_member_db_size_bytes",
        "k8s_node_condition_status",
        "kube_state_otel_export_points_total",
        "kube_state_otel_collector_ready_ratio",
    ] {
        assert!(exported.contains_key(name), "{name} not in {:?}", exported.keys());
    }
    let mut wrong = Vec::new();
    let mut used = BTreeSet::new();
    for rule in rules(&yaml(RULES)["groups"]) {
        let expr = rule["expr"].as_str().unwrap();
        wrong.extend(unknown_names(expr, &exported));
        let (metrics, _) = identifiers(expr);
        let carried: BTreeSet<&String> = metrics.iter().filter_map(|m| exported.get(m)).flatten().collect();
        // Annotations print labels of the alerting series: each must be carried by its metrics.
        for text in rule["annotations"].as_object().unwrap().values().filter_map(Value::as_str) {
            for piece in text.split("$labels.").skip(1) {
                let label: String =
                    piece.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !carried.contains(&label) {
                    wrong.push(format!("label {label} in the annotations of {}", rule["alert"]));
                }
            }
        }
        used.extend(metrics);
    }
    assert!(wrong.is_empty(), "not exported by the agent:\n{}", wrong.join("\n"));
    assert!(used.len() >= 14, "{used:?}");
}

#[test]
fn unit_test_inputs_are_exported_series() {
    let exported = exported();
    let mut wrong = Vec::new();
    for test in yaml(RULE_TESTS)["tests"].as_array().unwrap() {
        for input in test["input_series"].as_array().unwrap() {
            wrong.extend(unknown_names(input["series"].as_str().unwrap(), &exported));
        }
    }
    assert!(wrong.is_empty(), "unit-test inputs the agent does not export:\n{}", wrong.join("\n"));
}

/// The operators' rule objects: (overlay, file, apiVersion, kind).
const OPERATOR_RULES: [(&str, &str, &str, &str); 2] = [
    (PROMETHEUS_OPERATOR_OVERLAY, "prometheusrule.yaml", "monitoring.coreos.com/v1", "PrometheusRule"),
    (VICTORIAMETRICS_OPERATOR_OVERLAY, "vmrule.yaml", "operator.victoriametrics.com/v1beta1", "VMRule"),
];

#[test]
fn the_operator_rule_objects_hold_the_same_groups_and_render() {
    let groups = yaml(RULES)["groups"].clone();
    for (overlay, file, api_version, kind) in OPERATOR_RULES {
        let file = format!("{overlay}/{file}");
        let shipped = yaml(&file);
        let rendered = manifests::kubectl_kustomize(Path::new(overlay));
        let rendered: Vec<&Value> = rendered.iter().filter(|o| o["kind"] == kind).collect();
        assert_eq!(rendered.len(), 1, "{overlay} renders one {kind}: {rendered:?}");
        for (origin, rule) in [(file.as_str(), &shipped), ("kubectl kustomize", rendered[0])] {
            assert_eq!(rule["apiVersion"], api_version, "{origin}");
            assert_eq!(rule["kind"], kind, "{origin}");
            assert_eq!(rule["metadata"]["name"], "kube-state-otel", "{origin}");
            assert!(rule["metadata"]["labels"].is_object(), "{origin}: labels for a ruleSelector");
            let spec = rule["spec"].as_object().expect("spec");
            assert_eq!(spec.keys().collect::<Vec<_>>(), ["groups"], "{origin}");
            assert!(
                spec["groups"] == groups,
                "{origin}: spec.groups differs from {RULES}; copy the groups again"
            );
        }
        assert_eq!(rendered[0]["metadata"]["namespace"], "monitoring");
    }
}

#[test]
fn the_etcd_rules_are_conditions_of_the_etcd_alert_table() {
    let page = read("docs/etcd.md");
    let start = page.find("## What to alert on").expect("docs/etcd.md has its alert table");
    let section = &page[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |end| end + 3)];
    let groups = yaml(RULES)["groups"].clone();
    let etcd = groups.as_array().unwrap().iter().find(|g| g["name"] == "kube-state-otel.etcd").unwrap();
    for rule in etcd["rules"].as_array().unwrap() {
        for metric in identifiers(rule["expr"].as_str().unwrap()).0 {
            assert!(
                section.contains(&format!("`{metric}")) || section.contains(&format!("({metric}")),
                "{}: {metric} is in no condition of docs/etcd.md's alert table",
                rule["alert"]
            );
        }
    }
}
