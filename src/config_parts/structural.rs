//! Structural errors of a config document (unknown key, wrong type, bad enum value): each
//! recorded with its path and a hint, the offending node removed and the rest read again, so
//! one run reports all of them. Shared by the config file and by documents read from the API
//! (metric sources), so both say the same.

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::issues::{ConfigIssue, ConfigIssues};

/// Upper bound on structural errors collected from one document (each costs a re-parse).
const MAX_STRUCTURAL_ERRORS: usize = 50;

/// Deserializes, and on each structural error (unknown key, wrong type, bad enum value) records
/// it, removes the offending node and tries again, so one run reports all of them.
/// `locate` gives the line and column of a path, when the document was read from text.
pub fn deserialize_collecting<T: DeserializeOwned>(
    mut doc: Value,
    locate: impl Fn(&str) -> Option<(usize, usize)>,
    issues: &mut ConfigIssues,
) -> Option<T> {
    for _ in 0..MAX_STRUCTURAL_ERRORS {
        match serde_path_to_error::deserialize::<_, T>(&doc) {
            Ok(config) => return Some(config),
            Err(err) => {
                let path = path_string(err.path());
                let message = hint(&err.inner().to_string());
                let location = locate(&path);
                issues.push_issue(ConfigIssue { path: path.clone(), message, location });
                if path.is_empty() || !remove_node(&mut doc, &path) {
                    return None;
                }
            }
        }
    }
    None
}

fn path_string(path: &serde_path_to_error::Path) -> String {
    let s = path.to_string();
    if s == "." {
        String::new()
    } else {
        s
    }
}

/// serde's messages are precise but terse; say what a user should write.
fn hint(message: &str) -> String {
    if message.starts_with("unknown field") {
        format!("{message} (the config is strict: remove the key or fix its spelling)")
    } else if message.starts_with("invalid type: boolean") && message.ends_with("expected a string") {
        format!(
            "{message}: YAML reads an unquoted y, n, yes, no, on, off, true or false as a boolean; \
             quote the text to keep it (\"off\")"
        )
    } else if message.starts_with("invalid type:") && message.ends_with("expected a string") {
        format!("{message}: quote the value to keep it as text")
    } else {
        message.to_owned()
    }
}

/// Removes the node at a `a.b[2].c` path; false when it is not there.
fn remove_node(doc: &mut Value, path: &str) -> bool {
    let segments = split_path(path);
    let Some((last, parents)) = segments.split_last() else { return false };
    let mut node = doc;
    for seg in parents {
        node = match (seg, node) {
            (Segment::Key(k), Value::Object(m)) => match m.get_mut(*k) {
                Some(n) => n,
                None => return false,
            },
            (Segment::Index(i), Value::Array(a)) => match a.get_mut(*i) {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
    }
    match (last, node) {
        (Segment::Key(k), Value::Object(m)) => m.remove(*k).is_some(),
        (Segment::Index(i), Value::Array(a)) if *i < a.len() => {
            // Keep later indices stable for the paths still to be reported.
            a[*i] = Value::Null;
            true
        }
        _ => false,
    }
}

enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

fn split_path(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, rest) = part.split_once('[').map_or((part, ""), |(k, r)| (k, r));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            if let Ok(i) = idx.trim_end_matches(']').parse() {
                out.push(Segment::Index(i));
            }
        }
    }
    out
}
