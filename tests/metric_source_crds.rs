//! The shipped MetricSource and ClusterMetricSource CRDs are exactly what the generator makes
//! from the config types (`UPDATE_CRDS=1` rewrites the file), and they describe the config:
//! every `resources` entry key is a property of `spec` with a description. The overlay that
//! ships them renders with `kubectl kustomize`, passes `kubernetes-validate --strict`, and its
//! config passes `check` with metric sources on.

#[path = "support/check.rs"]
mod check;
#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/validate.rs"]
mod validate;

use std::path::PathBuf;

use serde_json::Value;

fn shipped() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/overlays/metric-sources/crds.yaml")
}

#[test]
fn the_shipped_crds_are_the_generated_ones() {
    let generated = kube_state_otel::collectors::crds::metric_source_crds_yaml();
    if std::env::var_os("UPDATE_CRDS").is_some() {
        std::fs::write(shipped(), &generated).unwrap();
    }
    let text = std::fs::read_to_string(shipped()).unwrap_or_default();
    assert!(
        text == generated,
        "{} is not what the config types generate; run `UPDATE_CRDS=1 cargo test --test metric_source_crds`",
        shipped().display()
    );
}

#[test]
fn the_spec_schema_has_every_key_of_a_resources_entry() {
    let crds: Vec<Value> =
        serde_saphyr::from_multiple(&kube_state_otel::collectors::crds::metric_source_crds_yaml()).unwrap();
    let names: Vec<&str> = crds.iter().map(|c| c["spec"]["names"]["kind"].as_str().unwrap()).collect();
    assert_eq!(names, ["MetricSource", "ClusterMetricSource"]);
    // A full entry, serialized with every key (defaults included), names each key once.
    let entry: kube_state_otel::collectors::crds::sources::ResourceConfig = serde_saphyr::from_str(
        "name: x\nmetrics: [{type: gauge, name: a, path: spec.a}]\naggregations: [{name: b, function: count}]\nfields: [{name: f, path: spec.f, type: string}]\ncomputed: [{name: c, expression: f}]\ngvk: {version: v1, kind: X}\ncommonLabels: {}\n",
    )
    .unwrap();
    let entry = serde_json::to_value(&entry).unwrap();
    for crd in &crds {
        let version = &crd["spec"]["versions"][0];
        assert_eq!(version["subresources"]["status"], serde_json::json!({}));
        let spec = &version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"];
        for (key, _) in entry.as_object().unwrap() {
            let description = spec[key]["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{}: spec.{key} is undocumented", names[0]);
        }
        let metric = &spec["metrics"]["items"]["properties"];
        for (key, _) in entry["metrics"][0].as_object().unwrap() {
            assert!(metric[key]["description"].is_string(), "spec.metrics[].{key} is undocumented");
        }
    }
}

#[test]
fn the_overlay_adds_the_crds_their_rbac_and_turns_them_on() {
    let objects =
        manifests::kubectl_kustomize(std::path::Path::new("deploy/kubernetes/overlays/metric-sources"));
    validate::validate_strict(&objects);
    let kinds = |kind: &'static str| objects.iter().filter(move |o| o["kind"] == kind);
    let crds: Vec<&str> =
        kinds("CustomResourceDefinition").filter_map(|o| o["metadata"]["name"].as_str()).collect();
    assert_eq!(crds.len(), 2, "{crds:?}");
    for name in ["metricsources.kube-state-otel.io", "clustermetricsources.kube-state-otel.io"] {
        assert!(crds.contains(&name), "{crds:?}");
    }
    for crd in kinds("CustomResourceDefinition") {
        assert!(crd["metadata"].get("namespace").is_none(), "a CRD has no namespace");
    }
    let role = kinds("ClusterRole")
        .find(|o| o["metadata"]["name"] == "kube-state-otel-metric-sources")
        .expect("the metric sources ClusterRole");
    let rules = role["rules"].to_string();
    assert!(rules.contains("metricsources/status") && rules.contains("patch"), "{role}");

    let config = kinds("ConfigMap").next().unwrap()["data"]["config.yaml"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    let summary = check::check_accepts(&path);
    assert!(summary.contains("crds/metricSources (MetricSources in all namespaces"), "{summary}");
}
