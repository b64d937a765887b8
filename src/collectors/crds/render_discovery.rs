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
        false => format!(
            "crds/{}: select matches {} types in the given files: {}",
            entry.name,
            ids.len(),
            ids.join(", ")
        ),
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::compile::compile_crds;
    use super::super::config::CrdsConfig;
    use super::*;

    fn entry(yaml: &str) -> CompiledResource {
        let text = format!("resources:\n  - name: ops\n{yaml}    metrics: [{{type: info, name: i}}]\n");
        compile_crds(&serde_saphyr::from_str::<CrdsConfig>(&text).unwrap()).unwrap().remove(0)
    }

    fn sourced(object: Value) -> SourcedObject {
        SourcedObject { source: "objects.yaml".into(), object }
    }

    #[test]
    fn namespace_labels_come_from_the_namespace_objects_read() {
        let mut resource = entry(
            "    gvr: {group: a.io, version: v1, resource: widgets}\n    namespaceSelector: team=payments\n",
        );
        let objects = [
            sourced(
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pay", "labels": {"team": "payments"}}}),
            ),
            sourced(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}})),
        ];
        let mut warnings = Vec::new();
        resource.discovery.gate = namespace_gate_of_files(&resource, &objects, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let widget = |ns: &str| json!({"apiVersion": "a.io/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": ns}});
        assert!(resource.selects(&widget("pay")));
        assert!(!resource.selects(&widget("web")) && !resource.selects(&widget("absent")));

        let gate = namespace_gate_of_files(&resource, &objects[..0], &mut warnings);
        assert!(gate.is_some_and(|g| !g.admits(Some("pay"))));
        assert!(warnings[0].contains("no Namespace object in the given files"), "{warnings:?}");
        assert!(namespace_gate_of_files(
            &entry("    gvr: {group: a.io, version: v1, resource: widgets}\n"),
            &objects,
            &mut warnings
        )
        .is_none());
    }

    #[test]
    fn a_select_entry_renders_one_copy_per_type_found_within_the_cap() {
        let ops = entry("    select: {groups: ['*.example.com'], maxTypes: 1}\n");
        let objects = [
            sourced(json!({"apiVersion": "b.example.com/v1", "kind": "Widget", "metadata": {"name": "x"}})),
            sourced(json!({"apiVersion": "a.example.com/v2", "kind": "Gadget", "metadata": {"name": "y"}})),
            sourced(json!({"apiVersion": "a.example.com/v2", "kind": "Gadget", "metadata": {"name": "z"}})),
            sourced(json!({"apiVersion": "other.io/v1", "kind": "Thing", "metadata": {"name": "t"}})),
        ];
        let mut warnings = Vec::new();
        let copies = types_in_files(&ops, ops.discovery.types.as_ref().unwrap(), &objects, &mut warnings);
        let names: Vec<&str> = copies.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["ops/a.example.com/Gadget"]);
        assert_eq!(copies[0].gvr.version, "v2");
        assert!(copies[0].discovery.types.is_none() && copies[0].discovery.type_attributes.len() == 2);
        assert!(copies[0].matches(&objects[1].object) && !copies[0].matches(&objects[0].object));
        assert_eq!(
            warnings,
            [
                "crds/ops: select matches 1 types in the given files: a.example.com/Gadget",
                "crds/ops: maxTypes (1) reached: 1 more matching types left out: b.example.com/Widget",
            ]
        );
    }
}
