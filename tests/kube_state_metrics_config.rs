//! `collectors.crds.kubeStateMetrics` in the config: a document kube-state-metrics would refuse
//! is refused with the YAML path of each problem (inside `config`, or in the `configFile` with
//! the file's name); unknown keys inside the document are ignored as kube-state-metrics ignores
//! them, while the agent's own keys stay strict.

use kube_state_otel::config::{load_str, Env};

fn errors(text: &str) -> String {
    load_str(text, &Env::default()).map(|_| ()).expect_err("refused").to_string()
}

/// A config whose `collectors.crds.kubeStateMetrics.config` is `document`.
fn with_document(document: &str) -> String {
    format!("collectors:\n  crds:\n    kubeStateMetrics:\n      config:\n{}", indent(document, 8))
}

fn indent(text: &str, by: usize) -> String {
    text.lines().map(|l| format!("{:by$}{l}\n", "")).collect()
}

fn assert_has(err: &str, want: &str) {
    assert!(err.lines().any(|l| l.starts_with(want)), "missing {want:?} in:\n{err}");
}

const REFUSED: &str = "
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind: {group: myteam.io, version: v1, kind: Foo}
      metrics:
        - name: uptime
          each: {type: Gauge, gauge: {path: [status, uptime]}}
        - name: untyped
          each: {gauge: {path: [status, uptime]}}
        - name: gauge_without_gauge
          each: {type: Gauge}
        - name: bad_path
          each: {type: Info, info: {labelsFromPath: {cond: [status, conditions, \"[Ready]\"]}}}
    - groupVersionKind: {group: myteam.io, version: v2, kind: Foo}
      metrics:
        - name: other
          each: {type: stateset, stateSet: {path: [status, phase], list: [A]}}
";

#[test]
fn a_document_kube_state_metrics_refuses_is_refused_with_the_path_of_each_problem() {
    let err = errors(&with_document(REFUSED));
    let at = "collectors.crds.kubeStateMetrics.config.spec.resources";
    assert_has(&err, &format!("{at}[0].metrics[1].each.type (line "));
    assert!(err.contains("required: the metric type, Gauge, StateSet or Info"), "{err}");
    assert_has(&err, &format!("{at}[0].metrics[2].each.gauge"));
    assert_has(&err, &format!("{at}[0].metrics[3].each.info.labelsFromPath[\"cond\"]"));
    assert!(err.contains("invalid list lookup \"[Ready]\""), "{err}");
    assert_has(&err, &format!("{at}[1].groupVersionKind (line "));
    assert!(
        err.contains("duplicate resource: spec.resources[0] (group \"myteam.io\" kind \"Foo\") covers"),
        "{err}"
    );
    assert_has(&err, &format!("{at}[1].metrics[0].each.stateSet.labelName"));
    assert_eq!(err.lines().count(), 5, "{err}");
}

#[test]
fn a_wildcard_kind_overlapping_another_entry_is_a_duplicate() {
    let text = with_document(
        "
spec:
  resources:
    - groupVersionKind: {group: myteam.io, version: \"*\", kind: \"*\"}
      metrics: [{name: a_info, each: {type: Info, info: {labelsFromPath: {n: [metadata, name]}}}}]
    - groupVersionKind: {group: myteam.io, version: v1, kind: Foo}
      metrics: [{name: b_info, each: {type: Info, info: {labelsFromPath: {n: [metadata, name]}}}}]
    - groupVersionKind: {group: other.io, version: v1, kind: Foo}
      metrics: [{name: c_info, each: {type: Info, info: {labelsFromPath: {n: [metadata, name]}}}}]
",
    );
    let err = errors(&text);
    assert_has(&err, "collectors.crds.kubeStateMetrics.config.spec.resources[1].groupVersionKind");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn a_refused_document_file_is_named_with_the_path_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("crs.yaml");
    std::fs::write(&file, REFUSED).unwrap();
    let text = format!("collectors:\n  crds:\n    kubeStateMetrics:\n      configFile: {}\n", file.display());
    let err = errors(&text);
    let at = format!("collectors.crds.kubeStateMetrics.configFile (line 4, column 7): {}", file.display());
    assert_has(&err, &format!("{at}: spec.resources[0].metrics[1].each.type: required"));
    assert_has(&err, &format!("{at}: spec.resources[1].groupVersionKind: duplicate resource"));

    let missing = errors("collectors:\n  crds:\n    kubeStateMetrics: {configFile: /nonexistent/crs.yaml}\n");
    assert_has(&missing, "collectors.crds.kubeStateMetrics.configFile");
    assert!(missing.contains("cannot read /nonexistent/crs.yaml"), "{missing}");
}

#[test]
fn unknown_keys_inside_the_document_are_ignored_and_the_agent_keys_stay_strict() {
    let text = with_document(
        "
kind: CustomResourceStateMetrics
apiVersion: whatever/v1
spec:
  someFutureKey: 1
  resources:
    - groupVersionKind: {group: myteam.io, version: v1, kind: Foo}
      notAKsmKey: x
      errorLogV: 3
      metrics:
        - name: uptime
          each: {type: GAUGE, gauge: {path: [status, uptime], unknown: 1}}
",
    );
    let plan = load_str(&text, &Env::default()).unwrap();
    assert!(plan.config.collectors.crds.is_enabled(), "a document turns the collector on");

    // The document as text, as kube-state-metrics' --custom-resource-state-config flag takes it.
    let as_text =
        format!("collectors:\n  crds:\n    kubeStateMetrics:\n      config: |\n{}", indent(REFUSED, 8));
    assert_has(
        &errors(&as_text),
        "collectors.crds.kubeStateMetrics.config.spec.resources[0].metrics[1].each.type",
    );
    let text_ok = with_document("").replace("config:\n", "config: \"spec: {resources: []}\"\n");
    assert!(load_str(&text_ok, &Env::default()).is_ok(), "{text_ok}");
    let not_yaml = errors("collectors:\n  crds:\n    kubeStateMetrics: {config: \"spec: [\"}\n");
    assert_has(&not_yaml, "collectors.crds.kubeStateMetrics.config");
    assert!(not_yaml.contains("the document text"), "{not_yaml}");

    let strict = errors("collectors:\n  crds:\n    kubeStateMetrics: {configFil: x.yaml}\n");
    assert_has(&strict, "collectors.crds.kubeStateMetrics.configFil");
    let both = errors("collectors:\n  crds:\n    kubeStateMetrics: {configFile: x.yaml, config: {}}\n");
    assert_has(
        &both,
        "collectors.crds.kubeStateMetrics (line 3, column 5): give configFile or config, not both",
    );
}

#[test]
fn metric_names_the_exporters_would_change_are_refused() {
    let text = with_document(
        "
spec:
  resources:
    - groupVersionKind: {group: myteam.io, version: v1, kind: Foo}
      metricNamePrefix: my.team
      metrics:
        - name: uptime
          each: {type: Gauge, gauge: {path: [status, uptime]}}
",
    );
    let err = errors(&text);
    assert_has(&err, "collectors.crds.kubeStateMetrics.config.spec.resources[0].metrics[0].name");
    assert!(err.contains("\"my.team_uptime\""), "{err}");
}
