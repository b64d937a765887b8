//! Which namespaces a resource is read from (SPEC §4.1): exact names, globs and `!` exclusions.
//!
//! Exact names only keep one watch per namespace, so the agent needs no right beyond those
//! namespaces; any glob or exclusion needs one cluster-wide watch whose objects are filtered
//! here, since the API server cannot select namespaces by pattern.

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::config_parts::{index, join, ConfigIssues};

/// How the objects of a resource are watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchMode {
    /// No namespace given: one watch over every namespace.
    All,
    /// Exact names only: one watch per namespace.
    PerNamespace,
    /// Globs or exclusions: one cluster-wide watch, objects filtered in the agent.
    Filtered,
}

impl WatchMode {
    /// How `check` and `rbac` describe it.
    pub fn describe(self) -> &'static str {
        match self {
            WatchMode::All => "cluster-wide watch",
            WatchMode::PerNamespace => "watch per namespace",
            WatchMode::Filtered => "cluster-wide watch filtered in the agent",
        }
    }
}

/// The compiled `namespaces` and `excludeNamespaces` of one resource.
#[derive(Debug, Clone)]
pub struct NamespaceSelection {
    /// The entries as written, exclusions prefixed with `!`; equality is decided on these.
    entries: Vec<String>,
    /// Exact names, when every entry is one; the namespaces watched one by one.
    exact: Vec<String>,
    /// `None`: every namespace not excluded.
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl PartialEq for NamespaceSelection {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Default for NamespaceSelection {
    fn default() -> Self {
        NamespaceSelection {
            entries: Vec::new(),
            exact: Vec::new(),
            include: None,
            exclude: GlobSet::empty(),
        }
    }
}

fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '[', '{'])
}

impl NamespaceSelection {
    /// Compiles `namespaces` (at `at.namespaces`) and `exclude` (at `at.excludeNamespaces`);
    /// an empty entry or a malformed glob is reported with its path.
    pub fn compile(namespaces: &[String], exclude: &[String], at: &str, issues: &mut ConfigIssues) -> Self {
        let mut includes = GlobSetBuilder::new();
        let mut excludes = GlobSetBuilder::new();
        let (mut include_count, mut entries, mut exact) = (0, Vec::new(), Vec::new());
        let mut all_exact = true;
        let written = namespaces
            .iter()
            .enumerate()
            .map(|(i, n)| (index(&join(at, "namespaces"), i), n.as_str(), false));
        let excluded = exclude
            .iter()
            .enumerate()
            .map(|(i, n)| (index(&join(at, "excludeNamespaces"), i), n.as_str(), true));
        for (path, entry, listed_as_excluded) in written.chain(excluded) {
            let (pattern, excluding) = match entry.trim().strip_prefix('!') {
                Some(rest) => (rest.trim(), true),
                None => (entry.trim(), listed_as_excluded),
            };
            if pattern.is_empty() {
                issues.push(path, "empty namespace name (leave the list empty for all)");
                continue;
            }
            let glob = match Glob::new(pattern) {
                Ok(glob) => glob,
                Err(e) => {
                    issues.push(path, format!("malformed namespace glob {pattern:?}: {}", e.kind()));
                    continue;
                }
            };
            entries.push(if excluding { format!("!{pattern}") } else { pattern.to_owned() });
            if excluding {
                excludes.add(glob);
                all_exact = false;
            } else {
                includes.add(glob);
                include_count += 1;
                all_exact &= !is_glob(pattern);
                exact.push(pattern.to_owned());
            }
        }
        let build = |b: GlobSetBuilder| b.build().unwrap_or_else(|_| GlobSet::empty());
        NamespaceSelection {
            exact: if all_exact { exact } else { Vec::new() },
            include: (include_count > 0).then(|| build(includes)),
            exclude: build(excludes),
            entries,
        }
    }

    /// How objects are watched.
    pub fn mode(&self) -> WatchMode {
        if self.entries.is_empty() {
            WatchMode::All
        } else if !self.exact.is_empty() {
            WatchMode::PerNamespace
        } else {
            WatchMode::Filtered
        }
    }

    /// The namespaces watched one by one (empty unless the mode is `PerNamespace`).
    pub fn exact(&self) -> &[String] {
        &self.exact
    }

    /// Whether an object in `namespace` is selected. Objects without a namespace (cluster-scoped
    /// resources, for which `namespaces` is ignored) always are.
    pub fn admits(&self, namespace: Option<&str>) -> bool {
        let Some(namespace) = namespace.filter(|n| !n.is_empty()) else { return true };
        let included = self.include.as_ref().is_none_or(|set| set.is_match(namespace));
        included && !self.exclude.is_match(namespace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selection(namespaces: &[&str], exclude: &[&str]) -> NamespaceSelection {
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut issues = ConfigIssues::new();
        let selection = NamespaceSelection::compile(&owned(namespaces), &owned(exclude), "r", &mut issues);
        assert!(issues.is_empty(), "{issues}");
        selection
    }

    #[test]
    fn namespaces_select_by_name_glob_and_exclusion() {
        type Case<'a> = (&'a [&'a str], &'a [&'a str], WatchMode, &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (&[], &[], WatchMode::All, &["a", "kube-system"], &[]),
            (&["a", "b"], &[], WatchMode::PerNamespace, &["a", "b"], &["c", "ab"]),
            (
                &["prod-*", "team-?"],
                &[],
                WatchMode::Filtered,
                &["prod-1", "team-a"],
                &["prod", "team-ab", "x"],
            ),
            (&["!kube-*"], &[], WatchMode::Filtered, &["default", "prod"], &["kube-system", "kube-public"]),
            (&[], &["kube-*"], WatchMode::Filtered, &["default"], &["kube-system"]),
            (&["prod-*", "!prod-test"], &[], WatchMode::Filtered, &["prod-1"], &["prod-test", "dev"]),
            (&["a", "!b"], &[], WatchMode::Filtered, &["a"], &["b", "c"]),
        ];
        for (namespaces, exclude, mode, admitted, refused) in cases {
            let s = selection(namespaces, exclude);
            assert_eq!(s.mode(), *mode, "{namespaces:?} {exclude:?}");
            for n in *admitted {
                assert!(s.admits(Some(n)), "{namespaces:?} {exclude:?} should admit {n}");
            }
            for n in *refused {
                assert!(!s.admits(Some(n)), "{namespaces:?} {exclude:?} should refuse {n}");
            }
            assert!(s.admits(None), "objects without a namespace are not filtered");
        }
        assert_eq!(selection(&["a", "b"], &[]).exact(), ["a", "b"]);
        assert!(selection(&["a", "b*"], &[]).exact().is_empty());
    }

    #[test]
    fn bad_entries_are_reported_with_their_path() {
        let mut issues = ConfigIssues::new();
        let entries = ["ok".to_string(), "prod-[".to_string(), "!".to_string()];
        NamespaceSelection::compile(&entries, &[" ".to_string()], "r", &mut issues);
        let text = issues.to_string();
        assert!(text.contains("r.namespaces[1]: malformed namespace glob \"prod-[\""), "{text}");
        assert!(text.contains("r.namespaces[2]: empty namespace name"), "{text}");
        assert!(text.contains("r.excludeNamespaces[0]: empty namespace name"), "{text}");
    }
}
