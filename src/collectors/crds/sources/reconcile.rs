//! Which version of each source runs, decided over all sources at once: a valid source runs
//! unless a metric name it would produce is already produced by the config file or by another
//! running source (the older one keeps it); an invalid or conflicting update keeps the
//! previous version running.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::kinds::SourceRef;
use super::spec::{CompiledSource, SourceObject};
use crate::config_parts::ConfigIssues;

/// The version of a source that runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Running {
    pub uid: String,
    pub generation: i64,
    pub compiled: CompiledSource,
}

/// What became of a source's newest generation.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// It runs.
    Accepted,
    /// It does not compile: every problem, with its path.
    Invalid(ConfigIssues),
    /// Metric names another source or the config file produces: one line per name.
    Conflict(Vec<String>),
}

/// The verdict on one source and the generation that runs for it, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub source: SourceRef,
    pub generation: i64,
    pub verdict: Verdict,
    /// The generation running after this pass (the new one, or the kept previous one).
    pub running: Option<i64>,
}

/// The outcome of one pass: what should run, and the decision on every source.
#[derive(Debug, Default)]
pub struct Reconciled {
    pub run: BTreeMap<SourceRef, Running>,
    pub decisions: Vec<Decision>,
}

/// Decides over `objects` given what runs now; `compile` turns an object into its compiled
/// form (cached by the caller).
pub fn reconcile(
    objects: &[SourceObject],
    running: &BTreeMap<SourceRef, Running>,
    config_names: &HashSet<String>,
    mut compile: impl FnMut(&SourceObject) -> Result<CompiledSource, ConfigIssues>,
) -> Reconciled {
    let mut ordered: Vec<&SourceObject> = objects.iter().collect();
    ordered.sort_by(|a, b| (&a.created, &a.uid, &a.source).cmp(&(&b.created, &b.uid, &b.source)));
    let still_there =
        |source: &SourceRef, r: &Running| objects.iter().any(|o| o.source == *source && o.uid == r.uid);
    let mut claims: HashMap<String, SourceRef> = HashMap::new();
    for (source, r) in running.iter().filter(|(s, r)| still_there(s, r)) {
        for name in &r.compiled.names {
            claims.insert(name.clone(), source.clone());
        }
    }
    let mut out = Reconciled::default();
    for object in ordered {
        let source = &object.source;
        let kept = running.get(source).filter(|r| r.uid == object.uid);
        let verdict = match compile(object) {
            Err(issues) => Verdict::Invalid(issues),
            Ok(compiled) => {
                let conflicts = conflicts(&compiled, source, config_names, &claims);
                if conflicts.is_empty() {
                    if let Some(old) = kept {
                        old.compiled.names.iter().for_each(|n| {
                            claims.remove(n);
                        });
                    }
                    for name in &compiled.names {
                        claims.insert(name.clone(), source.clone());
                    }
                    let run = Running { uid: object.uid.clone(), generation: object.generation, compiled };
                    out.run.insert(source.clone(), run);
                    out.decisions.push(Decision {
                        source: source.clone(),
                        generation: object.generation,
                        verdict: Verdict::Accepted,
                        running: Some(object.generation),
                    });
                    continue;
                }
                Verdict::Conflict(conflicts)
            }
        };
        if let Some(old) = kept {
            out.run.insert(source.clone(), old.clone());
        }
        out.decisions.push(Decision {
            source: source.clone(),
            generation: object.generation,
            verdict,
            running: kept.map(|r| r.generation),
        });
    }
    out
}

fn conflicts(
    compiled: &CompiledSource,
    source: &SourceRef,
    config_names: &HashSet<String>,
    claims: &HashMap<String, SourceRef>,
) -> Vec<String> {
    let mut lines = Vec::new();
    for name in &compiled.names {
        if config_names.contains(name) {
            lines.push(format!("metric {name:?} is already produced by the agent's config file"));
        } else if let Some(owner) = claims.get(name).filter(|owner| *owner != source) {
            lines.push(format!("metric {name:?} is already produced by {owner}"));
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::collectors::crds::sources::kinds::SourceKind;
    use crate::collectors::crds::sources::spec::compile_source;

    fn object(
        ns: &str,
        name: &str,
        created: &str,
        generation: i64,
        resource: &str,
        path: &str,
    ) -> SourceObject {
        SourceObject::from_value(
            SourceKind::Namespaced,
            &json!({"metadata": {"name": name, "namespace": ns, "uid": format!("{ns}/{name}"),
                "generation": generation, "creationTimestamp": created},
                "spec": {"name": resource, "gvr": {"group": "example.com", "version": "v1", "resource": "widgets"},
                    "metrics": [{"type": "gauge", "name": "size", "path": path}]}}),
        )
    }

    fn pass(objects: &[SourceObject], running: &BTreeMap<SourceRef, Running>, config: &[&str]) -> Reconciled {
        let config: HashSet<String> = config.iter().map(|s| s.to_string()).collect();
        reconcile(objects, running, &config, |o| compile_source(o, 100))
    }

    fn verdicts(r: &Reconciled) -> Vec<(String, &'static str, Option<i64>)> {
        let word = |v: &Verdict| match v {
            Verdict::Accepted => "accepted",
            Verdict::Invalid(_) => "invalid",
            Verdict::Conflict(_) => "conflict",
        };
        r.decisions.iter().map(|d| (d.source.name.clone(), word(&d.verdict), d.running)).collect()
    }

    #[test]
    fn the_older_source_keeps_a_contested_name_and_the_config_file_wins_over_both() {
        let a = object("team-a", "a", "2026-01-01T00:00:00Z", 1, "widget", "spec.size");
        let b = object("team-a", "b", "2026-01-02T00:00:00Z", 1, "widget", "spec.size");
        let first = pass(&[b.clone(), a.clone()], &BTreeMap::new(), &[]);
        assert_eq!(verdicts(&first), [("a".into(), "accepted", Some(1)), ("b".into(), "conflict", None)]);
        let Verdict::Conflict(lines) = &first.decisions[1].verdict else { unreachable!() };
        assert_eq!(lines, &["metric \"team_a.widget.size\" is already produced by MetricSource/team-a/a"]);
        // Deleting the older one lets the newer one run.
        let second = pass(std::slice::from_ref(&b), &first.run, &[]);
        assert_eq!(verdicts(&second), [("b".into(), "accepted", Some(1))]);
        let refused = pass(&[a], &BTreeMap::new(), &["team_a.widget.size"]);
        assert_eq!(verdicts(&refused), [("a".into(), "conflict", None)]);
    }

    #[test]
    fn an_invalid_or_conflicting_update_keeps_the_previous_generation() {
        let v1 = object("team-a", "a", "2026-01-01T00:00:00Z", 1, "widget", "spec.size");
        let first = pass(&[v1], &BTreeMap::new(), &[]);
        let v2 = object("team-a", "a", "2026-01-01T00:00:00Z", 2, "widget", "spec..size");
        let second = pass(&[v2], &first.run, &[]);
        assert_eq!(verdicts(&second), [("a".into(), "invalid", Some(1))]);
        assert_eq!(second.run[&second.decisions[0].source].generation, 1);
        // A valid update replaces it; its own old names are no conflict.
        let v3 = object("team-a", "a", "2026-01-01T00:00:00Z", 3, "widget", "spec.other");
        let third = pass(&[v3], &second.run, &[]);
        assert_eq!(verdicts(&third), [("a".into(), "accepted", Some(3))]);
        // A source re-created under the same name (new uid) does not inherit the old version.
        let mut recreated = object("team-a", "a", "2026-01-01T00:00:00Z", 1, "widget", "spec..size");
        recreated.uid = "new".into();
        let fourth = pass(&[recreated], &third.run, &[]);
        assert_eq!(verdicts(&fourth), [("a".into(), "invalid", None)]);
        assert!(fourth.run.is_empty());
    }
}
