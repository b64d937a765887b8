//! Loading: YAML text → overrides from the environment → typed config → validation and the
//! collectors' compiled plans. Every problem found is reported, each with its YAML path and,
//! where known, line and column.

use std::path::Path;

use serde_json::Value;

use super::env::{self, Env};
use super::locations::Locations;
use super::validate;
use super::{Config, ConfigIssue, ConfigIssues, Plan};
use crate::config_parts::deserialize_collecting;

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
    let config = deserialize_collecting::<Config>(doc, |path| locations.find(path), &mut issues);
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
