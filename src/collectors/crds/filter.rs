//! The structured aggregation filter `{field, operator, value}` (SPEC §4.2).

use std::cmp::Ordering;

use regex::Regex;
use serde_json::Value;

use super::fields::FieldValue;
use super::object_fields::FieldIndex;
use super::value::scalar_text;

/// The operators, as written in the config.
pub const OPERATORS: [&str; 9] =
    ["equals", "notEquals", "contains", "startsWith", "endsWith", "greaterThan", "lessThan", "in", "matches"];

/// A compiled `{field, operator, value}`.
#[derive(Debug, Clone)]
pub struct FieldMatch {
    pub field: FieldIndex,
    test: Test,
}

/// Matches are equal when they test the same field the same way.
impl PartialEq for FieldMatch {
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field && format!("{:?}", self.test) == format!("{:?}", other.test)
    }
}

#[derive(Debug, Clone)]
enum Test {
    Compare(Compare, Operand),
    In(Vec<Operand>),
    Matches(Regex),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compare {
    Equals,
    NotEquals,
    Contains,
    StartsWith,
    EndsWith,
    GreaterThan,
    LessThan,
}

/// One side of a comparison: its text, and its number when it is one.
#[derive(Debug, Clone, PartialEq)]
struct Operand {
    text: String,
    number: Option<f64>,
}

impl Operand {
    fn of_text(text: String) -> Operand {
        let number = text.trim().parse::<f64>().ok().filter(|f| f.is_finite());
        Operand { text, number }
    }

    fn of_field(value: &FieldValue) -> Operand {
        match value {
            FieldValue::Int(i) => Operand { text: i.to_string(), number: Some(*i as f64) },
            FieldValue::Float(f) => Operand { text: f.to_string(), number: Some(*f) },
            FieldValue::Bool(b) => Operand { text: b.to_string(), number: None },
            FieldValue::Text(t) => Operand::of_text(t.to_string()),
        }
    }

    /// Numbers when both are numbers, else text.
    fn order(&self, other: &Operand) -> Option<Ordering> {
        match (self.number, other.number) {
            (Some(a), Some(b)) => a.partial_cmp(&b),
            _ => Some(self.text.cmp(&other.text)),
        }
    }
}

impl FieldMatch {
    /// Compiles `operator` with `value` for `field`; the error says what is expected.
    pub fn compile(
        field: FieldIndex,
        operator: &str,
        value: &Value,
    ) -> Result<FieldMatch, (&'static str, String)> {
        let scalar = |value: &Value| {
            scalar_text(value)
                .map(Operand::of_text)
                .ok_or(("value", "expected a string, number or boolean".to_owned()))
        };
        let compare = |c: Compare| scalar(value).map(|v| Test::Compare(c, v));
        let test = match operator {
            "equals" => compare(Compare::Equals)?,
            "notEquals" => compare(Compare::NotEquals)?,
            "contains" => compare(Compare::Contains)?,
            "startsWith" => compare(Compare::StartsWith)?,
            "endsWith" => compare(Compare::EndsWith)?,
            "greaterThan" => compare(Compare::GreaterThan)?,
            "lessThan" => compare(Compare::LessThan)?,
            "in" => match value {
                Value::Array(list) => Test::In(list.iter().map(scalar).collect::<Result<_, _>>()?),
                _ => return Err(("value", "the in operator takes a list of values".to_owned())),
            },
            "matches" => {
                let Value::String(pattern) = value else {
                    return Err(("value", "the matches operator takes a regular expression".to_owned()));
                };
                Test::Matches(
                    Regex::new(pattern).map_err(|e| ("value", format!("invalid regular expression: {e}")))?,
                )
            }
            "" => return Err(("operator", format!("required: one of {}", OPERATORS.join(", ")))),
            other => {
                return Err((
                    "operator",
                    format!("unknown operator {other:?}; expected one of {}", OPERATORS.join(", ")),
                ))
            }
        };
        Ok(FieldMatch { field, test })
    }

    /// Whether `value` (the object's value of the field) passes; no value passes nothing.
    pub fn passes(&self, value: Option<&FieldValue>) -> bool {
        let Some(value) = value else { return false };
        let left = Operand::of_field(value);
        match &self.test {
            Test::Compare(compare, right) => {
                let order = left.order(right);
                match compare {
                    Compare::Equals => order == Some(Ordering::Equal),
                    Compare::NotEquals => order != Some(Ordering::Equal),
                    Compare::Contains => left.text.contains(&right.text),
                    Compare::StartsWith => left.text.starts_with(&right.text),
                    Compare::EndsWith => left.text.ends_with(&right.text),
                    Compare::GreaterThan => order == Some(Ordering::Greater),
                    Compare::LessThan => order == Some(Ordering::Less),
                }
            }
            Test::In(list) => list.iter().any(|right| left.order(right) == Some(Ordering::Equal)),
            Test::Matches(regex) => regex.is_match(&left.text),
        }
    }
}
