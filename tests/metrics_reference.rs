//! The metric reference pages name every metric the nodes and etcd collectors export, and no
//! metric they do not: docs/nodes.md and docs/etcd.md against the collectors' specs, and
//! docs/metrics.md's summaries against both.

use std::collections::BTreeSet;
use std::path::Path;

use kube_state_otel::collectors::{etcd, nodes};
use kube_state_otel::series::MetricSpec;

fn page(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join(name)).unwrap()
}

/// Metric-like names in backticks on `text` that start with `prefix`, with `{a,b}` groups
/// expanded.
fn documented(text: &str, prefix: &str) -> BTreeSet<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|quoted| quoted.starts_with(prefix))
        .flat_map(expand)
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .collect()
}

/// `a.{b,c}.d` → `a.b.d`, `a.c.d` (one group per call, recursively).
fn expand(name: &str) -> Vec<String> {
    match (name.find('{'), name.find('}')) {
        (Some(open), Some(close)) if open < close => name[open + 1..close]
            .split(',')
            .flat_map(|alt| expand(&format!("{}{alt}{}", &name[..open], &name[close + 1..])))
            .collect(),
        _ => vec![name.to_owned()],
    }
}

/// The first cell of every table row: where the reference tables name their metrics (the
/// other cells name attributes).
fn first_cells(text: &str) -> String {
    text.lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .collect::<Vec<_>>()
        .join("\n")
}

fn names(specs: Vec<MetricSpec>) -> BTreeSet<String> {
    specs.into_iter().map(|s| s.name).collect()
}

fn assert_same(page_name: &str, documented: &BTreeSet<String>, exported: &BTreeSet<String>) {
    let missing: Vec<_> = exported.difference(documented).collect();
    let stale: Vec<_> = documented.difference(exported).collect();
    assert!(missing.is_empty(), "{page_name} does not document {missing:?}");
    assert!(stale.is_empty(), "{page_name} documents metrics that do not exist: {stale:?}");
}

#[test]
fn node_metrics_are_all_documented() {
    let exported = names(nodes::specs());
    let tables = first_cells(&page("nodes.md"));
    let mut on_page = documented(&tables, "k8s.node.");
    on_page.extend(documented(&tables, "k8s.cluster."));
    assert_same("docs/nodes.md", &on_page, &exported);
    let mut summary = documented(&page("metrics.md"), "k8s.node.");
    summary.extend(documented(&page("metrics.md"), "k8s.cluster."));
    summary.retain(|n| !n.starts_with("k8s.cluster.name") && !n.starts_with("k8s.cluster.uid"));
    assert_same("docs/metrics.md", &summary, &exported);
}

#[test]
fn etcd_metrics_are_all_documented() {
    let exported = names(etcd::specs());
    let attributes: BTreeSet<&str> = etcd::ATTRIBUTE_KEYS.into_iter().collect();
    // etcd.md has an attribute table too.
    let mut on_page = documented(&first_cells(&page("etcd.md")), "etcd.");
    on_page.retain(|n| !attributes.contains(n.as_str()));
    assert_same("docs/etcd.md", &on_page, &exported);
    let mut summary = documented(&page("metrics.md"), "etcd.");
    summary.retain(|n| !attributes.contains(n.as_str()));
    assert_same("docs/metrics.md", &summary, &exported);
}

#[test]
fn shorthand_expansion() {
    assert_eq!(expand("a.{b,c}.{d,e}"), ["a.b.d", "a.b.e", "a.c.d", "a.c.e"].map(str::to_owned).to_vec());
    let found = documented("`k8s.node.{cpu,pod}.capacity`, `k8s.node.name=x` and `x.y`", "k8s.");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["k8s.node.cpu.capacity", "k8s.node.pod.capacity"]);
}
