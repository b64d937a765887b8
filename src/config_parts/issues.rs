//! Configuration errors with their YAML path, collected rather than returned one at a time.

use std::fmt;

/// One problem in a configuration, located by its YAML path (`collectors.crds.resources[2].metrics[0].path`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub path: String,
    pub message: String,
    /// 1-based line and column, when the parser knows them.
    pub location: Option<(usize, usize)>,
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "(top level)" } else { &self.path };
        match self.location {
            Some((line, column)) => write!(f, "{path} (line {line}, column {column}): {}", self.message),
            None => write!(f, "{path}: {}", self.message),
        }
    }
}

/// Accumulates issues during validation.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ConfigIssues(Vec<ConfigIssue>);

impl ConfigIssues {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a problem at `path`; `message` is text or a typed error.
    pub fn push(&mut self, path: impl Into<String>, message: impl fmt::Display) {
        self.0.push(ConfigIssue { path: path.into(), message: message.to_string(), location: None });
    }

    pub fn push_issue(&mut self, issue: ConfigIssue) {
        self.0.push(issue);
    }

    pub fn extend(&mut self, other: ConfigIssues) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &ConfigIssue> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<ConfigIssue> {
        self.0
    }

    /// `Ok(value)` when nothing was recorded.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigIssues> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ConfigIssues {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for issue in &self.0 {
            writeln!(f, "{issue}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigIssues {}

/// Joins a YAML path and a child key: `join("a.b", "c") == "a.b.c"`.
pub fn join(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else {
        format!("{parent}.{child}")
    }
}

/// A list element path: `index("a.b", 2) == "a.b[2]"`.
pub fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}
