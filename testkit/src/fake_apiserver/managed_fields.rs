//! Field ownership (`metadata.managedFields`) and server-side apply.
//!
//! kube-lease-manager takes a free Lease with an apply patch and relies on the server refusing
//! (409 Conflict) an apply that would change a field another manager owns. This is a reduced
//! structured-merge-diff: maps are granular, lists and scalars are atomic leaves, and a field
//! removed from the object is owned by nobody.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::object::{now_timestamp, set_meta};
use super::status::ApiError;

type FieldPath = Vec<String>;

/// One `managedFields` entry.
struct Manager {
    manager: String,
    operation: String,
    api_version: String,
    time: String,
    fields: BTreeSet<FieldPath>,
}

/// Fields the server sets itself; apply configurations and updates never own them.
fn ignored(path: &[String]) -> bool {
    const SERVER_META: [&str; 10] = [
        "name",
        "namespace",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "deletionTimestamp",
        "generateName",
    ];
    match path {
        [first, ..] if first == "apiVersion" || first == "kind" => true,
        [first, second, ..] if first == "metadata" => SERVER_META.contains(&second.as_str()),
        _ => false,
    }
}

/// Paths of the leaves (scalars, lists, empty maps) of an object.
fn leaf_paths(value: &Value) -> BTreeSet<FieldPath> {
    fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        if ignored(path) {
            return;
        }
        match value {
            Value::Object(map) if !map.is_empty() => {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
            _ if !path.is_empty() => {
                out.insert(path.clone());
            }
            _ => {}
        }
    }
    let mut out = BTreeSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(key))
}

fn remove(value: &mut Value, path: &[String]) {
    if let Some((last, parent)) = path.split_last() {
        let parent = parent.iter().try_fold(value, |v, key| v.get_mut(key));
        if let Some(Value::Object(map)) = parent {
            map.remove(last);
        }
    }
}

/// Deep merge of an apply configuration: maps merge, everything else replaces.
fn merge(target: &mut Value, config: &Value) {
    match (target, config) {
        (Value::Object(target), Value::Object(config)) => {
            for (key, value) in config {
                merge(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (target, config) => *target = config.clone(),
    }
}

fn to_fields_v1(fields: &BTreeSet<FieldPath>) -> Value {
    let mut root = Map::new();
    for path in fields {
        let mut node = &mut root;
        for key in path {
            let entry = node.entry(format!("f:{key}")).or_insert_with(|| json!({}));
            let Value::Object(map) = entry else { break };
            node = map;
        }
    }
    Value::Object(root)
}

fn from_fields_v1(value: &Value) -> BTreeSet<FieldPath> {
    fn walk(value: &Value, path: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        let children: Vec<(&String, &Value)> = value
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| k.as_str() != ".").collect())
            .unwrap_or_default();
        // Entries for list items (`k:`, `v:`, `i:`) make the list itself the owned leaf here.
        if children.is_empty() || children.iter().any(|(k, _)| !k.starts_with("f:")) {
            if !path.is_empty() {
                out.insert(path.clone());
            }
            return;
        }
        for (key, child) in children {
            path.push(key[2..].to_string());
            walk(child, path, out);
            path.pop();
        }
    }
    let mut out = BTreeSet::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn read(object: Option<&Value>) -> Vec<Manager> {
    let entries = object.and_then(|o| o.pointer("/metadata/managedFields")).and_then(Value::as_array);
    let text =
        |entry: &Value, key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
    entries
        .into_iter()
        .flatten()
        .map(|entry| Manager {
            manager: text(entry, "manager"),
            operation: text(entry, "operation"),
            api_version: text(entry, "apiVersion"),
            time: text(entry, "time"),
            fields: entry.get("fieldsV1").map(from_fields_v1).unwrap_or_default(),
        })
        .collect()
}

/// Writes the entries back, after dropping ownership of fields the object no longer has.
fn write(object: &mut Value, mut managers: Vec<Manager>) {
    let present = leaf_paths(object);
    for manager in &mut managers {
        manager.fields.retain(|path| present.contains(path));
    }
    let entries: Vec<Value> = managers
        .into_iter()
        .filter(|m| !m.fields.is_empty())
        .map(|m| {
            json!({
                "manager": m.manager,
                "operation": m.operation,
                "apiVersion": m.api_version,
                "time": m.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&m.fields),
            })
        })
        .collect();
    if !entries.is_empty() {
        set_meta(object, "managedFields", Value::Array(entries));
    } else if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
}

fn entry<'a>(
    managers: &'a mut Vec<Manager>,
    name: &str,
    operation: &str,
    api_version: &str,
) -> &'a mut Manager {
    let index = match managers.iter().position(|m| m.manager == name && m.operation == operation) {
        Some(index) => index,
        None => {
            managers.push(Manager {
                manager: name.to_string(),
                operation: operation.to_string(),
                api_version: api_version.to_string(),
                time: String::new(),
                fields: BTreeSet::new(),
            });
            managers.len() - 1
        }
    };
    let manager = &mut managers[index];
    manager.time = now_timestamp();
    manager
}

/// Records a create, replace or non-apply patch by `manager`: the fields it changed become
/// its own (operation `Update`) and no longer belong to anyone else.
pub(crate) fn record_update(old: Option<&Value>, new: &mut Value, manager: &str, api_version: &str) {
    let mut managers = read(old);
    let changed: BTreeSet<FieldPath> =
        leaf_paths(new).into_iter().filter(|path| old.and_then(|o| get(o, path)) != get(new, path)).collect();
    if !changed.is_empty() {
        for other in &mut managers {
            other.fields.retain(|path| !changed.contains(path));
        }
        entry(&mut managers, manager, "Update", api_version).fields.extend(changed);
    }
    write(new, managers);
}

/// Server-side apply of `config` by `manager` onto `live` (absent: the object is created).
/// Without `force`, changing a field owned by another manager is a 409 Conflict.
pub(crate) fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
) -> Result<Value, ApiError> {
    let api_version = config.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
    let mut managers = read(live);
    let wanted = leaf_paths(config);
    let mut result = live.cloned().unwrap_or_else(|| json!({}));
    let mut conflicts = Vec::new();
    for other in managers.iter_mut().filter(|m| !(m.manager == manager && m.operation == "Apply")) {
        let contested: Vec<FieldPath> = other
            .fields
            .iter()
            .filter(|path| wanted.contains(*path) && get(&result, path) != get(config, path))
            .cloned()
            .collect();
        for path in contested {
            if force {
                other.fields.remove(&path);
            } else {
                conflicts.push(format!("conflict with \"{}\": .{}", other.manager, path.join(".")));
            }
        }
    }
    if !conflicts.is_empty() {
        let count = conflicts.len();
        let plural = if count == 1 { "" } else { "s" };
        return Err(ApiError::apply_conflict(format!(
            "Apply failed with {count} conflict{plural}: {}",
            conflicts.join(", ")
        )));
    }
    let previously_applied = managers
        .iter()
        .find(|m| m.manager == manager && m.operation == "Apply")
        .map(|m| m.fields.clone())
        .unwrap_or_default();
    for path in previously_applied.difference(&wanted) {
        let owned_by_others = managers
            .iter()
            .any(|m| !(m.manager == manager && m.operation == "Apply") && m.fields.contains(path));
        if !owned_by_others {
            remove(&mut result, path);
        }
    }
    merge(&mut result, config);
    entry(&mut managers, manager, "Apply", &api_version).fields = wanted;
    write(&mut result, managers);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str) -> Value {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "spec": {"holderIdentity": holder}})
    }

    #[test]
    fn apply_conflicts_with_another_managers_field_unless_forced() {
        let live = apply(None, &lease("a"), "a", false).unwrap();
        let err = apply(Some(&live), &lease("b"), "b", false).unwrap_err();
        assert_eq!((err.code, err.reason), (409, "Conflict"));
        // Same value: shared ownership, no conflict.
        assert!(apply(Some(&live), &lease("a"), "b", false).is_ok());
        let forced = apply(Some(&live), &lease("b"), "b", true).unwrap();
        assert_eq!(forced["spec"]["holderIdentity"], "b");
    }

    #[test]
    fn update_takes_ownership_and_removed_fields_are_unowned() {
        let live = apply(None, &lease("a"), "a", false).unwrap();
        let mut released = live.clone();
        released["spec"] = json!({});
        record_update(Some(&live), &mut released, "a", "coordination.k8s.io/v1");
        assert!(apply(Some(&released), &lease("b"), "b", false).is_ok());

        let mut updated = live.clone();
        updated["spec"]["holderIdentity"] = json!("c");
        record_update(Some(&live), &mut updated, "c", "coordination.k8s.io/v1");
        let err = apply(Some(&updated), &lease("b"), "b", false).unwrap_err();
        assert!(err.message.contains("conflict with \"c\""), "{}", err.message);
    }

    #[test]
    fn reapply_removes_fields_dropped_from_the_configuration() {
        let config = json!({"apiVersion": "v1", "kind": "X", "spec": {"a": 1, "b": 2}});
        let live = apply(None, &config, "m", false).unwrap();
        let smaller = json!({"apiVersion": "v1", "kind": "X", "spec": {"a": 1}});
        let live = apply(Some(&live), &smaller, "m", false).unwrap();
        assert_eq!(live["spec"], json!({"a": 1}));
    }
}
