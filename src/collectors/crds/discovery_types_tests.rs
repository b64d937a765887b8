use opentelemetry::KeyValue;
use serde_json::json;

use super::config_select::SelectConfig;
use super::discovery_types::{tag_points, type_attributes, ServedType, TypeSelection};
use crate::config_parts::ConfigIssues;
use crate::series::{MetricId, Point};

fn selection(yaml: &str) -> TypeSelection {
    let config: SelectConfig = serde_saphyr::from_str(yaml).unwrap();
    let mut issues = ConfigIssues::new();
    let selection = TypeSelection::compile(&config, "r.select", &mut issues);
    assert!(issues.is_empty(), "{issues}");
    selection
}

fn served(group: &str, version: &str, kind: &str) -> ServedType {
    ServedType {
        group: group.into(),
        version: version.into(),
        kind: kind.into(),
        plural: format!("{}s", kind.to_lowercase()),
        namespaced: true,
        verbs: vec!["get".into(), "list".into(), "watch".into()],
    }
}

fn ids(types: &[ServedType]) -> Vec<String> {
    types.iter().map(ServedType::id).collect()
}

#[test]
fn groups_and_kinds_match_by_name_and_glob_minus_exclusions() {
    let s = selection(
        "groups: ['*.fluxcd.io', cert-manager.io]\nexclude: [{group: source.toolkit.fluxcd.io, kind: Bucket}, {kind: '*Request'}]",
    );
    assert!(s.matches("kustomize.toolkit.fluxcd.io", "Kustomization"));
    assert!(s.matches("source.toolkit.fluxcd.io", "GitRepository"));
    assert!(!s.matches("source.toolkit.fluxcd.io", "Bucket"), "excluded by group and kind");
    assert!(s.matches("other.fluxcd.io", "Bucket"), "an exclusion needs both to match");
    assert!(s.matches("cert-manager.io", "Certificate"));
    assert!(!s.matches("cert-manager.io", "CertificateRequest"), "excluded in every group");
    assert!(!s.matches("fluxcd.io.evil.com", "Kustomization"));
    assert!(!s.matches("acme.cert-manager.io", "Order"), "exact names are exact");
    assert!(!s.matches("", "Pod"), "the core group only when listed as \"\"");

    let kinds = selection("groups: ['', apps]\nkinds: ['*Set', Pod]");
    assert!(
        kinds.matches("", "Pod")
            && kinds.matches("apps", "StatefulSet")
            && kinds.matches("apps", "ReplicaSet")
    );
    assert!(!kinds.matches("apps", "Deployment") && !kinds.matches("", "Service"));
}

#[test]
fn choose_sorts_skips_subresources_and_reports_unwatchable_types() {
    let s = selection("groups: ['*.example.com']");
    let mut status = served("b.example.com", "v1", "Widget");
    status.plural = "widgets/status".into();
    let mut unwatchable = served("a.example.com", "v1", "Review");
    unwatchable.verbs = vec!["create".into()];
    let choice = s.choose(&[
        served("b.example.com", "v1", "Widget"),
        status,
        served("a.example.com", "v1", "Gadget"),
        unwatchable,
        served("other.io", "v1", "Thing"),
    ]);
    assert_eq!(ids(&choice.watched), ["a.example.com/Gadget", "b.example.com/Widget"]);
    assert_eq!(ids(&choice.unwatchable), ["a.example.com/Review"]);
    assert!(choice.over_cap.is_empty());
}

#[test]
fn max_types_caps_the_watched_types_in_a_stable_order() {
    let s = selection("groups: [example.com]\nmaxTypes: 2");
    let types: Vec<ServedType> =
        ["D", "A", "C", "B"].iter().map(|k| served("example.com", "v1", k)).collect();
    let choice = s.choose(&types);
    assert_eq!(ids(&choice.watched), ["example.com/A", "example.com/B"]);
    assert_eq!(ids(&choice.over_cap), ["example.com/C", "example.com/D"]);
    assert_eq!(selection("groups: [x]").max_types(), 100, "the default cap");
}

#[test]
fn version_star_takes_any_served_version_and_an_exact_one_filters() {
    let star = selection("groups: [example.com]");
    assert_eq!(star.version(), None);
    assert!(star.matches_object(&json!({"apiVersion": "example.com/v1beta2", "kind": "A"})));
    let v1 = selection("groups: [example.com]\nversion: v1");
    assert_eq!(v1.version(), Some("v1"));
    assert!(v1.matches_object(&json!({"apiVersion": "example.com/v1", "kind": "A"})));
    assert!(!v1.matches_object(&json!({"apiVersion": "example.com/v1beta2", "kind": "A"})));
    assert_eq!(ids(&v1.choose(&[served("example.com", "v2", "A")]).watched), Vec::<String>::new());
    assert!(!star.matches_object(&json!({"kind": "A"})), "no apiVersion, no match");
    let core = selection("groups: ['']\nkinds: [ConfigMap]");
    assert!(core.matches_object(&json!({"apiVersion": "v1", "kind": "ConfigMap"})));
}

#[test]
fn bad_select_keys_are_reported_with_their_path() {
    let config: SelectConfig = serde_saphyr::from_str(
        "groups: []\nkinds: ['[a']\nversion: 'V 1'\nexclude: [{group: '{x'}]\nmaxTypes: 0\ndiscoveryPeriod: 100ms",
    )
    .unwrap();
    let mut issues = ConfigIssues::new();
    TypeSelection::compile(&config, "r.select", &mut issues);
    let text = issues.to_string();
    for expected in [
        "r.select.groups: required",
        "r.select.kinds[0]: malformed glob \"[a\"",
        "r.select.version:",
        "r.select.exclude[0].group: malformed glob",
        "r.select.maxTypes: must be at least 1",
        "r.select.discoveryPeriod: must be at least 1s",
    ] {
        assert!(text.contains(expected), "{expected} missing from\n{text}");
    }
    let unknown = serde_saphyr::from_str::<SelectConfig>("groups: [a]\nkind: [B]").unwrap_err().to_string();
    assert!(unknown.contains("kind"), "{unknown}");
}

#[test]
fn type_attributes_come_first_on_every_point() {
    let mut points = vec![Point::new(MetricId(0), vec![KeyValue::new("name", "a")], 1.0)];
    tag_points(&mut points, &type_attributes("cert-manager.io", "Certificate"));
    let keys: Vec<String> =
        points[0].attributes.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect();
    assert_eq!(keys, ["k8s.resource.group=cert-manager.io", "k8s.resource.kind=Certificate", "name=a"]);
    tag_points(&mut points, &[]);
    assert_eq!(points[0].attributes.len(), 3);
}
