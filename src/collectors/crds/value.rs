//! Turning JSON values into data point values and attribute text (SPEC §4 "Values").

use serde_json::Value;

/// The numeric value of a field: numbers; booleans 1/0; strings `true`/`yes` → 1,
/// `false`/`no`/`unknown` → 0 (any case); Kubernetes quantities and numeric strings; percentages
/// (`28%` → 0.28); RFC 3339 timestamps → Unix seconds. The error says what was found.
pub fn to_number(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => {
            n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| format!("number {n} is out of range"))
        }
        Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => string_to_number(s).ok_or_else(|| {
            format!(
                "cannot convert {s:?} to a number (expected a number, a boolean, a quantity such as \
                 \"250m\" or \"5Gi\", a percentage or an RFC 3339 timestamp)"
            )
        }),
        other => Err(format!("expected a number, found {}", describe(other))),
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
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            _ => n.to_string(),
        }),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// An attribute value: `Ok(None)` when the field is missing or null (the attribute is left
/// out), an error when it is a list or an object.
pub fn attribute_text(value: Option<&Value>) -> Result<Option<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => scalar_text(v)
            .map(Some)
            .ok_or_else(|| format!("expected a string, number or boolean, found {}", describe(v))),
    }
}

/// A short description of a value's type for error messages.
pub fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// A Kubernetes quantity (`250m`, `5Gi`, `1.5Ki`, `100M`, `1e3`, `12E`, `-0.5`) as a number.
///
/// Decimal forms are computed through one correctly rounded decimal-to-float conversion, so
/// `250m` is exactly the double nearest 0.25 and `100M` exactly 1e8; binary suffixes multiply by
/// a power of two, which is exact. `None` when `s` is not a quantity or does not fit an `f64`.
pub fn parse_quantity(s: &str) -> Option<f64> {
    let bytes = s.as_bytes();
    let mut end = 0;
    if matches!(bytes.first(), Some(b'+' | b'-')) {
        end = 1;
    }
    let digits_start = end;
    let mut digits = 0;
    let mut dots = 0;
    while let Some(&b) = bytes.get(end) {
        match b {
            b'0'..=b'9' => digits += 1,
            b'.' => dots += 1,
            _ => break,
        }
        end += 1;
    }
    if digits == 0 || dots > 1 || end == digits_start {
        return None;
    }
    let (number, suffix) = s.split_at(end);
    let decimal_exponent = match suffix {
        "" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
            let power = match suffix {
                "Ki" => 10,
                "Mi" => 20,
                "Gi" => 30,
                "Ti" => 40,
                "Pi" => 50,
                _ => 60,
            };
            let value = number.parse::<f64>().ok()? * 2f64.powi(power);
            return value.is_finite().then_some(value);
        }
        _ => parse_exponent(suffix)?,
    };
    let value = format!("{number}e{decimal_exponent}").parse::<f64>().ok()?;
    value.is_finite().then_some(value)
}

/// `e3`, `E-2`, `e+6`: the exponent of a decimal-exponent quantity.
fn parse_exponent(suffix: &str) -> Option<i64> {
    let rest = suffix.strip_prefix(['e', 'E'])?;
    let unsigned = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if unsigned.is_empty() || unsigned.len() > 6 || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
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
fn parse_timestamp(s: &str) -> Option<f64> {
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
            let err = to_number(value).unwrap_err();
            assert!(err.contains(want), "{value}: {err}");
        }
    }

    #[test]
    fn parses_kubernetes_quantities_exactly() {
        let cases: &[(&str, Option<f64>)] = &[
            ("0", Some(0.0)),
            ("1", Some(1.0)),
            ("+1", Some(1.0)),
            ("-1", Some(-1.0)),
            (".5", Some(0.5)),
            ("5.", Some(5.0)),
            ("250m", Some(0.25)),
            ("3800m", Some(3.8)),
            ("100n", Some(1e-7)),
            ("10u", Some(1e-5)),
            ("1k", Some(1000.0)),
            ("100M", Some(1e8)),
            ("2G", Some(2e9)),
            ("3T", Some(3e12)),
            ("4P", Some(4e15)),
            ("12E", Some(12e18)),
            ("1.5Ki", Some(1536.0)),
            ("1Mi", Some(1048576.0)),
            ("5Gi", Some(5368709120.0)),
            ("1Ti", Some(1099511627776.0)),
            ("1Pi", Some(1125899906842624.0)),
            ("2Ei", Some(2305843009213693952.0)),
            ("-0.5Gi", Some(-536870912.0)),
            ("1e3", Some(1000.0)),
            ("1E3", Some(1000.0)),
            ("1.5e-3", Some(0.0015)),
            ("2e+2", Some(200.0)),
            ("0.1", Some(0.1)),
            ("123456789012345678", Some(123456789012345678.0)),
            ("", None),
            ("m", None),
            ("Gi", None),
            (".", None),
            ("+", None),
            ("1.2.3", None),
            ("1K", None),
            ("1KI", None),
            ("1gi", None),
            ("1e", None),
            ("1e+", None),
            ("1e1.5", None),
            ("1mm", None),
            ("1Gi ", None),
            (" 1", None),
            ("1e9999999", None),
            ("1e400", None),
            ("0x10", None),
            ("∞", None),
        ];
        for (input, want) in cases {
            assert_eq!(parse_quantity(input), *want, "{input:?}");
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
            attribute_text(Some(&json!({"a": 1}))),
            Err("expected a string, number or boolean, found an object".into())
        );
    }
}
