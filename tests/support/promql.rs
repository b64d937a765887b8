//! Reading metric and label names out of PromQL, for the tests that check shipped queries
//! (dashboard, alert expressions in the docs) against the names the agent exports.

use std::collections::BTreeSet;

use kube_state_otel::collectors::MetricDeclaration;
use kube_state_otel::exposition::{label_name, metric_name, MetricType};
use kube_state_otel::series::InstrumentKind;

/// Functions, aggregations and keywords: words in an expression that name no series.
const KEYWORDS: &[&str] = &[
    "sum",
    "count",
    "min",
    "max",
    "avg",
    "by",
    "rate",
    "increase",
    "deriv",
    "label_values",
    "histogram_quantile",
    "topk",
    "on",
    "group_left",
    "and",
    "or",
    "unless",
];

/// The Prometheus names of the `declarations`, as the Collector's prometheus exporter and the
/// agent's `/metrics` give them.
pub fn prometheus_names(declarations: &[MetricDeclaration]) -> Vec<String> {
    declarations
        .iter()
        .map(|d| {
            let kind = match d.instrument {
                InstrumentKind::Gauge => MetricType::Gauge,
                InstrumentKind::Counter => MetricType::Counter,
                InstrumentKind::UpDownCounter => MetricType::NonMonotonicSum,
            };
            metric_name(d.name, d.unit, kind)
        })
        .collect()
}

/// The Prometheus label names of every attribute key the `declarations` list.
pub fn label_names(declarations: &[MetricDeclaration]) -> BTreeSet<String> {
    declarations.iter().flat_map(|d| d.attributes.iter().map(|key| label_name(key))).collect()
}

/// Removes `"..."` strings (label values, legends) so only identifiers remain.
fn strip_strings(expr: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in expr.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            _ => out.push(c),
        }
    }
    out
}

/// (metric names, label names) used by a PromQL expression: identifiers inside `{...}` before
/// an operator and inside `by (...)` are labels; `[5m]` ranges and numbers (`1e9`) are skipped;
/// the rest that is not a keyword is a metric name.
pub fn identifiers(expr: &str) -> (Vec<String>, Vec<String>) {
    let expr = strip_strings(expr);
    let (mut metrics, mut labels) = (Vec::new(), Vec::new());
    let mut chars = expr.char_indices().peekable();
    let mut in_braces = false;
    let mut in_grouping = false;
    let mut in_range = false;
    let mut in_label_values = false;
    let mut last_word = String::new();
    while let Some((i, c)) = chars.next() {
        if c.is_ascii_digit() {
            // An exponent (`1e9`) would otherwise read as the identifier `e9`.
            while chars.next_if(|&(_, d)| d.is_ascii_alphanumeric() || d == '.').is_some() {}
            last_word.clear();
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_alphanumeric() || d == '_' {
                    end = j + 1;
                    chars.next();
                } else {
                    break;
                }
            }
            let word = expr[i..end].to_owned();
            if in_range {
            } else if in_braces || in_grouping {
                labels.push(word.clone());
            } else if !KEYWORDS.contains(&word.as_str()) {
                metrics.push(word.clone());
            }
            last_word = word;
            continue;
        }
        match c {
            '{' => in_braces = true,
            '}' => in_braces = false,
            '[' => in_range = true,
            ']' => in_range = false,
            '(' if last_word == "by" || last_word == "on" || last_word == "group_left" => in_grouping = true,
            '(' if last_word == "label_values" => in_label_values = true,
            // label_values(metric, label): the second argument is a label.
            ',' if in_label_values && !in_braces => in_grouping = true,
            ')' => {
                in_grouping = false;
                in_label_values = false;
            }
            _ => {}
        }
        if !c.is_whitespace() {
            last_word.clear();
        }
    }
    (metrics, labels)
}
