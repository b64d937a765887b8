//! Turning JSON values into data point values and attribute text (SPEC §4 "Values").

use serde_json::Value;

use crate::collectors::shared::quantity::parse_quantity;
use crate::objects::json_kind;

/// Why a value cannot be a data point's value or an attribute's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("number {0} is out of range")]
    OutOfRange(String),
    #[error(
        "cannot convert {0:?} to a number (expected a number, a boolean, a quantity such as \"250m\" or \"5Gi\", a percentage or an RFC 3339 timestamp)"
    )]
    NotANumber(String),
    #[error("expected a number, found {0}")]
    NotNumeric(&'static str),
    #[error("expected a string, number or boolean, found {0}")]
    NotScalar(&'static str),
}

/// The numeric value of a field: numbers; booleans 1/0; strings `true`/`yes` → 1,
/// `false`/`no`/`unknown` → 0 (any case); Kubernetes quantities and numeric strings; percentages
/// (`28%` → 0.28); RFC 3339 timestamps → Unix seconds. The error says what was found.
pub fn to_number(value: &Value) -> Result<f64, ValueError> {
    match value {
        Value::Number(n) => {
            n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| ValueError::OutOfRange(n.to_string()))
        }
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => string_to_number(s).ok_or_else(|| ValueError::NotANumber(s.clone())),
        other => Err(ValueError::NotNumeric(json_kind(other))),
    }
}

fn string_to_number(s: &str) -> Option<f64> {
    let s = s.trim();
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" => return Some(1.0),
        "false" | "no" | "unknown" => return Some(0.0),
        _ => {}
    }
    parse_quantity(s).or_else(|| parse_percentage(s)).or_else(|| parse_timestamp(s))
}

/// The text of a scalar: strings as they are, numbers and booleans as text (integers without
/// `.0`). `None` for null, lists and objects.
pub fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(integer_text(n).unwrap_or_else(|| match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// The text of a number written as an integer (`3`, `-2`, `18446744073709551615`); `None` for
/// one with a fraction or an exponent.
pub fn integer_text(n: &serde_json::Number) -> Option<String> {
    n.as_i64().map(|i| i.to_string()).or_else(|| n.as_u64().map(|u| u.to_string()))
}

/// An attribute value: `Ok(None)` when the field is missing or null (the attribute is left
/// out), an error when it is a list or an object.
pub fn attribute_text(value: Option<&Value>) -> Result<Option<String>, ValueError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => scalar_text(v).map(Some).ok_or_else(|| ValueError::NotScalar(json_kind(v))),
    }
}

/// `28%` → 0.28, `12.5%` → 0.125.
fn parse_percentage(s: &str) -> Option<f64> {
    let number = s.strip_suffix('%')?.trim_end();
    let plain = number.strip_prefix(['+', '-']).unwrap_or(number);
    if plain.is_empty() || !plain.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let value = format!("{number}e-2").parse::<f64>().ok()?;
    value.is_finite().then_some(value)
}

/// An RFC 3339 timestamp as Unix seconds, with the fraction.
pub(super) fn parse_timestamp(s: &str) -> Option<f64> {
    let ts: jiff::Timestamp = s.parse().ok()?;
    Some(ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn converts_values_to_numbers() {
        let cases: &[(Value, f64)] = &[
            (json!(3), 3.0),
            (json!(-2.5), -2.5),
            (json!(u64::MAX), u64::MAX as f64),
            (json!(true), 1.0),
            (json!(false), 0.0),
            (json!("true"), 1.0),
            (json!("TRUE"), 1.0),
            (json!("Yes"), 1.0),
            (json!("false"), 0.0),
            (json!("No"), 0.0),
            (json!("Unknown"), 0.0),
            (json!("42"), 42.0),
            (json!(" 42 "), 42.0),
            (json!("-7.25"), -7.25),
            (json!("1e3"), 1000.0),
            (json!("250m"), 0.25),
            (json!("5Gi"), 5368709120.0),
            (json!("28%"), 0.28),
            (json!("12.5%"), 0.125),
            (json!("-3%"), -0.03),
            (json!("1970-01-01T00:00:00Z"), 0.0),
            (json!("2024-01-01T00:00:00Z"), 1704067200.0),
            (json!("2024-01-01T02:00:00+02:00"), 1704067200.0),
            (json!("2024-01-01T00:00:00.25Z"), 1704067200.25),
            (json!("1969-12-31T23:59:59.5Z"), -0.5),
        ];
        for (value, want) in cases {
            assert_eq!(to_number(value), Ok(*want), "{value}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_number() {
        let cases: &[(Value, &str)] = &[
            (json!("abc"), "cannot convert \"abc\" to a number (expected a number"),
            (json!(""), "cannot convert \"\""),
            (json!("NaN"), "cannot convert \"NaN\""),
            (json!("inf"), "cannot convert \"inf\""),
            (json!("5 Gi"), "cannot convert"),
            (json!("%"), "cannot convert"),
            (json!("2024-01-01"), "cannot convert"),
            (json!("2024-13-01T00:00:00Z"), "cannot convert"),
            (json!(null), "expected a number, found null"),
            (json!([1]), "expected a number, found a list"),
            (json!({"a": 1}), "expected a number, found an object"),
        ];
        for (value, want) in cases {
            let err = to_number(value).unwrap_err().to_string();
            assert!(err.contains(want), "{value}: {err}");
        }
    }

    #[test]
    fn renders_scalars_as_attribute_text() {
        let cases: &[(Value, Option<&str>)] = &[
            (json!("Running"), Some("Running")),
            (json!(""), Some("")),
            (json!(3), Some("3")),
            (json!(-3), Some("-3")),
            (json!(3.0), Some("3")),
            (json!(2.5), Some("2.5")),
            (json!(1e20), Some("1e+20")),
            (json!(true), Some("true")),
            (json!(false), Some("false")),
            (json!(null), None),
            (json!([]), None),
            (json!({}), None),
        ];
        for (value, want) in cases {
            assert_eq!(scalar_text(value).as_deref(), *want, "{value}");
        }
        assert_eq!(attribute_text(None), Ok(None));
        assert_eq!(attribute_text(Some(&json!(null))), Ok(None));
        assert_eq!(attribute_text(Some(&json!(7))), Ok(Some("7".into())));
        assert_eq!(
            attribute_text(Some(&json!({"a": 1}))).unwrap_err().to_string(),
            "expected a string, number or boolean, found an object"
        );
    }
}
