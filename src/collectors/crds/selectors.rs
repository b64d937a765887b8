//! Kubernetes label and field selectors: parsed at load so `check` rejects a malformed one with
//! its column, sent verbatim to the API server by the watch, and evaluated here by `render` so
//! its preview holds the objects the API server would return.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::Value;

use super::value::scalar_text;

/// A selector that does not parse: the 1-based column and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct SelectorError {
    pub column: usize,
    pub message: String,
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum LabelRequirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (`app=db,tier in (a,b),!canary`); every requirement must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector(Vec<LabelRequirement>);

impl LabelSelector {
    /// Parses the Kubernetes label-selector grammar: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
    /// `k notin (a,b)`, `k`, `!k`, separated by commas. An empty text selects everything.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut s = Scanner { text, pos: 0 };
        let mut requirements = Vec::new();
        s.skip_spaces();
        if s.at_end() {
            return Ok(LabelSelector(requirements));
        }
        loop {
            requirements.push(s.label_requirement()?);
            s.skip_spaces();
            if s.at_end() {
                return Ok(LabelSelector(requirements));
            }
            if !s.eat(",") {
                return Err(s.error("expected `,` between requirements"));
            }
        }
    }

    /// Whether an object with `labels` (its `metadata.labels`) is selected.
    pub fn matches(&self, object: &Value) -> bool {
        let label =
            |key: &str| object.pointer("/metadata/labels").and_then(|l| l.get(key)).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            LabelRequirement::Equals(k, v) => label(k) == Some(v.as_str()),
            LabelRequirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            LabelRequirement::In(k, values) => label(k).is_some_and(|l| values.contains(l)),
            LabelRequirement::NotIn(k, values) => !label(k).is_some_and(|l| values.contains(l)),
            LabelRequirement::Exists(k) => label(k).is_some(),
            LabelRequirement::NotExists(k) => label(k).is_none(),
        })
    }
}

/// One requirement of a field selector: a dotted field, equal (or not) to a value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldRequirement {
    field: String,
    value: String,
    equal: bool,
}

/// A parsed field selector (`metadata.name!=x,status.phase=Running`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector(Vec<FieldRequirement>);

impl FieldSelector {
    /// Parses `k=v`, `k==v` and `k!=v` separated by commas. An empty text selects everything.
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if text.trim().is_empty() {
            return Ok(FieldSelector(requirements));
        }
        let mut start = 0;
        for part in text.split(',') {
            requirements.push(field_requirement(part, start)?);
            start += part.len() + 1;
        }
        Ok(FieldSelector(requirements))
    }

    /// Whether `object` is selected. `metadata.name` and `metadata.namespace` are what the API
    /// server supports for every resource; any other field is read by its dotted path, a missing
    /// field counting as the empty text.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|r| {
            let found = r
                .field
                .split('.')
                .try_fold(object, |v, part| v.get(part))
                .and_then(scalar_text)
                .unwrap_or_default();
            (found == r.value) == r.equal
        })
    }
}

fn field_requirement(part: &str, start: usize) -> Result<FieldRequirement, SelectorError> {
    let error =
        |offset: usize, message: &str| SelectorError { column: start + offset + 1, message: message.into() };
    let (at, op_len, equal) = if let Some(at) = part.find("!=") {
        (at, 2, false)
    } else if let Some(at) = part.find("==") {
        (at, 2, true)
    } else if let Some(at) = part.find('=') {
        (at, 1, true)
    } else {
        return Err(error(part.len(), "expected `=`, `==` or `!=` in a field requirement"));
    };
    let field = part[..at].trim();
    if field.is_empty() {
        return Err(error(at, "expected a field name before the operator"));
    }
    if !field.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(error(0, "a field name is letters, digits, `.`, `_` and `-`"));
    }
    let value = part[at + op_len..].trim();
    if value.contains(['=', '!']) {
        return Err(error(at + op_len, "unexpected operator in the value"));
    }
    Ok(FieldRequirement { field: field.to_owned(), value: value.to_owned(), equal })
}

/// A cursor over a label selector's text.
struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

impl Scanner<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.text.len()
    }

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn error(&self, message: impl fmt::Display) -> SelectorError {
        let found = match self.rest().chars().next() {
            Some(c) => format!("found `{c}`"),
            None => "found the end".to_owned(),
        };
        SelectorError { column: self.pos + 1, message: format!("{message}, {found}") }
    }

    fn skip_spaces(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.text.len() - trimmed.len();
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    /// A key or value: letters, digits, `.`, `_`, `-` and (in keys) `/`.
    fn word(&mut self) -> &str {
        let start = self.pos;
        let len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/')))
            .unwrap_or(self.rest().len());
        self.pos += len;
        &self.text[start..self.pos]
    }

    fn key(&mut self) -> Result<String, SelectorError> {
        let key = self.word().to_owned();
        if key.is_empty() {
            return Err(self.error("expected a label key"));
        }
        Ok(key)
    }

    fn value(&mut self) -> Result<String, SelectorError> {
        self.skip_spaces();
        let start = self.pos;
        let value = self.word().to_owned();
        if value.contains('/') {
            self.pos = start;
            return Err(self.error("a label value cannot contain `/`"));
        }
        Ok(value)
    }

    fn label_requirement(&mut self) -> Result<LabelRequirement, SelectorError> {
        self.skip_spaces();
        if self.eat("!") {
            self.skip_spaces();
            return Ok(LabelRequirement::NotExists(self.key()?));
        }
        let key = self.key()?;
        self.skip_spaces();
        if self.eat("==") || self.eat("=") {
            return Ok(LabelRequirement::Equals(key, self.value()?));
        }
        if self.eat("!=") {
            return Ok(LabelRequirement::NotEquals(key, self.value()?));
        }
        if self.at_end() || self.rest().starts_with(',') {
            return Ok(LabelRequirement::Exists(key));
        }
        let start = self.pos;
        match self.word() {
            "in" => Ok(LabelRequirement::In(key, self.values()?)),
            "notin" => Ok(LabelRequirement::NotIn(key, self.values()?)),
            _ => {
                self.pos = start;
                Err(self.error("expected `=`, `==`, `!=`, `in`, `notin` or `,` after a label key"))
            }
        }
    }

    /// `(a, b, ...)`: at least one value.
    fn values(&mut self) -> Result<BTreeSet<String>, SelectorError> {
        self.skip_spaces();
        if !self.eat("(") {
            return Err(self.error("expected `(` to open the value list"));
        }
        let mut values = BTreeSet::new();
        loop {
            values.insert(self.value()?);
            self.skip_spaces();
            if self.eat(")") {
                return Ok(values);
            }
            if !self.eat(",") {
                return Err(self.error("expected `,` or `)` in the value list"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn label_selectors_parse_and_match() {
        let object = json!({"metadata": {"labels": {"app": "db", "tier": "prod", "team.io/owner": "a"}}});
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("app=db", true),
            ("app==db", true),
            ("app = db , tier!=test", true),
            ("app!=db", false),
            ("tier in (prod, staging)", true),
            ("tier in (staging)", false),
            ("tier notin (prod)", false),
            ("missing notin (prod)", true),
            ("team.io/owner", true),
            ("missing", false),
            ("!missing", true),
            ("!app", false),
            ("app=db,!canary,tier in (prod)", true),
            ("app=", false),
        ];
        for (text, expected) in cases {
            let selector = LabelSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(selector.matches(&object), *expected, "{text}");
        }
    }

    #[test]
    fn malformed_label_selectors_name_the_column() {
        let cases: &[(&str, &str)] = &[
            ("tier in (a,", "column 12: expected `,` or `)` in the value list, found the end"),
            ("tier in a", "column 9: expected `(` to open the value list, found `a`"),
            ("tier within (a)", "column 6: expected `=`, `==`, `!=`, `in`, `notin` or `,`"),
            ("app=db,", "column 8: expected a label key, found the end"),
            ("=db", "column 1: expected a label key, found `=`"),
            ("app=db tier=x", "column 8: expected `,` between requirements, found `t`"),
            ("app=a/b", "column 5: a label value cannot contain `/`"),
            ("!", "column 2: expected a label key, found the end"),
        ];
        for (text, expected) in cases {
            let error = LabelSelector::parse(text).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }

    #[test]
    fn field_selectors_parse_and_match() {
        let object =
            json!({"metadata": {"name": "a", "namespace": "prod"}, "status": {"phase": "Running", "n": 3}});
        let cases: &[(&str, bool)] = &[
            ("", true),
            ("metadata.name=a", true),
            ("metadata.name==a", true),
            ("metadata.name!=a", false),
            ("metadata.namespace=prod,metadata.name!=x", true),
            ("status.phase=Running", true),
            ("status.n=3", true),
            ("status.missing=", true),
            ("status.missing=x", false),
        ];
        for (text, expected) in cases {
            let selector = FieldSelector::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(selector.matches(&object), *expected, "{text}");
        }
    }

    #[test]
    fn malformed_field_selectors_name_the_column() {
        let cases: &[(&str, &str)] = &[
            ("metadata.name", "column 14: expected `=`, `==` or `!=`"),
            ("metadata.name=a,=b", "column 17: expected a field name"),
            ("metadata.name=a,x y=b", "column 17: a field name is"),
            ("a=b=c", "column 3: unexpected operator"),
        ];
        for (text, expected) in cases {
            let error = FieldSelector::parse(text).unwrap_err().to_string();
            assert!(error.starts_with(expected), "{text}: {error}");
        }
    }
}
