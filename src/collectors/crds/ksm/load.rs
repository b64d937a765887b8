//! Reading the kube-state-metrics document, inline or from its file, and where its problems
//! are reported: inline ones at their YAML path under `config`, a file's at `configFile` with
//! the file name and the path inside it.

use serde_json::Value;

use super::document::Document;
use super::source::KsmSource;
use crate::config_parts::{join, ConfigIssues};

/// Where the document came from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// `config:`, at this YAML path.
    Inline(String),
    /// `configFile:` (the key's YAML path) and the file name.
    File { at: String, file: String },
}

impl Origin {
    /// Records `message` for the document's node at `inner` (`spec.resources[0].metrics[1]`).
    pub fn push(&self, issues: &mut ConfigIssues, inner: &str, message: impl std::fmt::Display) {
        match self {
            Origin::Inline(at) => issues.push(join(at, inner), message),
            Origin::File { at, file } => {
                let inner = if inner.is_empty() { "(top level)" } else { inner };
                issues.push(at.clone(), format!("{file}: {inner}: {message}"))
            }
        }
    }
}

/// The document of `source` (found at `at`) as text-free JSON, and where it came from; `None`
/// with issues recorded when it cannot be read.
pub fn load(source: &KsmSource, at: &str, issues: &mut ConfigIssues) -> Option<(Origin, Value)> {
    match (&source.config_file, &source.config) {
        (Some(_), Some(_)) => {
            issues.push(at, "give configFile or config, not both");
            None
        }
        (None, None) => {
            issues.push(at, "give configFile (a path) or config (the document itself)");
            None
        }
        // Text, as kube-state-metrics' `--custom-resource-state-config` flag takes it.
        (None, Some(Value::String(text))) => {
            let at = join(at, "config");
            let value = parse_yaml(text, "the document text", &at, issues)?;
            Some((Origin::Inline(at), value))
        }
        (None, Some(inline)) => Some((Origin::Inline(join(at, "config")), inline.clone())),
        (Some(file), None) => {
            let at = join(at, "configFile");
            let text = match std::fs::read_to_string(file) {
                Ok(text) => text,
                Err(e) => {
                    issues.push(at, format!("cannot read {file}: {e}"));
                    return None;
                }
            };
            let value = parse_yaml(&text, file, &at, issues)?;
            Some((Origin::File { at, file: file.clone() }, value))
        }
    }
}

/// `text` as YAML; `None`, with the problem recorded at `at` naming `what`, when it is not.
fn parse_yaml(text: &str, what: &str, at: &str, issues: &mut ConfigIssues) -> Option<Value> {
    serde_saphyr::from_str::<Value>(text)
        .map_err(|e| {
            let first = e.to_string().lines().next().unwrap_or_default().to_owned();
            let line = e.location().map(|l| format!(" (line {}, column {})", l.line(), l.column()));
            issues.push(at, format!("{what}{}: not valid YAML: {first}", line.unwrap_or_default()));
        })
        .ok()
}

/// The typed document; a wrong type is reported at its path inside the document.
pub fn parse(origin: &Origin, value: &Value, issues: &mut ConfigIssues) -> Option<Document> {
    match serde_path_to_error::deserialize::<_, Document>(value) {
        Ok(document) => Some(document),
        Err(e) => {
            let path = e.path().to_string();
            let path = if path == "." { String::new() } else { path };
            origin.push(issues, &path, e.inner());
            None
        }
    }
}
