//! Config errors found by `compile`, with their exact YAML paths, all reported together.

use super::plan::MetricKind;
use super::{compile_crds, CrdsConfig};
use crate::series::{Aggregation, MetricId};

fn issues(yaml: &str) -> Vec<String> {
    let config: CrdsConfig = serde_saphyr::from_str(yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"));
    match compile_crds(&config) {
        Ok(_) => vec![],
        Err(issues) => issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect(),
    }
}

/// Each wanted line must be a prefix of one issue, in order, and nothing else reported.
fn assert_issues(yaml: &str, want: &[&str]) {
    let got = issues(yaml);
    assert_eq!(got.len(), want.len(), "{yaml}\ngot: {got:#?}");
    for (g, w) in got.iter().zip(want) {
        assert!(g.starts_with(w), "got {g:?}\nwant {w:?}");
    }
}

const GVR: &str = "{group: g.io, version: v1, resource: things}";

fn with_metrics(metrics: &str) -> String {
    format!("metricsNamespace: ns\nresources:\n  - name: thing\n    gvr: {GVR}\n    commonLabels: {{name: metadata.name}}\n    metrics: {metrics}\n")
}

#[test]
fn a_valid_config_compiles_into_specs_and_kinds() {
    let yaml = with_metrics(
        "[{type: gauge, name: replicas, help: Desired replicas, unit: '{replica}', path: spec.replicas}, {type: count, name: by-phase, path: status.phase}, {type: conditions, name: condition, path: status.conditions}]",
    );
    let config: CrdsConfig = serde_saphyr::from_str(&yaml).unwrap();
    let resources = compile_crds(&config).unwrap();
    let r = &resources[0];
    assert_eq!(r.prefix, "ns.thing");
    assert_eq!(r.label_selector, None);
    let names: Vec<_> = r.specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["ns.thing.replicas", "ns.thing.by_phase", "ns.thing.condition"]);
    assert_eq!(r.specs[0].description, "Desired replicas");
    assert_eq!(r.specs[0].unit, "{replica}");
    assert_eq!(r.specs[0].aggregation, Aggregation::PerObject);
    assert_eq!(r.specs[1].aggregation, Aggregation::SumAcrossObjects);
    assert_eq!(r.metrics[2].id, MetricId(2));
    match &r.metrics[2].kind {
        MetricKind::Conditions { type_label, status_label, reason_label, .. } => {
            assert_eq!(
                [type_label.as_str(), status_label.as_str(), reason_label.as_str()],
                ["type", "status", "reason"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn reports_every_problem_with_its_path() {
    let yaml = format!(
        r#"
metricsNamespace: "9ns"
resources:
  - name: ok
    gvr: {GVR}
    namespaces: [prod, ""]
    commonLabels: {{name: metadata.name, "": metadata.uid, broken: "metadata..x", app.io/x: "a[0"}}
    metrics:
      - {{type: gauge, name: a, path: "status.x["}}
      - {{type: histogram, name: b, path: status.y}}
      - {{type: gauge, path: status.z}}
      - {{name: d, path: status.z}}
      - {{type: gauge, name: a, path: status.w}}
      - {{type: info, name: e, labels: {{name: spec.owner}}}}
      - {{type: state, name: f}}
  - name: ok
    gvr: {{group: g.io, resource: Things}}
    metrics: []
"#
    );
    assert_issues(
        &yaml,
        &[
            "collectors.crds.metricsNamespace: \"9ns\" must start with an ASCII letter",
            "collectors.crds.resources[0].namespaces[1]: empty namespace name",
            "collectors.crds.resources[0].commonLabels[\"\"]: empty attribute name",
            "collectors.crds.resources[0].commonLabels.broken: malformed path \"metadata..x\": expected a field name after '.' at position 10",
            "collectors.crds.resources[0].commonLabels[\"app.io/x\"]: malformed path \"a[0\": expected ']' at position 4",
            "collectors.crds.resources[0].metrics[0].path: malformed path \"status.x[\": expected an index",
            "collectors.crds.resources[0].metrics[1].type: unknown metric type \"histogram\"; expected one of info, state, string_state, gauge, count, map_state, map_gauge, conditions",
            "collectors.crds.resources[0].metrics[2].name: required",
            "collectors.crds.resources[0].metrics[3].type: required: the metric type, one of info, state,",
            "collectors.crds.resources[0].metrics[4].name: duplicate metric name \"9ns.ok.a\" (also collectors.crds.resources[0].metrics[0])",
            "collectors.crds.resources[0].metrics[5].labels.name: attribute \"name\" is already set by the resource's commonLabels",
            "collectors.crds.resources[0].metrics[6].path: required for state metrics",
            "collectors.crds.resources[1].name: duplicate resource name \"ok\" (also collectors.crds.resources[0])",
            "collectors.crds.resources[1].gvr.version: required",
            "collectors.crds.resources[1].gvr.resource: expected the lowercase plural resource name",
        ],
    );
}

#[test]
fn fields_must_fit_the_type() {
    let yaml = with_metrics(
        r#"[
  {type: gauge, name: a, path: spec.a, states: [A], valuePath: x, valueLabel: v, keyLabel: k, keyPath: k, typeLabel: t},
  {type: state, name: b, path: spec.b, nilIsZero: true, statusLabel: s, reasonLabel: r},
  {type: info, name: c, path: spec.c},
  {type: count, name: d, path: spec.d, labels: {x: spec.x}},
  {type: state, name: e, path: spec.e, states: []},
  {type: state, name: f, path: spec.f, states: [A, B, A]}
]"#,
    );
    let at = "collectors.crds.resources[0].metrics";
    let want = [
        format!("{at}[0].states: only used by state metrics, not by gauge"),
        format!("{at}[0].valueLabel: only used by state and count and map_state metrics"),
        format!("{at}[0].keyLabel: only used by map_state and map_gauge metrics"),
        format!("{at}[0].keyPath: only used by map_state and map_gauge metrics"),
        format!("{at}[0].valuePath: only used by map_state and map_gauge metrics"),
        format!("{at}[0].typeLabel: only used by conditions metrics"),
        format!("{at}[1].nilIsZero: only used by gauge and map_gauge metrics, not by state"),
        format!("{at}[1].statusLabel: only used by conditions metrics"),
        format!("{at}[1].reasonLabel: only used by conditions metrics"),
        format!("{at}[2].path: not used by info metrics"),
        format!("{at}[3].labels: count metrics carry only their valueLabel attribute"),
        format!("{at}[4].states: list at least one state"),
        format!("{at}[5].states[2]: duplicate state \"A\""),
    ];
    assert_issues(&yaml, &want.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn attribute_names_must_not_clash() {
    let yaml = with_metrics(
        r#"[
  {type: state, name: a, path: spec.a, valueLabel: name},
  {type: map_state, name: b, path: spec.b, keyLabel: k, valueLabel: k},
  {type: map_gauge, name: c, path: spec.c, keyLabel: owner, labels: {owner: spec.owner}},
  {type: conditions, name: d, path: status.conditions, reasonLabel: ""},
  {type: count, name: e, path: spec.e, valueLabel: name}
]"#,
    );
    let at = "collectors.crds.resources[0].metrics";
    let want = [
        format!("{at}[0].valueLabel: attribute \"name\" is already set by the resource's commonLabels"),
        format!("{at}[1].valueLabel: attribute \"k\" is already used by keyLabel"),
        format!("{at}[2].keyLabel: attribute \"owner\" is already set by this metric's labels"),
        format!("{at}[3].reasonLabel: empty attribute name"),
    ];
    assert_issues(&yaml, &want.iter().map(String::as_str).collect::<Vec<_>>());
}

#[test]
fn names_and_units_follow_opentelemetry_rules() {
    let long = "x".repeat(250);
    let yaml = with_metrics(&format!(
        "[{{type: gauge, name: 'bad name', path: spec.a}}, {{type: gauge, name: {long}, path: spec.a}}, {{type: gauge, name: ok, unit: 'µs', path: spec.a}}, {{type: gauge, name: 2xx, path: spec.a}}]"
    ));
    let at = "collectors.crds.resources[0].metrics";
    let want = [
        format!("{at}[0].name: \"bad name\" contains ' '"),
        format!("{at}[1].name: instrument name \"ns.thing.xxx"),
        format!("{at}[2].unit: unit \"µs\" must be ASCII"),
    ];
    assert_issues(&yaml, &want.iter().map(String::as_str).collect::<Vec<_>>());
    // Without a namespace the resource name comes first and must start with a letter.
    assert_issues(
        &format!("resources:\n  - {{name: 1st, gvr: {GVR}, metrics: []}}\n"),
        &["collectors.crds.resources[0].name: \"1st\" must start with an ASCII letter"],
    );
    assert_issues(
        &format!("resources:\n  - {{name: '', gvr: {GVR}}}\n  - {{name: x, gvr: {{version: v1, resource: xs, kind: ''}}}}\n"),
        &["collectors.crds.resources[0].name: required", "collectors.crds.resources[1].gvr.kind: empty kind"],
    );
}

#[test]
fn selection_keys_are_checked_with_their_paths() {
    let at = "collectors.crds.resources[0]";
    let resource = |fields: &str| format!("resources:\n  - {{name: x, {fields}, metrics: []}}\n");
    assert_issues(
        &resource(&format!("gvr: {GVR}, labelSelector: 'tier in (a,', fieldSelector: 'metadata.name'")),
        &[
            &format!("{at}.labelSelector: malformed label selector \"tier in (a,\": column 12: expected `,` or `)`"),
            &format!("{at}.fieldSelector: malformed field selector \"metadata.name\": column 14"),
        ],
    );
    assert_issues(
        &resource(&format!("gvr: {GVR}, gvk: {{version: v1, kind: Thing}}, namespaces: ['a-[']")),
        &[
            &format!("{at}.gvk: give either gvr or gvk, not both"),
            &format!("{at}.namespaces[0]: malformed namespace glob"),
        ],
    );
    assert_issues(
        &resource("gvk: {group: g.io, kind: ''}, maxSeries: 0"),
        &[
            &format!("{at}.gvk.version: required"),
            &format!("{at}.gvk.kind: expected a kind"),
            &format!("{at}.maxSeries: must be at least 1"),
        ],
    );
}

#[test]
fn gvk_guesses_the_plural_and_common_labels_default_to_the_identity() {
    let yaml = "resources:\n  - name: pvc\n    gvk: {version: v1, kind: PersistentVolumeClaim}\n    excludeNamespaces: [kube-system]\n  - name: none\n    gvr: {version: v1, resource: pods}\n    commonLabels: {}\n";
    let config: CrdsConfig = serde_saphyr::from_str(yaml).unwrap();
    let resources = compile_crds(&config).unwrap();
    let pvc = &resources[0];
    assert!(pvc.by_kind);
    assert_eq!(pvc.gvr.resource, "persistentvolumeclaims");
    assert_eq!(pvc.gvr.kind.as_deref(), Some("PersistentVolumeClaim"));
    assert_eq!(pvc.namespaces.mode(), super::namespaces::WatchMode::Filtered);
    let path_of = |source: &super::plan::LabelSource| match source {
        super::plan::LabelSource::Path(path) => path.to_string(),
        super::plan::LabelSource::Field(_, name) => format!("field:{name}"),
    };
    let identity: Vec<_> = pvc.common_labels.iter().map(|l| (l.name.as_str(), path_of(&l.source))).collect();
    assert_eq!(
        identity,
        [("name", "metadata.name".to_owned()), ("namespace", "metadata.namespace".to_owned())]
    );
    assert!(resources[1].common_labels.is_empty());
    assert!(!resources[1].by_kind);
}
