//! The agent's own metrics (`kube_state_otel.*`) under their Prometheus names, read from the
//! table in docs/metrics.md, each checked to be created in src/: the names shipped queries
//! (alert rules, dashboards) may use besides the collectors' declared metrics.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use kube_state_otel::exposition::{label_name, metric_name, MetricType};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The agent's own metrics from the table in docs/metrics.md ("The agent itself"): each
/// row's Prometheus name(s) with the label names its attributes give.
pub fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let page = std::fs::read_to_string(root().join("docs/metrics.md")).expect("docs/metrics.md");
    let start = page.find("## The agent itself").expect("docs/metrics.md has the self-metrics table");
    let mut metrics = BTreeMap::new();
    for row in page[start..].lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        let unquote = |cell: &str| cell.trim_matches(|c| c == '|' || c == ' ' || c == '`').to_owned();
        let (name, unit, instrument) = (unquote(cells[0]), unquote(cells[1]), cells[2].trim());
        // `collector`, `type` (`init`, ...): the values in parentheses are not label names.
        let attributes = cells[3].split('(').next().unwrap();
        let labels: BTreeSet<String> = attributes.split('`').skip(1).step_by(2).map(label_name).collect();
        let kind = match instrument {
            "gauge" => MetricType::Gauge,
            "counter" => MetricType::Counter,
            "histogram" => MetricType::Histogram,
            other => panic!("docs/metrics.md: unknown instrument {other:?} of {name}"),
        };
        let base = metric_name(&name, &unit, kind);
        let names = if kind == MetricType::Histogram {
            ["bucket", "sum", "count"].iter().map(|s| format!("{base}_{s}")).collect()
        } else {
            vec![base]
        };
        assert_created_in_source(&name);
        for prometheus_name in names {
            metrics.insert(prometheus_name, labels.clone());
        }
    }
    assert!(metrics.len() >= 15, "{metrics:?}");
    metrics
}

/// The documented self-metric is one the agent creates: its name is a string in src/.
fn assert_created_in_source(name: &str) {
    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let quoted = format!("\"{name}\"");
    assert!(
        files.iter().any(|f| std::fs::read_to_string(f).unwrap().contains(&quoted)),
        "docs/metrics.md documents {name}, which no file in src/ creates"
    );
}
