//! The kept members decode to exactly what pruning the parsed value gives: for any JSON, any set
//! of paths, any shard, and the text escapes and numbers JSON allows.

use kube_state_otel_testkit::arbitrary::{cases, json_value, key};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::keep::keep_object;
use super::needed::Needed;
use super::path::Path;
use crate::collectors::shared::shard::Shard;

/// What `needed` keeps of `value`, from the parsed value: the reference the decode must match.
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

/// `text` decoded keeping `needed`, and its metadata.
fn copied(text: &str, needed: &Needed) -> (Value, Option<Value>) {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let kept = keep_object(&mut deserializer, needed, None).expect("valid JSON decodes");
    let metadata = kept.get("metadata").cloned();
    (kept, metadata)
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
    fn a_whole_keep_is_the_value(value in json_value(), metadata in json_value()) {
        for value in [value.clone(), json!({"kind": "K", "metadata": metadata.clone(), "spec": value})] {
            let (back, _) = copied(&value.to_string(), &Needed::All);
            prop_assert_eq!(back, value);
        }
    }

    #[test]
    fn a_pruned_keep_is_the_pruned_value(
        value in json_value(),
        status in json_value(),
        paths in prop::collection::vec(path_text(), 0..5),
    ) {
        let object = json!({"metadata": {"name": "n", "uid": "u", "labels": {"a": "b"}}, "status": status, "other": value});
        let mut paths = paths;
        // As every watch keeps them (`Needed::of_resource`): the UID tells the shard.
        paths.extend(["metadata.name".into(), "metadata.uid".into()]);
        let needed = needed(&paths);
        let (back, metadata) = copied(&object.to_string(), &needed);
        prop_assert_eq!(&back, &pruned(&object, &needed));
        prop_assert_eq!(metadata.as_ref(), back.get("metadata"));
        for index in 0..2 {
            let shard = Shard { index, total: 2 };
            let text = object.to_string();
            let mut deserializer = serde_json::Deserializer::from_str(&text);
            let sharded = keep_object(&mut deserializer, &needed, Some(shard)).expect("valid JSON decodes");
            // Members are written in name order: another shard's object keeps those up to
            // `metadata`.
            let mut want = back.clone();
            if !shard.owns("u") {
                want.as_object_mut().unwrap().retain(|name, _| name.as_str() <= "metadata");
            }
            prop_assert_eq!(&sharded, &want, "shard {}", index);
        }
    }
}

#[test]
fn escapes_numbers_and_empty_values_survive_the_decode() {
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
