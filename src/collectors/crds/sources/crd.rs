//! The `MetricSource` and `ClusterMetricSource` CustomResourceDefinitions, their `spec` schema
//! generated from the config types (one `collectors.crds.resources` entry) with kube's
//! structural-schema rewrite, so `kubectl apply` checks the shape and `kubectl explain` shows
//! the config reference's doc comments.

use kube::core::schema::StructuralSchemaRewriter;
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Value};

use super::kinds::{SourceKind, GROUP, VERSION};
use super::spec::METRICS_NAMESPACE_KEY;
use crate::collectors::crds::config::ResourceConfig;

/// What a ClusterMetricSource's spec has beyond a `resources` entry.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct ClusterSpecExtras {
    /// First part of this source's metric names, as `collectors.crds.metricsNamespace` in the
    /// config file; may be empty. (A MetricSource's metrics start with its namespace instead.)
    metrics_namespace: String,
}

/// The status the agent writes.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SourceStatus {
    /// The newest generation of the spec the agent has seen, accepted or refused.
    observed_generation: i64,
    /// One condition, `Ready`.
    conditions: Vec<SourceCondition>,
}

/// `Ready`: `True` when the observed generation runs; `False` with reason `Invalid` or
/// `Conflict` otherwise.
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct SourceCondition {
    /// `Ready`.
    #[serde(rename = "type")]
    kind: String,
    /// `True` or `False`.
    status: String,
    /// `Running`, `Invalid` or `Conflict`.
    reason: String,
    /// What runs; on failure every error, one per line, as `<path inside spec>: <message>`.
    message: String,
    /// The generation the condition is about.
    observed_generation: i64,
    /// When `status` last changed (RFC 3339).
    last_transition_time: String,
}

fn schema_of<T: JsonSchema>() -> Value {
    let generator = SchemaSettings::openapi3()
        .with(|s| {
            s.inline_subschemas = true;
            s.meta_schema = None;
        })
        .with_transform(StructuralSchemaRewriter)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<T>().to_value();
    clean(&mut schema);
    schema
}

/// Drops what a CRD schema must not or need not carry: `$schema`, `title`, and `default` (the
/// agent applies its own defaults, named in each description, so the API server stores the
/// object as written).
fn clean(schema: &mut Value) {
    let Some(fields) = schema.as_object_mut() else { return };
    for keyword in ["$schema", "title", "default"] {
        fields.remove(keyword);
    }
    if let Some(properties) = fields.get_mut("properties").and_then(Value::as_object_mut) {
        properties.values_mut().for_each(clean);
    }
    for nested in ["items", "additionalProperties"] {
        if let Some(node) = fields.get_mut(nested) {
            clean(node);
        }
    }
}

/// The `spec` schema of `kind`.
fn spec_schema(kind: SourceKind) -> Value {
    let mut spec = schema_of::<ResourceConfig>();
    let description = match kind {
        SourceKind::Namespaced => {
            "One entry of the agent's `collectors.crds.resources`, read in this object's namespace \
             only; its metrics are named `<namespace>.<name>.<metric>` with `-` as `_`."
        }
        SourceKind::Cluster => {
            "One entry of the agent's `collectors.crds.resources` plus `metricsNamespace`; it may \
             read any namespace."
        }
    };
    spec["description"] = json!(description);
    if kind == SourceKind::Cluster {
        let extras = schema_of::<ClusterSpecExtras>();
        spec["properties"][METRICS_NAMESPACE_KEY] = extras["properties"][METRICS_NAMESPACE_KEY].clone();
    }
    spec
}

/// The CustomResourceDefinition of `kind`.
pub fn crd(kind: SourceKind) -> Value {
    let (scope, description) = match kind {
        SourceKind::Namespaced => (
            "Namespaced",
            "Metrics of a custom resource, described by the team that owns it: the kube-state-otel \
             agent reads the objects of this namespace only.",
        ),
        SourceKind::Cluster => (
            "Cluster",
            "Metrics of a custom resource in any namespaces, described by a platform admin for the \
             kube-state-otel agent.",
        ),
    };
    let singular = kind.kind().to_lowercase();
    let ready = |field: &str| format!(".status.conditions[?(@.type==\"Ready\")].{field}");
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": format!("{}.{GROUP}", kind.plural()),
            "labels": {"app.kubernetes.io/name": "kube-state-otel"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind(),
                "listKind": format!("{}List", kind.kind()),
                "plural": kind.plural(),
                "singular": singular,
                "categories": ["kube-state-otel"],
            },
            "scope": scope,
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Ready", "type": "string", "jsonPath": ready("status")},
                    {"name": "Reason", "type": "string", "jsonPath": ready("reason")},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "description": description,
                    "required": ["spec"],
                    "properties": {
                        "apiVersion": {"type": "string"},
                        "kind": {"type": "string"},
                        "metadata": {"type": "object"},
                        "spec": spec_schema(kind),
                        "status": schema_of::<SourceStatus>(),
                    },
                }},
            }],
        },
    })
}

/// Both CRDs as multi-document YAML, as shipped in `deploy/kubernetes/`.
pub fn crds_yaml() -> String {
    let header = "# Generated from the config types by `kube_state_otel::collectors::crds::metric_source_crds_yaml`;\n\
                  # `UPDATE_CRDS=1 cargo test --test metric_source_crds` writes it again.\n";
    let documents: Vec<String> = SourceKind::ALL
        .into_iter()
        .map(|kind| serde_saphyr::to_string(&crd(kind)).expect("a CRD of plain JSON serializes"))
        .collect();
    format!("{header}{}", documents.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk<'a>(schema: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((at.clone(), schema));
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            walk(property, format!("{at}.{name}"), out);
        }
        if schema.get("items").is_some() {
            walk(&schema["items"], format!("{at}[]"), out);
        }
    }

    #[test]
    fn the_spec_schema_is_structural_and_documents_every_field() {
        let crd = crd(SourceKind::Cluster);
        let root = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
        let mut nodes = Vec::new();
        walk(&root["properties"]["spec"], "spec".into(), &mut nodes);
        assert!(nodes.len() > 50, "{}", nodes.len());
        for (at, node) in &nodes {
            let typed =
                node.get("type").is_some() || node.get("x-kubernetes-preserve-unknown-fields").is_some();
            assert!(typed, "{at} has no type: {node}");
            for forbidden in ["$ref", "anyOf", "oneOf", "default", "additionalItems"] {
                assert!(node.get(forbidden).is_none(), "{at} has {forbidden}: {node}");
            }
            let is_field = at.matches('.').count() >= 1 && !at.ends_with("[]");
            assert!(!is_field || node.get("description").is_some(), "{at} has no description");
            assert!(
                !(node.get("properties").is_some() && node.get("additionalProperties").is_some()),
                "{at}: properties and additionalProperties exclude each other"
            );
        }
        let spec = &root["properties"]["spec"]["properties"];
        assert_eq!(spec["metrics"]["items"]["properties"]["type"]["type"], "string");
        assert!(spec["metricsNamespace"]["description"].as_str().unwrap().contains("metricsNamespace"));
        assert_eq!(spec["commonLabels"]["additionalProperties"]["type"], "string");
        let namespaced = super::crd(SourceKind::Namespaced);
        let spec = &namespaced["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"];
        assert!(spec["properties"].get("metricsNamespace").is_none());
        assert_eq!(namespaced["spec"]["scope"], "Namespaced");
    }
}
