//! Values the way kube-state-metrics converts them: numbers for data points (its `toFloat64`),
//! text for labels (Go's `%v`), and label names (its `SanitizeLabelName`).

use serde_json::Value;

use crate::collectors::crds::value::integer_text;
use crate::collectors::shared::quantity::parse_quantity;
use crate::exposition::go_float_text;
use crate::objects::json_kind;

/// A data point value, in kube-state-metrics' order: booleans; the strings `true`/`yes` and
/// `false`/`no`/`unknown` (any case, not trimmed); an RFC 3339 timestamp (whole Unix seconds);
/// a Kubernetes quantity; a percentage of digits (`28%` → 0.28); Go's `ParseFloat`. A missing
/// value is 0 with `nil_is_zero`, else an error.
pub fn to_float(value: Option<&Value>, nil_is_zero: bool) -> Result<f64, String> {
    match value {
        None | Some(Value::Null) if nil_is_zero => Ok(0.0),
        None | Some(Value::Null) => Err("expected number but found nil value".into()),
        Some(Value::Bool(b)) => Ok(if *b { 1.0 } else { 0.0 }),
        Some(Value::Number(n)) => n.as_f64().ok_or_else(|| format!("number {n} is out of range")),
        Some(Value::String(s)) => string_to_float(s),
        Some(other) => Err(format!("expected number but was {} {}", json_kind(other), go_text(other))),
    }
}

fn string_to_float(s: &str) -> Result<f64, String> {
    match s.to_lowercase().as_str() {
        "true" | "yes" => return Ok(1.0),
        "false" | "no" | "unknown" => return Ok(0.0),
        _ => {}
    }
    if let Some(seconds) = rfc3339_seconds(s) {
        return Ok(seconds);
    }
    if let Some(quantity) = parse_quantity(s) {
        return Ok(quantity);
    }
    if let Some(digits) =
        s.strip_suffix('%').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    {
        return digits.parse::<f64>().map(|p| p / 100.0).map_err(|e| e.to_string());
    }
    go_parse_float(s).ok_or_else(|| format!("cannot parse {s:?} as a number"))
}

/// Go's `time.Parse(time.RFC3339, s).Unix()`: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, whole
/// seconds rounded down.
fn rfc3339_seconds(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let shape = b.len() >= 20
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':');
    if !shape {
        return None;
    }
    let ts: jiff::Timestamp = s.parse().ok()?;
    let floor = if ts.subsec_nanosecond() < 0 { ts.as_second() - 1 } else { ts.as_second() };
    Some(floor as f64)
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal forms and `Inf`/`NaN` (any case, signed).
fn go_parse_float(s: &str) -> Option<f64> {
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let special = ["inf", "infinity", "nan"].iter().any(|w| unsigned.eq_ignore_ascii_case(w));
    let decimal = !unsigned.is_empty()
        && unsigned.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if !(special || decimal) {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Go's `strconv.ParseBool`.
pub fn go_parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A label value: Go's `fmt.Sprintf("%v", value)` on what Kubernetes' JSON decoding gives
/// (integers as integers, other numbers as Go floats, maps with sorted keys).
pub fn go_text(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => {
            integer_text(n).unwrap_or_else(|| n.as_f64().map_or_else(|| n.to_string(), go_float_text))
        }
        Value::Array(list) => format!("[{}]", list.iter().map(go_text).collect::<Vec<_>>().join(" ")),
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries.iter().map(|(k, v)| format!("{k}:{}", go_text(v))).collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// kube-state-metrics' `SanitizeLabelName`: every character outside `[a-zA-Z0-9_]` becomes `_`.
pub fn sanitize_label_name(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// kube-state-metrics' `Test_values`-style cases for its type conversion.
    #[test]
    fn converts_like_to_float64() {
        let ok: &[(Value, f64)] = &[
            (json!(43.21), 43.21),
            (json!(1), 1.0),
            (json!(true), 1.0),
            (json!(false), 0.0),
            (json!("true"), 1.0),
            (json!("Yes"), 1.0),
            (json!("FALSE"), 0.0),
            (json!("no"), 0.0),
            (json!("Unknown"), 0.0),
            (json!("2022-06-28T00:00:00Z"), 1656374400.0),
            (json!("2022-06-28T00:00:00.9Z"), 1656374400.0),
            (json!("2022-06-28T02:00:00+02:00"), 1656374400.0),
            (json!("250m"), 0.25),
            (json!("5Gi"), 5368709120.0),
            (json!("28%"), 0.28),
            (json!("39%"), 0.39),
            (json!("1e3"), 1000.0),
            (json!("-7.5"), -7.5),
        ];
        for (value, want) in ok {
            assert_eq!(to_float(Some(value), false), Ok(*want), "{value}");
        }
        assert_eq!(to_float(None, true), Ok(0.0));
        assert!(to_float(Some(&json!("Inf")), false).unwrap().is_infinite());
        assert!(to_float(Some(&json!("nan")), false).unwrap().is_nan());
        for bad in [json!(" 42 "), json!("12.5%"), json!("abc"), json!({"a": 1}), json!([1])] {
            assert!(to_float(Some(&bad), false).is_err(), "{bad}");
        }
        assert_eq!(to_float(None, false), Err("expected number but found nil value".into()));
    }

    #[test]
    fn writes_label_values_like_go() {
        assert_eq!(go_text(&json!(1)), "1");
        assert_eq!(go_text(&json!(1.5)), "1.5");
        assert_eq!(go_text(&json!(1.0)), "1");
        assert_eq!(go_text(&json!(1234567.0)), "1.234567e+06");
        assert_eq!(go_text(&json!(false)), "false");
        assert_eq!(go_text(&json!({"b": 2, "a": "x"})), "map[a:x b:2]");
        assert_eq!(go_text(&json!(["a", 1])), "[a 1]");
    }

    #[test]
    fn sanitizes_label_names() {
        assert_eq!(sanitize_label_name("app.kubernetes.io/name"), "app_kubernetes_io_name");
        assert_eq!(sanitize_label_name("lorem_bar"), "lorem_bar");
        assert_eq!(sanitize_label_name("é-x"), "__x");
    }
}
