//! The copy of the kept members reads back as exactly what pruning the parsed value gives: for
//! any JSON, any set of paths, and the text escapes and numbers JSON allows.

use kube_state_otel_testkit::arbitrary::{cases, json_value, key};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::kept_json::copy_object;
use super::needed::Needed;
use super::path::Path;

/// What `needed` keeps of `value`, from the parsed value: the reference the copy must match.
fn pruned(value: &Value, needed: &Needed) -> Value {
    match (value, needed) {
        (_, Needed::All) => value.clone(),
        (Value::Object(members), needed) => Value::Object(
            members
                .iter()
                .filter_map(|(name, v)| needed.member(name).map(|n| (name.clone(), pruned(v, n))))
                .collect(),
        ),
        (Value::Array(elements), needed) => {
            Value::Array(elements.iter().map(|e| pruned(e, needed)).collect())
        }
        (scalar, _) => scalar.clone(),
    }
}

/// The copy of `text` keeping `needed`, read back, and the metadata it found.
fn copied(text: &str, needed: &Needed) -> (Value, Option<Value>) {
    let mut out = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let found = copy_object(&mut deserializer, needed, None, &mut out).expect("valid JSON copies");
    let back =
        serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
    (back, found.metadata)
}

fn needed(paths: &[String]) -> Needed {
    let mut needed = Needed::nothing();
    for path in paths {
        if let Ok(path) = Path::compile(path) {
            needed.add_path(&path);
        }
    }
    needed
}

/// A path over the keys objects use, with list steps now and then.
fn path_text() -> impl Strategy<Value = String> {
    let step = prop_oneof![
        3 => key().prop_filter("a plain name", |k| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')),
        1 => Just("conditions[type=Ready]".to_string()),
        1 => Just("items[0]".to_string()),
    ];
    prop::collection::vec(step, 1..4).prop_map(|steps| steps.join("."))
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn a_whole_copy_reads_back_as_the_value(value in json_value(), metadata in json_value()) {
        for value in [value.clone(), json!({"kind": "K", "metadata": metadata.clone(), "spec": value})] {
            let (back, _) = copied(&value.to_string(), &Needed::All);
            prop_assert_eq!(back, value);
        }
    }

    #[test]
    fn a_pruned_copy_reads_back_as_the_pruned_value(
        value in json_value(),
        status in json_value(),
        paths in prop::collection::vec(path_text(), 0..5),
    ) {
        let object = json!({"metadata": {"name": "n", "uid": "u", "labels": {"a": "b"}}, "status": status, "other": value});
        let mut paths = paths;
        paths.push("metadata.name".into());
        let needed = needed(&paths);
        let (back, metadata) = copied(&object.to_string(), &needed);
        prop_assert_eq!(&back, &pruned(&object, &needed));
        prop_assert_eq!(metadata.as_ref(), back.get("metadata"));
    }
}

#[test]
fn escapes_numbers_and_empty_values_survive_the_copy() {
    let object = json!({
        "metadata": {"name": "a\"b\\c\u{1}\u{7f}é😀\n", "uid": "u"},
        "status": {
            "numbers": [0, -1, i64::MIN, u64::MAX, 0.1, -2.5e-300, 1.7976931348623157e308, 1e20],
            "empty": {}, "none": [], "null": null, "flags": [true, false],
            "skipped": {"deep": [[[{"x": "y"}]]]},
        },
    });
    let (back, metadata) = copied(&object.to_string(), &Needed::All);
    assert_eq!(back, object);
    assert_eq!(metadata.unwrap()["name"], "a\"b\\c\u{1}\u{7f}é😀\n");
    let needed = needed(&["status.numbers".into(), "status.empty".into(), "status.none".into()]);
    let (back, metadata) = copied(&object.to_string(), &needed);
    assert_eq!(back, json!({"status": {"numbers": object["status"]["numbers"], "empty": {}, "none": []}}));
    assert_eq!(metadata, None, "no metadata is kept by these paths");
}

#[test]
fn members_of_list_elements_are_kept_per_element() {
    let object = json!({"status": {"conditions": [
        {"type": "Ready", "status": "True", "message": "long text", "lastTransitionTime": "t"},
        {"type": "Synced", "status": "False", "message": "more"},
        "not an object", 7, null, [],
    ]}});
    let needed = needed(&["status.conditions[type=Ready].status".into()]);
    let (back, _) = copied(&object.to_string(), &needed);
    assert_eq!(
        back,
        json!({"status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"},
            "not an object", 7, null, [],
        ]}})
    );
}
