//! Random input for property tests: JSON values shaped like Kubernetes objects and config
//! documents (quantities, timestamps, booleans as text, nested maps and lists), random edits of
//! a given document, and the case count (`PROPTEST_CASES` raises it beyond CI's).

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{json, Map, Value};

/// A proptest config with `default` cases, or `PROPTEST_CASES` when set (e.g. 10000 for a long
/// local run); failures are not persisted into the source tree.
pub fn cases(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Text a Kubernetes object or a config holds: quantities, percentages, timestamps, durations,
/// booleans as words, paths, and anything at all.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{1,6}(\\.[0-9]{1,3})?(m|k|Ki|Mi|Gi|Ti|M|G|e3|E-2|%|n|u)?",
        "(19|20|99)[0-9]{2}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](\\.[0-9]{1,9})?(Z|[+-][0-2][0-9]:[0-5][0-9])?",
        "[0-9]{1,4}(ns|ms|s|m|h|d)",
        "(true|false|True|FALSE|yes|no|on|off|y|n|Unknown|Ready|Running)",
        "[a-z]{1,6}(\\.[a-z]{1,6}){0,3}(\\[-?[0-9]\\])?",
        "[-+0-9.a-zA-Z:%µ _/\\[\\]=\"']{0,16}",
        any::<String>(),
    ]
}

/// A map key: the names objects and configs use, and arbitrary ones.
pub fn key() -> impl Strategy<Value = String> {
    const KNOWN: [&str; 26] = [
        "metadata",
        "name",
        "namespace",
        "labels",
        "annotations",
        "uid",
        "spec",
        "status",
        "replicas",
        "conditions",
        "type",
        "reason",
        "phase",
        "items",
        "value",
        "path",
        "metrics",
        "resources",
        "gvr",
        "group",
        "version",
        "resource",
        "enabled",
        "kind",
        "apiVersion",
        "Ready",
    ];
    prop_oneof![
        3 => proptest::sample::select(&KNOWN[..]).prop_map(str::to_string),
        1 => "[a-zA-Z_.-]{1,8}",
        1 => any::<String>(),
    ]
}

/// Any JSON value, up to a few levels deep.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One random edit of a document; the `usize` picks the place (modulo the number of places).
#[derive(Debug, Clone)]
pub enum Edit {
    /// The value at the chosen place becomes `Value`.
    Replace(usize, Value),
    /// The chosen place is removed from its map or list.
    Remove(usize),
    /// The chosen map (or the nearest map above it) gains `key: value`.
    Insert(usize, String, Value),
    /// The chosen list element (or value) is doubled in its list.
    Duplicate(usize),
}

/// A random edit.
pub fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), json_value()).prop_map(|(at, v)| Edit::Replace(at, v)),
        any::<usize>().prop_map(Edit::Remove),
        (any::<usize>(), key(), json_value()).prop_map(|(at, k, v)| Edit::Insert(at, k, v)),
        any::<usize>().prop_map(Edit::Duplicate),
    ]
}

/// JSON pointers of every value in `doc`, the root first.
fn places(doc: &Value) -> Vec<String> {
    fn walk(value: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), out);
                }
            }
            Value::Array(list) => {
                for (i, v) in list.iter().enumerate() {
                    walk(v, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc, String::new(), &mut out);
    out
}

/// Splits a pointer into its parent and its last token (`None` for the root).
fn parent_of(pointer: &str) -> Option<(&str, String)> {
    let (parent, last) = pointer.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

/// `doc` with `edit` applied.
pub fn apply(doc: &Value, edit: &Edit) -> Value {
    let mut doc = doc.clone();
    let all = places(&doc);
    let pick = |at: &usize| all[at % all.len()].clone();
    match edit {
        Edit::Replace(at, value) => {
            if let Some(slot) = doc.pointer_mut(&pick(at)) {
                *slot = value.clone();
            }
        }
        Edit::Remove(at) => {
            let place = pick(at);
            if let Some((parent, last)) = parent_of(&place) {
                match doc.pointer_mut(parent) {
                    Some(Value::Object(map)) => {
                        map.remove(&last);
                    }
                    Some(Value::Array(list)) => {
                        if let Ok(i) = last.parse::<usize>() {
                            list.remove(i);
                        }
                    }
                    _ => {}
                }
            }
        }
        Edit::Insert(at, key, value) => {
            let mut place = pick(at);
            loop {
                if let Some(Value::Object(map)) = doc.pointer_mut(&place) {
                    map.insert(key.clone(), value.clone());
                    break;
                }
                match parent_of(&place) {
                    Some((parent, _)) => place = parent.to_string(),
                    None => {
                        if !doc.is_object() {
                            doc = Value::Object(Map::new());
                        }
                        if let Value::Object(map) = &mut doc {
                            map.insert(key.clone(), value.clone());
                        }
                        break;
                    }
                }
            }
        }
        Edit::Duplicate(at) => {
            let place = pick(at);
            if let Some((parent, last)) = parent_of(&place) {
                if let Some(Value::Array(list)) = doc.pointer_mut(parent) {
                    if let Ok(i) = last.parse::<usize>() {
                        let copy = list[i].clone();
                        list.insert(i, copy);
                    }
                }
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_change_the_chosen_place() {
        let doc = json!({"a": {"b": [1, 2]}, "c": "x"});
        // Places: "", /a, /a/b, /a/b/0, /a/b/1, /c
        let at = |i: usize| i + 6;
        assert_eq!(apply(&doc, &Edit::Replace(at(5), json!(7))), json!({"a": {"b": [1, 2]}, "c": 7}));
        assert_eq!(apply(&doc, &Edit::Remove(at(3))), json!({"a": {"b": [2]}, "c": "x"}));
        assert_eq!(apply(&doc, &Edit::Duplicate(at(4))), json!({"a": {"b": [1, 2, 2]}, "c": "x"}));
        let inserted = apply(&doc, &Edit::Insert(at(3), "k".into(), json!(null)));
        assert_eq!(inserted, json!({"a": {"b": [1, 2], "k": null}, "c": "x"}));
    }
}
