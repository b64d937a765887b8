//! kube-state-metrics' own unit cases (`registry_factory_test.go`: `Test_values`,
//! `Test_addPathLabels`, `Test_compiledFamily_BaseLabels`, `Test_fullName`), re-expressed over
//! the same custom resource: each `each` written as in a document, the same values expected.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::compile::compile_document;
use super::document::Document;
use super::family::KsmFamily;
use super::labels::{LabelSet, PathLabels};
use super::load::Origin;
use super::source::KsmSource;
use crate::config_parts::ConfigIssues;

/// The object of kube-state-metrics' `registry_factory_test.go`.
fn cr() -> Value {
    json!({
        "spec": {
            "replicas": 1,
            "version": "v0.0.0",
            "order": [{"id": 1, "value": true}, {"id": 3, "value": false}]
        },
        "status": {
            "active": {"type-a": 1, "type-b": 3},
            "phase": "foo",
            "sub": {"type-a": {"active": 1, "ready": 2}, "type-b": {"active": 3, "ready": 4}},
            "uptime": 43.21,
            "quantity_milli": "250m",
            "quantity_binarySI": "5Gi",
            "percentage": "28%",
            "condition_values": [{"name": "a", "value": 45}, {"name": "b", "value": 66}],
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Provisioned", "status": "False"}]
        },
        "metadata": {
            "name": "foo",
            "labels": {"foo": "bar"},
            "annotations": {"qux": "quxx", "bar": "baz"},
            "percentage": "39%",
            "creationTimestamp": "2022-06-28T00:00:00Z"
        }
    })
}

fn source() -> KsmSource {
    serde_json::from_value(json!({"config": {}})).unwrap()
}

/// The families of a one-resource document whose metrics are `metrics` (YAML).
fn families(resource_yaml: &str) -> Vec<KsmFamily> {
    let text = format!(
        "spec:\n  resources:\n    - groupVersionKind: {{group: myteam.io, version: v1, kind: Foo}}\n{}",
        resource_yaml.lines().map(|l| format!("      {l}\n")).collect::<String>()
    );
    let document: Document = serde_saphyr::from_str(&text).unwrap();
    let mut issues = ConfigIssues::new();
    let origin = Origin::Inline("config".into());
    let mut resources = compile_document(&document, &source(), &origin, &mut issues);
    assert!(issues.is_empty(), "{issues}");
    resources.remove(0).families
}

/// A value and its labels, sorted by name.
type Series = (f64, Vec<(String, String)>);

/// The values of a metric whose `each` is `each` (YAML flow map), sorted as kube-state-metrics
/// sorts them, as (value, labels) pairs; and the errors.
fn values(each: &str) -> (Vec<Series>, Vec<String>) {
    let family = families(&format!("metrics:\n  - name: m\n    each: {each}\n")).remove(0);
    let (values, errors) = family.values(&cr());
    let mut out: Vec<Series> =
        values.into_iter().map(|v| (v.value, v.labels.into_iter().collect())).collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    (out, errors)
}

fn series(pairs: &[(f64, &[(&str, &str)])]) -> Vec<Series> {
    pairs
        .iter()
        .map(|(v, labels)| (*v, labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
        .collect()
}

#[test]
fn test_values_cases_of_kube_state_metrics() {
    type Case = (&'static str, &'static str, &'static [(f64, &'static [(&'static str, &'static str)])]);
    let cases: &[Case] = &[
        ("single", "{type: Gauge, gauge: {path: [spec, replicas]}}", &[(1.0, &[])]),
        (
            "obj",
            "{type: Gauge, gauge: {path: [status, active], labelFromKey: type}}",
            &[(1.0, &[("type", "type-a")]), (3.0, &[("type", "type-b")])],
        ),
        (
            "deep obj",
            "{type: Gauge, gauge: {path: [status, sub], labelFromKey: type, labelsFromPath: {active: [active]}, valueFrom: [ready]}}",
            &[(2.0, &[("active", "1"), ("type", "type-a")]), (4.0, &[("active", "3"), ("type", "type-b")])],
        ),
        (
            "path-relative valueFrom value",
            "{type: Gauge, gauge: {path: [metadata], labelsFromPath: {name: [name]}, valueFrom: [creationTimestamp]}}",
            &[(1.6563744e9, &[("name", "foo")])],
        ),
        ("exist path but valueFrom non-existent single", "{type: Gauge, gauge: {path: [spec, replicas], valueFrom: [non-existent]}}", &[]),
        (
            "exist path but valueFrom non-existent array",
            "{type: Gauge, gauge: {path: [status, condition_values], labelsFromPath: {name: [name]}, valueFrom: [non-existent]}}",
            &[],
        ),
        (
            "array",
            "{type: Gauge, gauge: {path: [status, condition_values], labelsFromPath: {name: [name]}, valueFrom: [value]}}",
            &[(45.0, &[("name", "a")]), (66.0, &[("name", "b")])],
        ),
        ("timestamp", "{type: Gauge, gauge: {path: [metadata, creationTimestamp]}}", &[(1656374400.0, &[])]),
        ("quantity_milli", "{type: Gauge, gauge: {path: [status, quantity_milli]}}", &[(0.25, &[])]),
        ("quantity_binarySI", "{type: Gauge, gauge: {path: [status, quantity_binarySI]}}", &[(5.36870912e9, &[])]),
        ("percentage", "{type: Gauge, gauge: {path: [status, percentage]}}", &[(0.28, &[])]),
        (
            "path-relative valueFrom percentage",
            "{type: Gauge, gauge: {path: [metadata], labelsFromPath: {name: [name]}, valueFrom: [percentage]}}",
            &[(0.39, &[("name", "foo")])],
        ),
        ("boolean_string", "{type: Gauge, gauge: {path: [spec, paused], nilIsZero: true}}", &[(0.0, &[])]),
        ("info", "{type: Info, info: {labelsFromPath: {version: [spec, version]}}}", &[(1.0, &[("version", "v0.0.0")])]),
        ("info nil path", "{type: Info, info: {path: [does, not, exist]}}", &[]),
        (
            "info label from key",
            "{type: Info, info: {path: [status, active], labelFromKey: type}}",
            &[(1.0, &[("type", "type-a")]), (1.0, &[("type", "type-b")])],
        ),
        (
            "info label from path",
            "{type: Info, info: {path: [status, sub], labelsFromPath: {active: [active]}}}",
            &[(1.0, &[("active", "1")]), (1.0, &[("active", "3")])],
        ),
        (
            "stateset",
            "{type: StateSet, stateSet: {path: [status, phase], labelName: phase, list: [foo, bar]}}",
            &[(0.0, &[("phase", "bar")]), (1.0, &[("phase", "foo")])],
        ),
        ("stateset nil path", "{type: StateSet, stateSet: {path: [does, not, exist], labelName: phase, list: [foo, bar]}}", &[]),
        (
            "stateset nil valueFrom",
            "{type: StateSet, stateSet: {path: [status], valueFrom: [does, not, exist], labelName: phase, list: [foo, bar]}}",
            &[],
        ),
        ("status_conditions", "{type: Gauge, gauge: {path: [status, conditions, \"[type=Ready]\", status]}}", &[(1.0, &[])]),
        (
            "status_conditions_all",
            "{type: Gauge, gauge: {path: [status, conditions], labelsFromPath: {type: [type]}, valueFrom: [status]}}",
            &[(0.0, &[("type", "Provisioned")]), (1.0, &[("type", "Ready")])],
        ),
        (
            "= expression matching",
            "{type: Info, info: {labelsFromPath: {bar: [metadata, annotations, bar=baz]}}}",
            &[(1.0, &[("bar", "baz")])],
        ),
    ];
    for (name, each, want) in cases {
        let (got, errors) = values(each);
        assert_eq!(got, series(want), "{name}");
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn test_values_error_cases_of_kube_state_metrics() {
    let cases = [
        (
            "{type: Gauge, gauge: {path: [foo], labelsFromPath: {name: [name]}, valueFrom: [creationTimestamp]}}",
            "[foo]: got nil while resolving path",
        ),
        (
            "{type: StateSet, stateSet: {path: [spec, replicas], labelName: phase, list: [\"1\", \"2\"]}}",
            "[spec,replicas]: expected value for path to be string, got a number",
        ),
        (
            "{type: StateSet, stateSet: {path: [status], valueFrom: [uptime], labelName: phase, list: [foo, bar]}}",
            "[status,uptime]: expected value for path to be string, got a number",
        ),
    ];
    for (each, want) in cases {
        let (got, errors) = values(each);
        assert!(got.is_empty(), "{each}: {got:?}");
        assert_eq!(errors, [want], "{each}");
    }
    // errorLogV above 0 silences them, as kube-state-metrics at its default verbosity.
    let quiet =
        families("errorLogV: 2\nmetrics:\n  - name: m\n    each: {type: Gauge, gauge: {path: [foo]}}\n");
    assert_eq!(quiet[0].values(&cr()).1, Vec::<String>::new());
}

fn path_labels(pairs: &[(&str, &[&str])]) -> PathLabels {
    let map: BTreeMap<String, Vec<String>> =
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect();
    PathLabels::compile(&map).unwrap()
}

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[test]
fn test_add_path_labels_cases_of_kube_state_metrics() {
    let object = cr();
    let mut got = LabelSet::new();
    path_labels(&[
        ("bool", &["spec", "order", "-1", "value"]),
        ("number", &["spec", "replicas"]),
        ("string", &["metadata", "labels", "foo"]),
    ])
    .add(Some(&object), &mut got);
    assert_eq!(got, labels(&[("bool", "false"), ("number", "1"), ("string", "bar")]));

    let mut got = LabelSet::new();
    path_labels(&[
        ("*1", &["metadata", "annotations"]),
        ("bar", &["metadata", "labels", "foo"]),
        ("label_object_*", &["metadata", "annotations"]),
    ])
    .add(Some(&object), &mut got);
    let want = [("qux", "quxx"), ("bar", "bar"), ("label_object_qux", "quxx"), ("label_object_bar", "baz")];
    assert_eq!(got, labels(&want));

    let mut got = LabelSet::new();
    path_labels(&[("idx", &["spec", "order", "5"])]).add(Some(&object), &mut got);
    assert!(got.is_empty(), "an index past the end resolves to nothing: {got:?}");
}

#[test]
fn base_labels_and_full_names_of_kube_state_metrics() {
    let family = families(
        "commonLabels: {hello: world}\nlabelsFromPath: {foo: [metadata, annotations, bar]}\n\
         metrics:\n  - name: m\n    each: {type: Info, info: {labelsFromPath: {v: [spec, version]}}}\n",
    )
    .remove(0);
    let (values, _) = family.values(&cr());
    assert_eq!(values[0].labels, labels(&[("foo", "baz"), ("hello", "world"), ("v", "v0.0.0")]));

    let name = |prefix: &str| {
        families(&format!("{prefix}metrics:\n  - name: count\n    each: {{type: Info, info: {{}}}}\n"))[0]
            .name
            .clone()
    };
    assert_eq!(name(""), "kube_customresource_count");
    assert_eq!(name("metricNamePrefix: \"\"\n"), "count");
    assert_eq!(name("metricNamePrefix: bar_baz\n"), "bar_baz_count");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The few keys paths and objects share, so that random paths often resolve.
    const KEYS: [&str; 3] = ["a", "b", "k"];

    /// Objects of those keys, with the values kube-state-metrics converts in every way.
    fn object() -> impl Strategy<Value = Value> {
        let text =
            prop::sample::select(vec!["1", "true", "No", "5Gi", "28%", "2024-01-01T00:00:00Z", "x", ""]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i32>().prop_map(|i| json!(i)),
            (-1e9f64..1e9).prop_map(|f| json!(f)),
            text.prop_map(|t| json!(t)),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..3)
                    .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
            ]
        })
    }

    /// Path segments of every step kind over those keys.
    fn path() -> impl Strategy<Value = Vec<String>> {
        let segment = prop::sample::select(vec!["a", "b", "k", "0", "-1", "[k=1]", "[a=x]", "k=x"]);
        prop::collection::vec(segment.prop_map(str::to_owned), 0..3)
    }

    fn yaml(segments: &[String]) -> String {
        serde_json::to_string(segments).unwrap()
    }

    proptest! {
        /// Any object and any paths end in series and errors; never a panic, and every series
        /// carries the family's common labels.
        #[test]
        fn any_object_gives_series_or_errors(object in object(), p in path(), v in path(), l in path()) {
            let document = format!(
                "commonLabels: {{team: x}}\nmetrics:\n  \
                 - {{name: g, each: {{type: Gauge, gauge: {{path: {p}, valueFrom: {v}, labelFromKey: k, labelsFromPath: {{l: {l}, \"s_*\": {l}}}}}}}}}\n  \
                 - {{name: s, each: {{type: StateSet, stateSet: {{path: {p}, valueFrom: {v}, labelName: st, list: [a, b]}}}}}}\n  \
                 - {{name: i, each: {{type: Info, info: {{path: {p}, labelFromKey: k, labelsFromPath: {{l: {l}}}}}}}}}\n",
                p = yaml(&p), v = yaml(&v), l = yaml(&l)
            );
            for family in families(&document) {
                let (values, _errors) = family.values(&object);
                for value in values {
                    prop_assert_eq!(value.labels.get("team").map(String::as_str), Some("x"));
                }
            }
        }
    }
}
