//! Field conversion, computed fields (CEL) and structured filters, table-driven.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::fields::{convert, FieldType, FieldValue};
use super::filter::FieldMatch;
use super::object_fields::FieldIndex;

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

#[test]
fn converts_each_field_type() {
    use FieldType::*;
    use FieldValue::{Bool, Int};
    let ok: &[(FieldType, Value, Option<FieldValue>)] = &[
        (String, json!("Bound"), Some(text("Bound"))),
        (String, json!(2), Some(text("2"))),
        (String, json!(true), Some(text("true"))),
        (Integer, json!(3), Some(Int(3))),
        (Integer, json!(3.0), Some(Int(3))),
        (Integer, json!(" 42 "), Some(Int(42))),
        (Float, json!(2.5), Some(FieldValue::Float(2.5))),
        (Float, json!("250m"), Some(FieldValue::Float(0.25))),
        (Boolean, json!(false), Some(Bool(false))),
        (Boolean, json!("True"), Some(Bool(true))),
        (Quantity, json!("5Gi"), Some(FieldValue::Float(5368709120.0))),
        (Quantity, json!("250m"), Some(FieldValue::Float(0.25))),
        (Quantity, json!(7), Some(FieldValue::Float(7.0))),
        (Timestamp, json!("2024-01-01T00:00:00Z"), Some(FieldValue::Float(1704067200.0))),
        (Duration, json!("1h30m"), Some(FieldValue::Float(5400.0))),
        (Duration, json!("90s"), Some(FieldValue::Float(90.0))),
        (Duration, json!("1.5h"), Some(FieldValue::Float(5400.0))),
        (Duration, json!("500ms"), Some(FieldValue::Float(0.5))),
        (ArrayLength, json!([1, 2, 3]), Some(Int(3))),
        (ArrayLength, json!({"a": 1, "b": 2}), Some(Int(2))),
        (ArrayLength, json!([]), Some(Int(0))),
        (String, Value::Null, None),
    ];
    for (ty, value, want) in ok {
        assert_eq!(convert(Some(value), *ty).as_ref(), Ok(want), "{ty:?} {value}");
    }
    assert_eq!(convert(None, Integer), Ok(None), "missing is null, not an error");
    let errors: &[(FieldType, Value, &str)] = &[
        (String, json!({"a": 1}), "expected a string, number or boolean, found an object"),
        (Integer, json!(2.5), "expected an integer, found 2.5"),
        (Integer, json!("x"), "expected an integer, found \"x\""),
        (Float, json!("abc"), "expected a number, found \"abc\""),
        (Boolean, json!("yes"), "expected a boolean, found \"yes\""),
        (Quantity, json!("5 apples"), "expected a quantity"),
        (Timestamp, json!("yesterday"), "expected an RFC 3339 timestamp"),
        (Duration, json!("soon"), "expected a duration"),
        (ArrayLength, json!("abc"), "expected a list or a map, found \"abc\""),
    ];
    for (ty, value, want) in errors {
        let got = convert(Some(value), *ty).unwrap_err();
        assert!(got.starts_with(want), "{ty:?} {value}: {got}");
    }
}

#[test]
fn numbers_print_in_their_shortest_form() {
    assert_eq!(FieldValue::Float(2.0).to_string(), "2");
    assert_eq!(FieldValue::Float(2.5).to_string(), "2.5");
    assert_eq!(FieldValue::Int(-3).to_string(), "-3");
}

fn field_match(operator: &str, value: Value) -> FieldMatch {
    FieldMatch::compile(FieldIndex(0), operator, &value).unwrap()
}

#[test]
fn structured_filters_compare_numbers_as_numbers_else_text() {
    let cases: &[(&str, Value, FieldValue, bool)] = &[
        ("equals", json!("Bound"), text("Bound"), true),
        ("equals", json!("Bound"), text("Pending"), false),
        ("equals", json!(2), FieldValue::Float(2.0), true),
        ("equals", json!("2.0"), FieldValue::Int(2), true),
        ("notEquals", json!("Bound"), text("Pending"), true),
        ("notEquals", json!("Bound"), text("Bound"), false),
        ("contains", json!("ou"), text("Bound"), true),
        ("startsWith", json!("Bo"), text("Bound"), true),
        ("startsWith", json!("ou"), text("Bound"), false),
        ("endsWith", json!("nd"), text("Bound"), true),
        // As numbers 10 > 9; as text "10" < "9".
        ("greaterThan", json!(9), FieldValue::Int(10), true),
        ("greaterThan", json!("9"), text("10"), true),
        ("greaterThan", json!("b"), text("a10"), false),
        ("lessThan", json!("b"), text("a10"), true),
        ("lessThan", json!(9), FieldValue::Float(8.5), true),
        ("in", json!(["Bound", "Lost"]), text("Lost"), true),
        ("in", json!(["Bound", "Lost"]), text("Pending"), false),
        ("in", json!([1, 2]), FieldValue::Float(2.0), true),
        ("matches", json!("^prod-"), text("prod-eu"), true),
        ("matches", json!("eu"), text("prod-eu-1"), true),
        ("matches", json!("^eu"), text("prod-eu"), false),
        ("equals", json!(true), FieldValue::Bool(true), true),
    ];
    for (operator, value, field, want) in cases {
        let test = field_match(operator, value.clone());
        assert_eq!(test.passes(Some(field)), *want, "{operator} {value} on {field:?}");
        assert!(!test.passes(None), "{operator}: an object without the field passes nothing");
    }
}

#[test]
fn structured_filter_errors_name_the_key() {
    let err = |op: &str, value: Value| FieldMatch::compile(FieldIndex(0), op, &value).unwrap_err();
    assert_eq!(err("in", json!("x")).0, "value");
    assert_eq!(err("matches", json!("(")).0, "value");
    assert!(err("matches", json!("(")).1.starts_with("invalid regular expression"));
    assert_eq!(err("equals", json!([1])).0, "value");
    let (key, message) = err("like", json!("x"));
    assert_eq!(key, "operator");
    assert!(message.contains("equals, notEquals, contains"), "{message}");
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "[-+0-9.a-zA-Z:%µ ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,3}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any JSON value ends in a value of the declared kind, null or an error; never a panic.
    #[test]
    fn any_value_converts_or_fails_cleanly(value in json_value()) {
        use FieldType::*;
        for ty in [String, Integer, Float, Boolean, Quantity, Timestamp, Duration, ArrayLength] {
            match convert(Some(&value), ty) {
                Ok(Some(FieldValue::Float(f))) => prop_assert!(f.is_finite()),
                Ok(Some(FieldValue::Int(_))) => prop_assert!(matches!(ty, Integer | ArrayLength)),
                Ok(Some(FieldValue::Text(_))) => prop_assert_eq!(ty, String),
                Ok(Some(FieldValue::Bool(_))) => prop_assert_eq!(ty, Boolean),
                Ok(None) => prop_assert!(value.is_null()),
                Err(e) => prop_assert!(e.starts_with("expected ")),
            }
        }
    }
}
