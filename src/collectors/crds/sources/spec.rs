//! One source object → a compiled resource, with the config file's checks and error text; the
//! paths of its problems start at `spec` (or `metadata.namespace`, which names its metrics).

use serde::Deserialize;
use serde_json::{json, Value};

use super::kinds::{SourceKind, SourceRef};
use crate::collectors::crds::compile::compile_resource;
use crate::collectors::crds::config::ResourceConfig;
use crate::collectors::crds::plan::CompiledResource;
use crate::collectors::shared::instrument::validate_instrument_name;
use crate::config_parts::{deserialize_collecting, index, join, ConfigIssues};

/// A ClusterMetricSource's one key beyond a `resources` entry.
pub const METRICS_NAMESPACE_KEY: &str = "metricsNamespace";

/// A source object as the agent keeps it: what it needs to compile, order and report it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceObject {
    pub source: SourceRef,
    pub uid: String,
    pub generation: i64,
    /// `metadata.creationTimestamp` (RFC 3339, so it sorts as text): older sources win name
    /// conflicts.
    pub created: String,
    pub spec: Value,
    /// The status it carries, to skip writing the same again.
    pub status: Value,
}

impl SourceObject {
    pub fn from_value(kind: SourceKind, object: &Value) -> SourceObject {
        let text = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
        SourceObject {
            source: SourceRef::of(kind, object),
            uid: text("/metadata/uid"),
            generation: object.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(0),
            created: text("/metadata/creationTimestamp"),
            spec: object.get("spec").cloned().unwrap_or(Value::Null),
            status: object.get("status").cloned().unwrap_or(Value::Null),
        }
    }
}

/// A valid source: the resource it runs and the metric names it produces.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledSource {
    pub resource: CompiledResource,
    pub names: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SpecDocument {
    /// Defaulted so a structural error that can only be cured by dropping the whole spec (a key
    /// no path can address, as `""`) still leaves one to check.
    #[serde(default)]
    spec: Option<ResourceConfig>,
}

/// Compiles `object`; every problem is reported, each at its path.
pub fn compile_source(object: &SourceObject, max_objects: usize) -> Result<CompiledSource, ConfigIssues> {
    let mut issues = ConfigIssues::new();
    let mut spec = match &object.spec {
        Value::Object(fields) => fields.clone(),
        _ => {
            issues.push("spec", "required: a map, one entry of collectors.crds.resources");
            return Err(issues);
        }
    };
    let namespace = match (&object.source.kind, &object.source.namespace) {
        (SourceKind::Namespaced, Some(namespace)) => {
            checked_prefix(namespace, "metadata.namespace", &mut issues);
            namespace.clone()
        }
        _ => match spec.remove(METRICS_NAMESPACE_KEY) {
            None => String::new(),
            Some(Value::String(namespace)) => {
                checked_prefix(&namespace, &join("spec", METRICS_NAMESPACE_KEY), &mut issues);
                namespace
            }
            Some(other) => {
                issues.push(join("spec", METRICS_NAMESPACE_KEY), format!("expected a string, found {other}"));
                String::new()
            }
        },
    };
    let document = deserialize_collecting::<SpecDocument>(json!({"spec": spec}), |_| None, &mut issues);
    let Some(mut resource) = document.and_then(|d| d.spec) else {
        if issues.is_empty() {
            issues.push("spec", "required: a map, one entry of collectors.crds.resources");
        }
        return Err(issues);
    };
    if object.source.kind == SourceKind::Namespaced {
        confine(&mut resource, &namespace, &mut issues);
    }
    let prefix = namespace.replace('-', "_");
    let mut compiled = compile_resource(&resource, &prefix, "spec", &mut issues);
    if !issues.is_empty() {
        return Err(issues);
    }
    compiled.name = object.source.to_string();
    compiled.limits.objects = max_objects;
    let names = compiled.specs.iter().map(|s| s.name.clone()).collect();
    Ok(CompiledSource { resource: compiled, names })
}

fn checked_prefix(namespace: &str, at: &str, issues: &mut ConfigIssues) {
    let prefix = namespace.replace('-', "_");
    if !prefix.is_empty() {
        if let Err(e) = validate_instrument_name(&prefix) {
            issues.push(at, format!("{e} (the first part of the metric names)"));
        }
    }
}

/// A MetricSource reads its own namespace only: any other entry is refused, and the watch is
/// made in that namespace alone.
fn confine(resource: &mut ResourceConfig, own: &str, issues: &mut ConfigIssues) {
    for (i, entry) in resource.namespaces.iter().enumerate() {
        if entry.trim() != own {
            issues.push(
                index("spec.namespaces", i),
                format!(
                    "a MetricSource reads only its own namespace {own:?}, not {entry:?} \
                     (leave namespaces out, or ask for a ClusterMetricSource)"
                ),
            );
        }
    }
    if !resource.exclude_namespaces.is_empty() {
        issues.push(
            "spec.excludeNamespaces",
            format!("a MetricSource reads only its own namespace {own:?}; leave excludeNamespaces out"),
        );
    }
    resource.namespaces = vec![own.to_owned()];
    resource.exclude_namespaces.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: SourceKind, namespace: Option<&str>, spec: Value) -> SourceObject {
        let mut object = json!({"metadata": {"name": "widgets", "uid": "u1", "generation": 3,
            "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": spec});
        if let Some(ns) = namespace {
            object["metadata"]["namespace"] = json!(ns);
        }
        SourceObject::from_value(kind, &object)
    }

    fn widget_spec() -> Value {
        json!({"name": "widget", "gvr": {"group": "example.com", "version": "v1", "resource": "widgets"},
            "metrics": [{"type": "gauge", "name": "replicas", "path": "spec.replicas"}]})
    }

    fn messages(issues: &ConfigIssues) -> Vec<String> {
        issues.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_metric_source_is_named_after_its_namespace_and_confined_to_it() {
        let compiled =
            compile_source(&source(SourceKind::Namespaced, Some("team-a"), widget_spec()), 7).unwrap();
        assert_eq!(compiled.names, ["team_a.widget.replicas"]);
        assert_eq!(compiled.resource.name, "MetricSource/team-a/widgets");
        assert_eq!(compiled.resource.namespaces.exact(), ["team-a"]);
        assert_eq!(compiled.resource.limits.objects, 7);
    }

    #[test]
    fn a_cluster_metric_source_uses_its_metrics_namespace() {
        let mut spec = widget_spec();
        spec["metricsNamespace"] = json!("platform");
        spec["namespaces"] = json!(["prod-*"]);
        let compiled = compile_source(&source(SourceKind::Cluster, None, spec), 10).unwrap();
        assert_eq!(compiled.names, ["platform.widget.replicas"]);
        assert_eq!(compiled.resource.name, "ClusterMetricSource/widgets");
        let bare = compile_source(&source(SourceKind::Cluster, None, widget_spec()), 10).unwrap();
        assert_eq!(bare.names, ["widget.replicas"]);
    }

    #[test]
    fn errors_carry_their_path_inside_the_spec_with_the_config_file_text() {
        let mut spec = widget_spec();
        spec["namespaces"] = json!(["team-a", "team-b"]);
        spec["metrics"][0]["path"] = json!("spec..replicas");
        spec["metrics"].as_array_mut().unwrap().push(json!({"type": "gauge", "name": "x", "pth": "spec.x"}));
        let issues = compile_source(&source(SourceKind::Namespaced, Some("team-a"), spec), 10).unwrap_err();
        let messages = messages(&issues);
        assert!(messages[0].starts_with("spec.metrics[1].pth: unknown field `pth`"), "{messages:?}");
        assert!(messages.iter().any(|m| m.starts_with("spec.namespaces[1]: a MetricSource reads only")));
        assert!(messages.iter().any(|m| m.starts_with("spec.metrics[0].path: ")), "{messages:?}");

        // The same text as the config file gives for the same entry.
        let file = "collectors:\n  crds:\n    resources:\n      - name: widget\n        gvr: {group: example.com, version: v1, resource: widgets}\n        metrics:\n          - {type: gauge, name: replicas, path: spec..replicas}\n";
        let from_file = crate::config::load_str(file, &crate::config::Env::default()).unwrap_err();
        let file_message = from_file.iter().next().unwrap().message.clone();
        assert!(messages.iter().any(|m| m.ends_with(&file_message)), "{messages:?} vs {file_message}");
    }

    #[test]
    fn a_spec_that_is_no_map_or_a_bad_prefix_is_refused() {
        let issues = compile_source(&source(SourceKind::Cluster, None, json!("x")), 1).unwrap_err();
        assert_eq!(messages(&issues), ["spec: required: a map, one entry of collectors.crds.resources"]);
        let mut spec = widget_spec();
        spec["metricsNamespace"] = json!(3);
        let issues = compile_source(&source(SourceKind::Cluster, None, spec), 1).unwrap_err();
        assert_eq!(messages(&issues), ["spec.metricsNamespace: expected a string, found 3"]);
        let issues =
            compile_source(&source(SourceKind::Namespaced, Some("1team"), widget_spec()), 1).unwrap_err();
        assert!(messages(&issues)[0].starts_with("metadata.namespace: "), "{:?}", messages(&issues));
    }
}
