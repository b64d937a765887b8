//! `render` of what discovery and namespace labels decide at run time, from the files read
//! instead: a `select` entry renders each type found among the objects (as it would watch each
//! served type), and `namespaceSelector` reads the labels of the Namespace objects among them.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::discovery_plan::for_type;
use super::discovery_types::{ServedType, TypeSelection};
use super::namespace_gate::{labels_of, NamespaceGate};
use super::plan::CompiledResource;
use crate::objects::{plural_candidates, SourcedObject};

/// The copies of `entry` for each type among `objects` that `types` selects (at most
/// `maxTypes`), with a line for `render`'s warnings saying which types it matched.
pub fn types_in_files(
    entry: &CompiledResource,
    types: &TypeSelection,
    objects: &[SourcedObject],
    warnings: &mut Vec<String>,
) -> Vec<CompiledResource> {
    let mut found: Vec<ServedType> = Vec::new();
    for object in objects.iter().map(|o| &o.object).filter(|o| types.matches_object(o)) {
        let (Some(api_version), Some(kind)) =
            (object.get("apiVersion").and_then(Value::as_str), object.get("kind").and_then(Value::as_str))
        else {
            continue;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if found.iter().any(|t| t.group == group && t.kind == kind) {
            continue;
        }
        found.push(ServedType {
            group: group.to_owned(),
            version: version.to_owned(),
            kind: kind.to_owned(),
            plural: plural_candidates(kind).into_iter().next().unwrap_or_default(),
            namespaced: object.pointer("/metadata/namespace").is_some(),
            verbs: vec!["list".into(), "watch".into()],
        });
    }
    let choice = types.choose(&found);
    let ids: Vec<String> = choice.watched.iter().map(ServedType::id).collect();
    warnings.push(match ids.is_empty() {
        true => format!("crds/{}: select matches no object in the given files", entry.name),
        false => format!("crds/{}: select matches {} types in the given files: {}", entry.name, ids.len(), ids.join(", ")),
    });
    if !choice.over_cap.is_empty() {
        let over: Vec<String> = choice.over_cap.iter().map(ServedType::id).collect();
        warnings.push(format!(
            "crds/{}: maxTypes ({}) reached: {} more matching types left out: {}",
            entry.name,
            types.max_types(),
            over.len(),
            over.join(", ")
        ));
    }
    choice.watched.iter().map(|served| for_type(entry, served)).collect()
}

/// With `namespaceSelector`, the gate of the Namespace objects among `objects` (a namespace
/// not among them selects nothing, as an unlabelled one would not).
pub fn namespace_gate_of_files(
    resource: &CompiledResource,
    objects: &[SourcedObject],
    warnings: &mut Vec<String>,
) -> Option<NamespaceGate> {
    let selector = resource.discovery.namespace_selector.as_ref()?;
    let is_namespace = |o: &Value| {
        o.get("apiVersion").and_then(Value::as_str) == Some("v1")
            && o.get("kind").and_then(Value::as_str) == Some("Namespace")
    };
    let labels: BTreeMap<String, Value> = objects
        .iter()
        .map(|o| &o.object)
        .filter(|o| is_namespace(o))
        .filter_map(|o| Some((o.pointer("/metadata/name")?.as_str()?.to_owned(), labels_of(o))))
        .collect();
    if labels.is_empty() {
        warnings.push(format!(
            "crds/{}: namespaceSelector {:?}: no Namespace object in the given files, so no namespaced object is selected; add the namespaces (kubectl get namespaces -o yaml)",
            resource.name, selector.text
        ));
    }
    let (_, receiver) = tokio::sync::watch::channel(Some(Arc::new(labels)));
    Some(NamespaceGate::new(selector.selector.clone(), receiver))
}
