//! Typed fields (SPEC §4.2): one JSON value converted to the field's declared type.
//!
//! A missing or null value is no value and no error; a value that does not convert is no value
//! and an error (the caller counts it like any extraction error, then applies `default:`).

use std::fmt;
use std::sync::Arc;

use serde_json::Value;

use super::value::{parse_timestamp, scalar_text, to_number};
use crate::collectors::shared::quantity::parse_quantity;
use crate::objects::json_kind;

/// The declared type of a field, as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Integer,
    Float,
    Boolean,
    Quantity,
    Timestamp,
    Duration,
    ArrayLength,
}

/// The types, as written in the config.
pub const FIELD_TYPES: [&str; 8] =
    ["string", "integer", "float", "boolean", "quantity", "timestamp", "duration", "arrayLength"];

impl FieldType {
    /// The type named `text` in the config.
    pub fn parse(text: &str) -> Option<FieldType> {
        let types = [
            FieldType::String,
            FieldType::Integer,
            FieldType::Float,
            FieldType::Boolean,
            FieldType::Quantity,
            FieldType::Timestamp,
            FieldType::Duration,
            FieldType::ArrayLength,
        ];
        FIELD_TYPES.iter().position(|t| *t == text).map(|i| types[i])
    }
}

/// A field's value for one object. Kept per object only as long as its extraction runs.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Text(Arc<str>),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl FieldValue {
    /// The value as a number: integers and floats; booleans 1/0; text that is a number.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            FieldValue::Int(i) => Some(*i as f64),
            FieldValue::Float(f) => Some(*f),
            FieldValue::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            FieldValue::Text(t) => t.trim().parse::<f64>().ok().filter(|f| f.is_finite()),
        }
    }

    /// Whether the value is a number in its own right (text that looks like one is not).
    pub fn is_number(&self) -> bool {
        matches!(self, FieldValue::Int(_) | FieldValue::Float(_))
    }
}

/// Text as in attributes: strings as they are, numbers in their shortest form (`2`, `2.5`).
impl fmt::Display for FieldValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldValue::Text(t) => f.write_str(t),
            FieldValue::Int(i) => write!(f, "{i}"),
            FieldValue::Float(x) => write!(f, "{x}"),
            FieldValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

/// `value` converted to `ty`: `Ok(None)` when it is missing or null, an error saying what was
/// found when it does not convert. Never panics.
pub fn convert(value: Option<&Value>, ty: FieldType) -> Result<Option<FieldValue>, String> {
    let value = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(v) => v,
    };
    let found = || format!("expected {}, found {}", expected(ty), describe(value));
    let converted = match ty {
        FieldType::String => scalar_text(value).map(|t| FieldValue::Text(t.into())),
        FieldType::Integer => integer(value).map(FieldValue::Int),
        FieldType::Float => to_number(value).ok().map(FieldValue::Float),
        FieldType::Boolean => boolean(value).map(FieldValue::Bool),
        FieldType::Quantity => numeric_or(value, |s| parse_quantity(s.trim())).map(FieldValue::Float),
        FieldType::Timestamp => numeric_or(value, |s| parse_timestamp(s.trim())).map(FieldValue::Float),
        FieldType::Duration => numeric_or(value, duration_seconds).map(FieldValue::Float),
        FieldType::ArrayLength => match value {
            Value::Array(list) => Some(FieldValue::Int(list.len() as i64)),
            Value::Object(map) => Some(FieldValue::Int(map.len() as i64)),
            _ => None,
        },
    };
    converted.map(Some).ok_or_else(found)
}

fn expected(ty: FieldType) -> &'static str {
    match ty {
        FieldType::String => "a string, number or boolean",
        FieldType::Integer => "an integer",
        FieldType::Float => "a number",
        FieldType::Boolean => "a boolean",
        FieldType::Quantity => "a quantity such as \"250m\" or \"5Gi\"",
        FieldType::Timestamp => "an RFC 3339 timestamp",
        FieldType::Duration => "a duration such as \"1h30m\" or \"90s\"",
        FieldType::ArrayLength => "a list or a map",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => n.to_string(),
        other => json_kind(other).to_owned(),
    }
}

/// Integers, numbers without a fraction and text holding either.
fn integer(value: &Value) -> Option<i64> {
    let whole = |f: f64| (f.fract() == 0.0 && f.abs() < 9.2e18).then_some(f as i64);
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().and_then(whole)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| s.parse::<f64>().ok().and_then(whole))
        }
        _ => None,
    }
}

/// Booleans and the text `true`/`false` in any case.
fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Numbers as they are (finite), text through `parse`.
fn numeric_or(value: &Value, parse: impl Fn(&str) -> Option<f64>) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64().filter(|f| f.is_finite()),
        Value::String(s) => parse(s),
        _ => None,
    }
}

/// `1h30m`, `90s`, `1.5h` (Go's `time.ParseDuration` forms) and `1h 30m` → seconds.
fn duration_seconds(text: &str) -> Option<f64> {
    let text = text.trim();
    if let Ok(d) = humantime::parse_duration(text) {
        return Some(d.as_secs_f64());
    }
    go_duration(text)
}

/// Go's duration syntax, which also allows fractions (`1.5h`) and a sign.
fn go_duration(text: &str) -> Option<f64> {
    let (sign, mut rest) = match text.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, text.strip_prefix('+').unwrap_or(text)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    let mut any = false;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += number * scale;
        any = true;
    }
    (any && total.is_finite()).then_some(sign * total)
}
