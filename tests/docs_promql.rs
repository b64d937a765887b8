//! The alert expressions in `docs/etcd.md` ("What to alert on") query the names the Collector's
//! prometheus exporter (and the agent's `/metrics`) gives the etcd metrics: unit and type
//! suffixes included (`etcd_member_up_ratio`, `etcd_member_db_size_bytes`), so an alert copied
//! from the page matches series instead of never firing. Labels are declared etcd attribute keys.

#[path = "support/promql.rs"]
mod promql;

use std::collections::BTreeSet;
use std::path::Path;

use kube_state_otel::collectors::etcd::EtcdMetric;
use promql::{identifiers, label_names, prometheus_names};

/// The backticked spans of a markdown section, from its heading to the next `## `.
fn code_spans_of_section(markdown: &str, heading: &str) -> Vec<String> {
    let start = markdown.find(heading).unwrap_or_else(|| panic!("no {heading:?}"));
    let body = &markdown[start + heading.len()..];
    let body = &body[..body.find("\n## ").unwrap_or(body.len())];
    body.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

#[test]
fn the_etcd_alert_expressions_use_exported_names() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/etcd.md");
    let page = std::fs::read_to_string(&path).unwrap();
    let known: BTreeSet<String> = prometheus_names(EtcdMetric::DECLARATIONS).into_iter().collect();
    let labels = label_names(EtcdMetric::DECLARATIONS);

    // Spans naming no etcd metric are commands or arithmetic (`etcdctl alarm disarm`, `(n−1)/2`).
    let expressions: Vec<String> = code_spans_of_section(&page, "## What to alert on")
        .into_iter()
        .filter(|span| identifiers(span).0.iter().any(|m| m.starts_with("etcd_")))
        .collect();
    assert!(expressions.len() >= 15, "{expressions:#?}");
    let mut wrong = Vec::new();
    for expr in &expressions {
        let (metrics, used_labels) = identifiers(expr);
        wrong.extend(
            metrics.iter().filter(|m| !known.contains(*m)).map(|m| format!("metric {m} in `{expr}`")),
        );
        wrong.extend(
            used_labels.iter().filter(|l| !labels.contains(*l)).map(|l| format!("label {l} in `{expr}`")),
        );
    }
    assert!(wrong.is_empty(), "not exported by the agent:\n{}\nexported: {known:?}", wrong.join("\n"));
}
