//! kube-state-metrics paths: a list of segments (`[status, conditions, "[type=Ready]", status]`)
//! resolved step by step; any step that does not resolve gives nothing.
//!
//! A segment is a map key; on a list, an index (negative from the end); `[key=value]` picks the
//! first list element (a map) whose `key` equals `value` as text, as a number or as a boolean;
//! and `key=value` on a map gives the value at `key` when it is that very text (else the value
//! at the whole segment as a key, as kube-state-metrics does).

use std::fmt;

use serde_json::Value;

use super::values::{go_parse_bool, to_float};

/// A compiled path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KsmPath(Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// A map key, a list index, or `key=value` on a map.
    Key(String),
    /// `[key=value]` on a list.
    Find { segment: String, key: String, text: String, number: Option<f64>, boolean: Option<bool> },
}

impl KsmPath {
    /// Compiles `segments`; `[...]` without `=` is refused, as kube-state-metrics refuses it.
    pub fn compile(segments: &[String]) -> Result<KsmPath, String> {
        let mut steps = Vec::with_capacity(segments.len());
        for segment in segments {
            let step = match segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                Some(inner) => {
                    let Some((key, text)) = inner.split_once('=') else {
                        return Err(format!("invalid list lookup {segment:?}: expected \"[key=value]\""));
                    };
                    let as_text = Value::String(text.to_owned());
                    Step::Find {
                        segment: segment.clone(),
                        key: key.to_owned(),
                        text: text.to_owned(),
                        number: to_float(Some(&as_text), false).ok(),
                        boolean: go_parse_bool(text),
                    }
                }
                None => Step::Key(segment.clone()),
            };
            steps.push(step);
        }
        Ok(KsmPath(steps))
    }

    /// The one segment of a one-segment path without a comma in it: kube-state-metrics tells
    /// such a `valueFrom` by its printed form (`[ready]`) and then also accepts it as a map key.
    pub fn single_segment(&self) -> Option<&str> {
        match &self.0[..] {
            [Step::Key(s)] | [Step::Find { segment: s, .. }] if !s.is_empty() && !s.contains(',') => Some(s),
            _ => None,
        }
    }

    /// `self` followed by `then` when `then` is not empty (the path a state set's value is read
    /// at, as errors name it).
    pub fn joined(&self, then: &KsmPath) -> KsmPath {
        if then.0.is_empty() {
            return self.clone();
        }
        KsmPath(self.0.iter().chain(&then.0).cloned().collect())
    }

    /// The value at the path, `None` when a step does not resolve (JSON `null` counts as none).
    pub fn get<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        let mut current = value;
        for step in &self.0 {
            if current.is_null() {
                return None;
            }
            current = step.apply(current)?;
        }
        (!current.is_null()).then_some(current)
    }
}

impl Step {
    fn apply<'v>(&self, value: &'v Value) -> Option<&'v Value> {
        match (self, value) {
            (Step::Key(segment), Value::Object(map)) => {
                let parts: Vec<&str> = segment.split('=').collect();
                if let [key, text] = parts[..] {
                    if let Some(found @ Value::String(s)) = map.get(key) {
                        if s == text {
                            return Some(found);
                        }
                    }
                }
                map.get(segment.as_str())
            }
            (Step::Key(segment), Value::Array(list)) => {
                let index: i64 = go_atoi(segment)?;
                let index = if index < 0 { index + list.len() as i64 } else { index };
                usize::try_from(index).ok().and_then(|i| list.get(i))
            }
            (Step::Find { key, text, number, boolean, .. }, Value::Array(list)) => {
                list.iter().find(|element| {
                    let Some(candidate) = element.as_object().and_then(|m| m.get(key.as_str())) else {
                        return false;
                    };
                    candidate.as_str() == Some(text.as_str())
                        || number.is_some_and(|n| to_float(Some(candidate), false).ok() == Some(n))
                        || boolean.is_some_and(|b| candidate.as_bool() == Some(b))
                })
            }
            _ => None,
        }
    }
}

/// Go's `strconv.Atoi`: optional sign, decimal digits only.
fn go_atoi(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `[status,conditions,[type=Ready]]`, as kube-state-metrics writes paths in its errors.
impl fmt::Display for KsmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = self
            .0
            .iter()
            .map(|step| match step {
                Step::Key(s) => s.as_str(),
                Step::Find { segment, .. } => segment.as_str(),
            })
            .collect();
        write!(f, "[{}]", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(segments: &[&str]) -> KsmPath {
        KsmPath::compile(&segments.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn resolves_the_documented_examples() {
        let foo = json!({
            "metadata": {"name": "foo"},
            "spec": {"replicas": 1, "order": [{"id": 1, "value": true}, {"id": 3, "value": false}]},
            "status": {"conditions": [{"name": "a", "value": 45}, {"name": "b", "value": 66}]}
        });
        let cases: &[(&[&str], Option<Value>)] = &[
            (&["spec", "replicas"], Some(json!(1))),
            (&["spec", "order", "0", "value"], Some(json!(true))),
            (&["spec", "order", "-1", "value"], Some(json!(false))),
            (&["spec", "order", "-3", "value"], None),
            (&["spec", "order", "2"], None),
            (&["spec", "order", "x"], None),
            (&["status", "conditions", "[name=a]", "value"], Some(json!(45))),
            (&["status", "conditions", "[value=66]", "name"], Some(json!("b"))),
            (&["status", "conditions", "[value=66.0]", "name"], Some(json!("b"))),
            (&["spec", "order", "[value=false]", "id"], Some(json!(3))),
            (&["status", "conditions", "[name=c]", "value"], None),
            (&["metadata", "name=foo"], Some(json!("foo"))),
            (&["metadata", "name=bar"], None),
            (&["spec", "replicas", "x"], None),
            (&[], Some(foo.clone())),
        ];
        for (segments, want) in cases {
            assert_eq!(path(segments).get(&foo), want.as_ref(), "{segments:?}");
        }
    }

    #[test]
    fn refuses_a_list_lookup_without_equals_and_prints_like_kube_state_metrics() {
        let err = KsmPath::compile(&["status".into(), "[Ready]".into()]).unwrap_err();
        assert!(err.contains("[Ready]"), "{err}");
        assert_eq!(path(&["status", "[type=Ready]", "status"]).to_string(), "[status,[type=Ready],status]");
    }
}
