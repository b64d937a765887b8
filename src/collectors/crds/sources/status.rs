//! A source's `status`: `observedGeneration` and one `Ready` condition whose message says what
//! runs, or lists every error as `<path>: <message>` (the text `check` prints for the config
//! file). Built only from the decision, so the same decision gives the same status and nothing
//! is written again.

use serde_json::{json, Value};

use super::reconcile::{Decision, Verdict};

/// The condition's type.
pub const READY: &str = "Ready";

/// The status `decision` calls for, or `None` when `current` already says the same (only
/// `lastTransitionTime` may differ); `now` (RFC 3339) stamps a change of the condition's value.
pub fn desired_status(decision: &Decision, metrics: &[String], current: &Value, now: &str) -> Option<Value> {
    let (status, reason) = match &decision.verdict {
        Verdict::Accepted => ("True", "Running"),
        Verdict::Invalid(_) => ("False", "Invalid"),
        Verdict::Conflict(_) => ("False", "Conflict"),
    };
    let previous = current["conditions"]
        .as_array()
        .and_then(|conditions| conditions.iter().find(|c| c["type"] == READY));
    let since = previous
        .filter(|c| c["status"] == status)
        .and_then(|c| c["lastTransitionTime"].as_str())
        .unwrap_or(now);
    let condition = json!({
        "type": READY,
        "status": status,
        "reason": reason,
        "message": message(decision, metrics),
        "observedGeneration": decision.generation,
        "lastTransitionTime": since,
    });
    let desired = json!({"observedGeneration": decision.generation, "conditions": [condition]});
    (desired != *current).then_some(desired)
}

/// What the condition's message says.
pub fn message(decision: &Decision, metrics: &[String]) -> String {
    let kept = match decision.running {
        Some(generation) => format!("generation {generation} keeps running"),
        None => "nothing runs".to_owned(),
    };
    match &decision.verdict {
        Verdict::Accepted => {
            format!("generation {} runs; metrics: {}", decision.generation, metrics.join(", "))
        }
        Verdict::Invalid(issues) => {
            let mut lines = vec![format!(
                "generation {} has {} error(s) and is not applied; {kept}",
                decision.generation,
                issues.len()
            )];
            lines.extend(issues.iter().map(ToString::to_string));
            lines.join("\n")
        }
        Verdict::Conflict(conflicts) => {
            let mut lines =
                vec![format!("generation {} is refused: metric names taken; {kept}", decision.generation)];
            lines.extend(conflicts.iter().cloned());
            lines.join("\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::crds::sources::kinds::{SourceKind, SourceRef};
    use crate::config_parts::ConfigIssues;

    fn decision(verdict: Verdict, running: Option<i64>) -> Decision {
        let source =
            SourceRef { kind: SourceKind::Namespaced, namespace: Some("a".into()), name: "s".into() };
        Decision { source, generation: 2, verdict, running }
    }

    #[test]
    fn lists_every_error_and_what_keeps_running() {
        let mut issues = ConfigIssues::new();
        issues.push("spec.metrics[0].path", "malformed path");
        issues.push("spec.name", "required");
        let status =
            desired_status(&decision(Verdict::Invalid(issues), Some(1)), &[], &Value::Null, "T1").unwrap();
        assert_eq!(status["observedGeneration"], 2);
        let ready = &status["conditions"][0];
        assert_eq!((ready["status"].as_str(), ready["reason"].as_str()), (Some("False"), Some("Invalid")));
        assert_eq!(
            ready["message"],
            "generation 2 has 2 error(s) and is not applied; generation 1 keeps running\n\
             spec.metrics[0].path: malformed path\nspec.name: required"
        );
    }

    #[test]
    fn writes_only_changes_and_keeps_the_transition_time_while_the_value_stays() {
        let names = ["a.w.size".to_owned()];
        let accepted = decision(Verdict::Accepted, Some(2));
        let first = desired_status(&accepted, &names, &Value::Null, "T1").unwrap();
        assert_eq!(first["conditions"][0]["message"], "generation 2 runs; metrics: a.w.size");
        assert_eq!(desired_status(&accepted, &names, &first, "T2"), None, "nothing changed");
        let conflict = decision(Verdict::Conflict(vec!["metric \"x\" is taken".into()]), None);
        let second = desired_status(&conflict, &names, &first, "T3").unwrap();
        assert_eq!(second["conditions"][0]["lastTransitionTime"], "T3");
        assert_eq!(second["conditions"][0]["reason"], "Conflict");
        let mut again = accepted.clone();
        again.generation = 3;
        let third = desired_status(&again, &names, &second, "T4").unwrap();
        let kept = desired_status(&again, &["b".into()], &third, "T5").unwrap();
        assert_eq!(kept["conditions"][0]["lastTransitionTime"], "T4", "still True");
    }
}
