//! Loading: YAML text → overrides from the environment → typed config → validation and the
//! collectors' compiled plans. Every problem found is reported, each with its YAML path and,
//! where known, line and column.

use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::env::{self, Env};
use super::locations::Locations;
use super::validate;
use super::{Config, ConfigIssue, ConfigIssues, Plan};

/// Upper bound on structural errors collected from one file (each costs a re-parse).
const MAX_STRUCTURAL_ERRORS: usize = 50;

/// Loads, validates and compiles a config file.
pub fn load_file(path: &Path, env: &Env) -> Result<Plan, ConfigIssues> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        let mut issues = ConfigIssues::new();
        issues.push("", format!("cannot read {}: {e}", path.display()));
        issues
    })?;
    load_str(&text, env)
}

/// Loads, validates and compiles config text.
pub fn load_str(text: &str, env: &Env) -> Result<Plan, ConfigIssues> {
    let mut issues = ConfigIssues::new();
    let mut doc = parse_yaml(text).map_err(|issue| {
        let mut issues = ConfigIssues::new();
        issues.push_issue(issue);
        issues
    })?;
    let defaults = serde_json::to_value(Config::default()).unwrap_or(Value::Null);
    env::apply(&mut doc, &defaults, env, &mut issues);
    let locations = Locations::of(text);
    let config = deserialize_collecting(doc, &locations, &mut issues);
    let plan = config.map(|config| {
        let mut semantic = ConfigIssues::new();
        validate::validate(&config, &mut semantic);
        let collectors = config.collectors.compile("collectors", &mut semantic);
        for mut issue in semantic.into_vec() {
            issue.location = issue.location.or_else(|| locations.find(&issue.path));
            issues.push_issue(issue);
        }
        Plan { config, collectors }
    });
    match plan {
        Some(plan) if issues.is_empty() => Ok(plan),
        _ => Err(issues),
    }
}

fn parse_yaml(text: &str) -> Result<Value, ConfigIssue> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    match serde_saphyr::from_str::<Value>(text) {
        Ok(Value::Null) => Ok(Value::Object(Default::default())),
        Ok(v) => Ok(v),
        Err(e) => Err(ConfigIssue {
            path: String::new(),
            message: format!("not valid YAML: {}", first_line(&e.to_string())),
            location: e.location().map(|l| (l.line() as usize, l.column() as usize)),
        }),
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Deserializes, and on each structural error (unknown key, wrong type, bad enum value) records
/// it, removes the offending node and tries again, so one run reports all of them.
fn deserialize_collecting<T: DeserializeOwned>(
    mut doc: Value,
    locations: &Locations,
    issues: &mut ConfigIssues,
) -> Option<T> {
    for _ in 0..MAX_STRUCTURAL_ERRORS {
        match serde_path_to_error::deserialize::<_, T>(&doc) {
            Ok(config) => return Some(config),
            Err(err) => {
                let path = path_string(err.path());
                let message = hint(&err.inner().to_string());
                let location = locations.find(&path);
                issues.push_issue(ConfigIssue { path: path.clone(), message, location });
                if path.is_empty() || !remove_node(&mut doc, &path) {
                    return None;
                }
            }
        }
    }
    None
}

/// Deserializes a document that was not read from text (an object from the API), with the
/// config file's errors: each structural problem with its path and the same hints.
pub(crate) fn deserialize_document<T: DeserializeOwned>(doc: Value, issues: &mut ConfigIssues) -> Option<T> {
    deserialize_collecting(doc, &Locations::of(""), issues)
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
