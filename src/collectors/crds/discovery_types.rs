//! `select` compiled: which served API types one entry watches (groups and kinds by name or
//! glob, minus exclusions, at most `maxTypes`), and the attributes that tell its types apart.
//!
//! Pure: the served types come from `discovery_scan` (or, for `render`, from the objects read).

use globset::{Glob, GlobMatcher, GlobSet, GlobSetBuilder};
use opentelemetry::KeyValue;
use serde_json::Value;

use super::config_select::SelectConfig;
use crate::config_parts::{index, join, ConfigIssues, Duration};
use crate::series::Point;

/// The attribute naming the API group of a point of a `select` entry.
pub const GROUP_ATTRIBUTE: &str = "k8s.resource.group";
/// The attribute naming the kind of a point of a `select` entry.
pub const KIND_ATTRIBUTE: &str = "k8s.resource.kind";

/// One type the API server serves, as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServedType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub verbs: Vec<String>,
}

impl ServedType {
    /// `<group>/<kind>`, the core group written `core`: the type's name in logs, `/readyz`
    /// and its series table (`crds/<entry>/<group>/<kind>`).
    pub fn id(&self) -> String {
        let group = if self.group.is_empty() { "core" } else { &self.group };
        format!("{group}/{}", self.kind)
    }

    /// Whether its objects can be listed and watched.
    pub fn is_watchable(&self) -> bool {
        ["list", "watch"].iter().all(|verb| self.verbs.iter().any(|v| v == verb))
    }
}

/// What an entry makes of the served types.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Choice {
    /// Watched, sorted by group then kind.
    pub watched: Vec<ServedType>,
    /// Matched, but discovery does not list both `list` and `watch`.
    pub unwatchable: Vec<ServedType>,
    /// Matched and watchable, beyond `maxTypes`.
    pub over_cap: Vec<ServedType>,
}

/// The compiled `select` of one entry.
#[derive(Debug, Clone)]
pub struct TypeSelection {
    /// As written; equality is decided on it.
    config: SelectConfig,
    groups: GlobSet,
    /// `""` is listed: the core group (no glob matches an empty name).
    core: bool,
    kinds: GlobSet,
    exclude: Vec<(GlobMatcher, GlobMatcher)>,
}

impl PartialEq for TypeSelection {
    fn eq(&self, other: &Self) -> bool {
        self.config == other.config
    }
}

impl TypeSelection {
    /// Compiles `select` found at `at`; every malformed glob or missing key is reported.
    pub fn compile(config: &SelectConfig, at: &str, issues: &mut ConfigIssues) -> Self {
        if config.groups.is_empty() {
            issues.push(join(at, "groups"), "required: at least one API group, name or glob (`*.fluxcd.io`)");
        }
        if config.kinds.is_empty() {
            issues
                .push(join(at, "kinds"), "at least one kind, name or glob; leave the key out for every kind");
        }
        let version = config.version.trim();
        if version.is_empty() {
            issues.push(
                join(at, "version"),
                "expected `*` (each group's preferred version) or a version, e.g. v1",
            );
        } else if version != "*" {
            if let Err(e) = crate::collectors::shared::k8s_names::dns_label(version, "an API version") {
                issues.push(join(at, "version"), e);
            }
        }
        if config.max_types == 0 {
            issues.push(join(at, "maxTypes"), "must be at least 1");
        }
        if config.discovery_period.get() < std::time::Duration::from_secs(1) {
            issues.push(join(at, "discoveryPeriod"), "must be at least 1s");
        }
        let mut exclude = Vec::new();
        for (i, entry) in config.exclude.iter().enumerate() {
            let entry_at = index(&join(at, "exclude"), i);
            let group = matcher(&entry.group, &join(&entry_at, "group"), issues);
            let kind = matcher(&entry.kind, &join(&entry_at, "kind"), issues);
            if let (Some(group), Some(kind)) = (group, kind) {
                exclude.push((group, kind));
            }
        }
        TypeSelection {
            groups: glob_set(&config.groups, &join(at, "groups"), true, issues),
            core: config.groups.iter().any(|g| g.trim().is_empty()),
            kinds: glob_set(&config.kinds, &join(at, "kinds"), false, issues),
            exclude,
            config: config.clone(),
        }
    }

    /// `None` for each group's preferred version, else the one version asked for.
    pub fn version(&self) -> Option<&str> {
        Some(self.config.version.trim()).filter(|v| *v != "*")
    }

    pub fn max_types(&self) -> usize {
        self.config.max_types
    }

    pub fn discovery_period(&self) -> Duration {
        self.config.discovery_period
    }

    /// The groups as written.
    pub fn group_patterns(&self) -> &[String] {
        &self.config.groups
    }

    /// The kinds as written.
    pub fn kind_patterns(&self) -> &[String] {
        &self.config.kinds
    }

    /// Whether `group` may hold matching types (decides which groups discovery reads).
    pub fn matches_group(&self, group: &str) -> bool {
        if group.is_empty() {
            self.core
        } else {
            self.groups.is_match(group)
        }
    }

    /// Whether the type `group`/`kind` is selected and not excluded.
    pub fn matches(&self, group: &str, kind: &str) -> bool {
        self.matches_group(group)
            && self.kinds.is_match(kind)
            && !self.exclude.iter().any(|(g, k)| g.is_match(group) && k.is_match(kind))
    }

    /// Whether an object read from a file is of a selected type (any version when `*`).
    pub fn matches_object(&self, object: &Value) -> bool {
        let (Some(api_version), Some(kind)) =
            (object.get("apiVersion").and_then(Value::as_str), object.get("kind").and_then(Value::as_str))
        else {
            return false;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        self.version().is_none_or(|v| v == version) && self.matches(group, kind)
    }

    /// The selected types among `served` (subresources left out, one version per type).
    pub fn choose(&self, served: &[ServedType]) -> Choice {
        let mut matched: Vec<&ServedType> = served
            .iter()
            .filter(|t| !t.plural.contains('/') && self.matches(&t.group, &t.kind))
            .filter(|t| self.version().is_none_or(|v| v == t.version))
            .collect();
        matched.sort_by(|a, b| (&a.group, &a.kind).cmp(&(&b.group, &b.kind)));
        matched.dedup_by(|a, b| a.group == b.group && a.kind == b.kind);
        let mut choice = Choice::default();
        for t in matched {
            if !t.is_watchable() {
                choice.unwatchable.push(t.clone());
            } else if choice.watched.len() < self.config.max_types {
                choice.watched.push(t.clone());
            } else {
                choice.over_cap.push(t.clone());
            }
        }
        choice
    }
}

/// The attributes that say which type a point of a `select` entry came from.
pub fn type_attributes(group: &str, kind: &str) -> Vec<KeyValue> {
    vec![KeyValue::new(GROUP_ATTRIBUTE, group.to_owned()), KeyValue::new(KIND_ATTRIBUTE, kind.to_owned())]
}

/// Puts `attributes` first on every point (aggregation inputs too, so aggregations are per type).
pub fn tag_points(points: &mut [Point], attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    for point in points {
        point.attributes.splice(0..0, attributes.iter().cloned());
    }
}

fn matcher(pattern: &str, at: &str, issues: &mut ConfigIssues) -> Option<GlobMatcher> {
    match Glob::new(pattern.trim()) {
        Ok(glob) if !pattern.trim().is_empty() => Some(glob.compile_matcher()),
        Ok(_) => {
            issues.push(at, "empty pattern; leave the key out for `*`");
            None
        }
        Err(e) => {
            issues.push(at, format!("malformed glob {pattern:?}: {}", e.kind()));
            None
        }
    }
}

/// `patterns` as one set; a malformed one (or an empty one, unless `skip_empty`: the core
/// group among groups) is reported at its index.
fn glob_set(patterns: &[String], at: &str, skip_empty: bool, issues: &mut ConfigIssues) -> GlobSet {
    let mut builder = GlobSetBuilder::new();
    for (i, pattern) in patterns.iter().enumerate() {
        if skip_empty && pattern.trim().is_empty() {
            continue;
        }
        if let Some(glob) = matcher(pattern, &index(at, i), issues) {
            builder.add(glob.glob().clone());
        }
    }
    builder.build().unwrap_or_else(|_| GlobSet::empty())
}
