//! Never a panic on a source's spec: any JSON, or a valid spec with any key replaced by any
//! JSON, compiles or gives errors, each at a path inside `spec` (or `metadata.namespace`).

use kube_state_otel_testkit::arbitrary::{cases, json_value};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::kinds::SourceKind;
use super::spec::{compile_source, SourceObject};

fn source(kind: SourceKind, spec: Value) -> SourceObject {
    SourceObject::from_value(kind, &json!({"metadata": {"name": "s", "namespace": "team-a"}, "spec": spec}))
}

fn valid() -> Value {
    json!({"name": "w", "gvr": {"group": "example.com", "version": "v1", "resource": "widgets"},
        "metrics": [{"type": "gauge", "name": "size", "path": "spec.size"}],
        "aggregations": [{"name": "n", "function": "count"}], "metricsNamespace": "p"})
}

fn checked(object: &SourceObject) -> Result<(), TestCaseError> {
    if let Err(issues) = compile_source(object, 10) {
        prop_assert!(!issues.is_empty());
        for issue in issues.iter() {
            let inside = issue.path == "spec" || issue.path.starts_with("spec.");
            prop_assert!(inside || issue.path == "metadata.namespace", "{issue}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn any_spec_compiles_or_names_its_paths(spec in json_value(), cluster in any::<bool>()) {
        let kind = if cluster { SourceKind::Cluster } else { SourceKind::Namespaced };
        checked(&source(kind, spec))?;
    }

    #[test]
    fn any_value_at_any_key_compiles_or_names_its_paths(key in 0usize..4, value in json_value(), cluster in any::<bool>()) {
        let kind = if cluster { SourceKind::Cluster } else { SourceKind::Namespaced };
        let mut spec = valid();
        let name = ["name", "gvr", "metrics", "metricsNamespace"][key];
        spec[name] = value;
        checked(&source(kind, spec))?;
    }
}
