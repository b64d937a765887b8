//! The field path language of SPEC §4, compiled once at load and evaluated per object.
//!
//! Forms: `metadata.name`, `status.conditions[0].type`, `spec.items[-1]` (from the end),
//! `status.conditions[type=Ready].status` (first element whose field, rendered as text, equals
//! the value), `metadata.labels["app.kubernetes.io/name"]` (quoted keys, `"` or `'`).

use std::fmt;

use serde_json::Value;

use super::value::scalar_text;

/// One step of a compiled path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An object member: `name` or `["name"]`.
    Field(String),
    /// A list element; negative counts from the end.
    Index(i64),
    /// The first list element whose `field` renders as `value`.
    Filter { field: String, value: String },
}

/// Why a path does not compile: the path as written and what is wrong where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed path {path:?}: {problem}")]
pub struct PathError {
    pub path: String,
    pub problem: PathProblem,
}

/// What is wrong in a malformed path; positions are 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    #[error("the path is empty; expected a field name such as `status.phase`")]
    Empty,
    #[error("expected {expected} at position {position}, found {found}")]
    Unexpected { expected: String, position: usize, found: Found },
    #[error("unterminated string starting at position {open}; expected a closing {quote}")]
    Unterminated { open: usize, quote: char },
    #[error("expected an integer index at position {position}, found {text:?}")]
    NotAnIndex { position: usize, text: String },
    #[error("control character {found:?} at position {position}; a path holds printable text only")]
    Control { position: usize, found: char },
}

/// What the parser found where it expected something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    Char(char),
    End,
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Char(c) => write!(f, "{c:?}"),
            Found::End => f.write_str("the end of the path"),
        }
    }
}

/// A compiled path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    source: String,
    segments: Vec<Segment>,
}

impl Path {
    /// Compiles `source`; the error says where the path is malformed and what was expected.
    pub fn compile(source: &str) -> Result<Path, PathError> {
        let segments = Parser { chars: source.chars().collect(), pos: 0 }
            .parse()
            .map_err(|problem| PathError { path: source.to_owned(), problem })?;
        Ok(Path { source: source.to_owned(), segments })
    }

    /// The value at this path, or `None` when any step is missing or of the wrong type.
    pub fn get<'a>(&self, root: &'a Value) -> Option<&'a Value> {
        self.segments.iter().try_fold(root, |value, segment| match segment {
            Segment::Field(name) => value.as_object()?.get(name),
            Segment::Index(i) => {
                let list = value.as_array()?;
                let i = if *i < 0 { list.len().checked_sub(i.unsigned_abs() as usize)? } else { *i as usize };
                list.get(i)
            }
            Segment::Filter { field, value: wanted } => value
                .as_array()?
                .iter()
                .find(|element| element.get(field).and_then(scalar_text).is_some_and(|text| text == *wanted)),
        })
    }

    /// The path as written in the config.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Its steps as the decoding of watched objects sees them ([`super::needed`]).
    pub fn steps(&self) -> impl Iterator<Item = Step<'_>> {
        self.segments.iter().map(|segment| match segment {
            Segment::Field(name) => Step::Member(name),
            Segment::Index(_) => Step::Element,
            Segment::Filter { field, .. } => Step::ElementWhere(field),
        })
    }
}

/// One step of a path, without the values it compares: which member it enters, or that it
/// enters a list element (one chosen by a field's value, for a filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step<'a> {
    Member(&'a str),
    Element,
    ElementWhere(&'a str),
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Characters that end an unquoted name.
fn is_delimiter(c: char) -> bool {
    matches!(c, '.' | '[' | ']' | '"' | '\'' | '=') || c.is_whitespace()
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn parse(mut self) -> Result<Vec<Segment>, PathProblem> {
        if self.chars.is_empty() {
            return Err(PathProblem::Empty);
        }
        if let Some(i) = self.chars.iter().position(|c| c.is_control()) {
            return Err(PathProblem::Control { position: i + 1, found: self.chars[i] });
        }
        let mut segments = Vec::new();
        if self.peek() == Some('[') {
            segments.push(self.bracket()?);
        } else {
            segments.push(Segment::Field(self.name("a field name")?));
        }
        while let Some(c) = self.peek() {
            match c {
                '.' => {
                    self.pos += 1;
                    segments.push(Segment::Field(self.name("a field name after '.'")?));
                }
                '[' => segments.push(self.bracket()?),
                _ => return Err(self.unexpected("'.' or '['")),
            }
        }
        Ok(segments)
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// An error at the current position (1-based, in characters).
    fn unexpected(&self, expected: &str) -> PathProblem {
        let found = self.peek().map_or(Found::End, Found::Char);
        PathProblem::Unexpected { expected: expected.to_owned(), position: self.pos + 1, found }
    }

    fn expect(&mut self, wanted: char) -> Result<(), PathProblem> {
        if self.peek() == Some(wanted) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("{wanted:?}")))
        }
    }

    /// An unquoted name: one or more characters up to the next delimiter.
    fn name(&mut self, expected: &str) -> Result<String, PathProblem> {
        let start = self.pos;
        while self.peek().is_some_and(|c| !is_delimiter(c)) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected(expected));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    /// A string in single or double quotes; `\` escapes the next character.
    fn quoted(&mut self) -> Result<String, PathProblem> {
        let quote =
            self.peek().filter(|c| *c == '"' || *c == '\'').ok_or_else(|| self.unexpected("a quote"))?;
        let open = self.pos + 1;
        self.pos += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(PathProblem::Unterminated { open, quote }),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(text);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => text.push(c),
                        None => return Err(self.unexpected("a character after '\\'")),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// `[0]`, `[-1]`, `["key"]`, `['key']`, `[field=value]`, `[field="value"]`.
    fn bracket(&mut self) -> Result<Segment, PathProblem> {
        self.expect('[')?;
        let segment = match self.peek() {
            Some('"' | '\'') => {
                let key = self.quoted()?;
                if self.peek() == Some('=') {
                    self.pos += 1;
                    Segment::Filter { field: key, value: self.filter_value()? }
                } else {
                    Segment::Field(key)
                }
            }
            Some(c) if c == '-' || c.is_ascii_digit() => self.index_or_filter()?,
            _ => {
                let field = self.name("an index, a quoted key or `field=value`")?;
                self.expect('=')?;
                Segment::Filter { field, value: self.filter_value()? }
            }
        };
        self.expect(']')?;
        Ok(segment)
    }

    /// A number is an index unless `=` follows (a field may be named `0`).
    fn index_or_filter(&mut self) -> Result<Segment, PathProblem> {
        let start = self.pos;
        let text = self.name("an index")?;
        if self.peek() == Some('=') {
            self.pos += 1;
            return Ok(Segment::Filter { field: text, value: self.filter_value()? });
        }
        text.parse::<i64>()
            .map(Segment::Index)
            .map_err(|_| PathProblem::NotAnIndex { position: start + 1, text })
    }

    /// The value of a filter: quoted, or everything up to `]`.
    fn filter_value(&mut self) -> Result<String, PathProblem> {
        if matches!(self.peek(), Some('"' | '\'')) {
            return self.quoted();
        }
        let start = self.pos;
        while self.peek().is_some_and(|c| c != ']') {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.unexpected("a value after '=' (quote it to match an empty string)"));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn object() -> Value {
        json!({
            "metadata": {
                "name": "db",
                "labels": {"app.kubernetes.io/name": "postgres", "tier": "data", "0": "zero"},
                "annotations": {"it's": "quoted"}
            },
            "spec": {"items": ["a", "b", "c"], "replicas": 3},
            "status": {
                "conditions": [
                    {"type": "Ready", "status": "True"},
                    {"type": "Synced", "status": "False", "reason": "Error"}
                ],
                "members": [{"id": 3, "up": true}, {"id": 4.5, "up": false}],
                "empty": [{"name": ""}]
            }
        })
    }

    #[test]
    fn evaluates_every_path_form() {
        let obj = object();
        let cases: &[(&str, Option<Value>)] = &[
            ("metadata.name", Some(json!("db"))),
            ("spec.replicas", Some(json!(3))),
            ("status.conditions[0].type", Some(json!("Ready"))),
            ("status.conditions[1].reason", Some(json!("Error"))),
            ("spec.items[-1]", Some(json!("c"))),
            ("spec.items[-3]", Some(json!("a"))),
            ("spec.items[-4]", None),
            ("spec.items[3]", None),
            ("status.conditions[type=Ready].status", Some(json!("True"))),
            ("status.conditions[type=\"Synced\"].reason", Some(json!("Error"))),
            ("status.conditions[type=Gone].status", None),
            ("status.members[id=3].up", Some(json!(true))),
            ("status.members[id=4.5].up", Some(json!(false))),
            ("status.members[up=false].id", Some(json!(4.5))),
            ("status.empty[name=''].name", Some(json!(""))),
            ("metadata.labels[\"app.kubernetes.io/name\"]", Some(json!("postgres"))),
            ("metadata.labels['app.kubernetes.io/name']", Some(json!("postgres"))),
            ("metadata.annotations[\"it's\"]", Some(json!("quoted"))),
            ("metadata.annotations['it\\'s']", Some(json!("quoted"))),
            ("metadata.labels[\"0\"]", Some(json!("zero"))),
            ("[\"metadata\"].name", Some(json!("db"))),
            ("metadata.missing.deeper", None),
            // Wrong types along the way are "missing", never a panic.
            ("metadata.name.first", None),
            ("metadata[0]", None),
            ("spec.items.first", None),
            ("spec.replicas[type=x]", None),
            ("status.members[name=x]", None),
        ];
        for (source, want) in cases {
            let path = Path::compile(source).unwrap_or_else(|e| panic!("{source}: {e}"));
            assert_eq!(path.get(&obj), want.as_ref(), "{source}");
            assert_eq!(path.to_string(), *source);
        }
    }

    #[test]
    fn rejects_malformed_paths_saying_where_and_what() {
        let cases = [
            ("", "the path is empty"),
            ("status..phase", "expected a field name after '.' at position 8, found '.'"),
            ("status.", "expected a field name after '.' at position 8, found the end of the path"),
            (".status", "expected a field name at position 1, found '.'"),
            ("status.conditions[", "expected an index, a quoted key or `field=value` at position 19"),
            ("status.conditions[0", "expected ']' at position 20, found the end"),
            ("status.conditions[1x]", "expected an integer index at position 19, found \"1x\""),
            ("status.conditions[type]", "expected '=' at position 23, found ']'"),
            ("status.conditions[type=]", "expected a value after '='"),
            ("metadata.labels[\"app", "unterminated string starting at position 17; expected a closing \""),
            ("metadata.labels['a']x", "expected '.' or '[' at position 21, found 'x'"),
            ("metadata name", "expected '.' or '[' at position 9, found ' '"),
            ("spec.items[99999999999999999999]", "expected an integer index"),
            ("spec.\u{0}name", "control character '\\0' at position 6"),
            ("metadata.labels[\"a\u{1}\"]", "control character '\\u{1}' at position 19"),
        ];
        for (source, want) in cases {
            let err = Path::compile(source).unwrap_err().to_string();
            assert!(err.starts_with(&format!("malformed path {source:?}: ")), "{source}: {err}");
            assert!(err.contains(want), "{source}: {err}");
        }
    }
}
