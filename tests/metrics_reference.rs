//! The metric reference pages name every metric the collectors declare, and no metric they do
//! not: `docs/<collector>.md` against each collector's declaration (names, and the attributes
//! listed with each metric), and docs/metrics.md's summaries against all of them.

use std::collections::BTreeSet;
use std::path::Path;

use kube_state_otel::collectors::{declared_metrics, MetricDeclaration};
use kube_state_otel::telemetry::{ReloadResult, WatchEventKind};

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

/// The collector's reference page: `docs/<collector>.md`.
fn page_of(collector: &str) -> String {
    page(&format!("{collector}.md"))
}

/// The namespaces the declared names live in (`k8s.`, `etcd.`): the first segment of each name.
fn prefixes(declarations: &[MetricDeclaration]) -> BTreeSet<String> {
    declarations.iter().filter_map(|d| d.name.split_once('.')).map(|(first, _)| format!("{first}.")).collect()
}

fn names(declarations: &[MetricDeclaration]) -> BTreeSet<String> {
    declarations.iter().map(|d| d.name.to_owned()).collect()
}

/// Every attribute key the declarations list.
fn attribute_keys(declarations: &[MetricDeclaration]) -> BTreeSet<String> {
    declarations.iter().flat_map(|d| d.attributes.iter().map(|&a| a.to_owned())).collect()
}

/// Metric-like names on `text` under any of `prefixes`, without the attribute keys of
/// `declarations` that are no metric name (attribute tables and prose name them too).
fn documented_metrics(text: &str, declarations: &[MetricDeclaration]) -> BTreeSet<String> {
    let (exported, attributes) = (names(declarations), attribute_keys(declarations));
    let mut found: BTreeSet<String> =
        prefixes(declarations).iter().flat_map(|p| documented(text, p)).collect();
    // The type attributes of a custom-resource `select` entry, on metrics the user names.
    let select = [
        kube_state_otel::collectors::crds::GROUP_ATTRIBUTE,
        kube_state_otel::collectors::crds::KIND_ATTRIBUTE,
    ];
    found.retain(|n| exported.contains(n) || !(attributes.contains(n) || select.contains(&n.as_str())));
    found
}

fn assert_same(page_name: &str, documented: &BTreeSet<String>, exported: &BTreeSet<String>) {
    let missing: Vec<_> = exported.difference(documented).collect();
    let stale: Vec<_> = documented.difference(exported).collect();
    assert!(missing.is_empty(), "{page_name} does not document {missing:?}");
    assert!(stale.is_empty(), "{page_name} documents metrics that do not exist: {stale:?}");
}

/// The attribute keys `page` documents for `metric`: the backticked spans of the other cells
/// of the table rows naming it, and of the `Attributes:` line of the section those rows are in.
fn documented_attributes(page: &str, metric: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut section_attributes = BTreeSet::new();
    for line in page.lines() {
        if line.starts_with("## ") {
            section_attributes.clear();
        }
        if line.starts_with("Attributes:") || line.starts_with("Attribute:") {
            section_attributes = line.split('`').skip(1).step_by(2).map(str::to_owned).collect();
        }
        let Some(row) = line.strip_prefix("| ") else { continue };
        let (first, rest) = row.split_once(" |").unwrap_or((row, ""));
        if documented(first, "").contains(metric) {
            found.extend(rest.split('`').skip(1).step_by(2).map(str::to_owned));
            found.extend(section_attributes.iter().cloned());
        }
    }
    found
}

/// Resource attributes `docs/metrics.md` names beside the metrics (not declared by collectors).
const RESOURCE_ATTRIBUTES: [&str; 2] = ["k8s.cluster.name", "k8s.cluster.uid"];

#[test]
fn declared_metrics_are_all_documented() {
    let collectors = declared_metrics();
    assert_eq!(collectors.iter().map(|(c, _)| *c).collect::<Vec<_>>(), ["nodes", "etcd"]);
    let summary = page("metrics.md");
    for (collector, declarations) in collectors {
        let exported = names(declarations);
        let page_name = format!("docs/{collector}.md");
        let on_page = documented_metrics(&first_cells(&page_of(collector)), declarations);
        assert_same(&page_name, &on_page, &exported);
        let mut summarized = documented_metrics(&summary, declarations);
        summarized.retain(|n| !RESOURCE_ATTRIBUTES.contains(&n.as_str()));
        assert_same("docs/metrics.md", &summarized, &exported);
    }
}

#[test]
fn every_declared_attribute_is_documented_with_its_metric() {
    for (collector, declarations) in declared_metrics() {
        let text = page_of(collector);
        for declaration in declarations {
            let documented = documented_attributes(&text, declaration.name);
            let missing: Vec<_> =
                declaration.attributes.iter().filter(|a| !documented.contains(**a)).collect();
            assert!(
                missing.is_empty(),
                "docs/{collector}.md: {} does not list {missing:?}",
                declaration.name
            );
        }
    }
}

#[test]
fn attributes_are_read_from_rows_and_section_lines() {
    let text = "## A\n\nAttributes: `x.a`, `x.b`.\n\n| `m.one`, `m.{two,three}` | `1` | `x.c` |\n## B\n| `m.four` | |\n";
    let want = |keys: &[&str]| keys.iter().map(|k| k.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(documented_attributes(text, "m.three"), want(&["1", "x.a", "x.b", "x.c"]));
    assert_eq!(documented_attributes(text, "m.four"), want(&[]));
}

/// The backticked values in parentheses after `` `attribute` `` on the table row of `metric`.
fn documented_values(page: &str, metric: &str, attribute: &str) -> Vec<String> {
    let row = page
        .lines()
        .find(|l| l.starts_with(&format!("| `{metric}`")))
        .unwrap_or_else(|| panic!("no row {metric}"));
    let (_, after) = row
        .split_once(&format!("`{attribute}` ("))
        .unwrap_or_else(|| panic!("no values of {attribute}: {row}"));
    let inside = &after[..after.find(')').unwrap_or(after.len())];
    inside.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

#[test]
fn self_metric_attribute_values_are_the_documented_ones() {
    let summary = page("metrics.md");
    let kinds = WatchEventKind::ALL.map(WatchEventKind::as_str);
    assert_eq!(documented_values(&summary, "kube_state_otel.watch.events", "type"), kinds);
    let results = ReloadResult::ALL.map(ReloadResult::as_str);
    assert_eq!(documented_values(&summary, "kube_state_otel.config.reloads", "result"), results);
}

#[test]
fn shorthand_expansion() {
    assert_eq!(expand("a.{b,c}.{d,e}"), ["a.b.d", "a.b.e", "a.c.d", "a.c.e"].map(str::to_owned).to_vec());
    let found = documented("`k8s.node.{cpu,pod}.capacity`, `k8s.node.name=x` and `x.y`", "k8s.");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["k8s.node.cpu.capacity", "k8s.node.pod.capacity"]);
}
