//! Naming a JSON value's type in error messages ("expected a number, found a list").

use serde_json::Value;

/// The type of `value`, with its article: `a string`, `an object`, `null`.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
