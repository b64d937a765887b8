//! Offline use (`render`): the same state fed from Node and Pod objects read from files.

use serde_json::Value;

use super::config::NodesConfig;
use super::metrics::NodeMetric;
use super::state::NodesState;
use super::watched_node::WatchedNode as Node;
use super::watched_pod::WatchedPod as Pod;
use crate::series::{MetricsRegistry, TableHandle};

/// Builds the nodes table from `objects` (kind `Node` and `Pod`; others are ignored), as the
/// collector would after listing them. Each object comes with a description of where it was
/// read from; objects that do not parse or carry unparsable quantities are returned as errors
/// prefixed with that description.
pub fn render_tables(
    config: &NodesConfig,
    objects: &[(String, &Value)],
    registry: &MetricsRegistry,
) -> (Vec<TableHandle>, Vec<String>) {
    let table = registry.table("nodes", NodeMetric::specs());
    let mut state = NodesState::new(config.clone());
    let mut errors = Vec::new();
    let kind = |o: &Value| o.get("kind").and_then(Value::as_str).map(str::to_owned);
    // Nodes first, so pods find their node whatever the file order.
    for (source, object) in objects.iter().filter(|(_, o)| kind(o).as_deref() == Some("Node")) {
        match serde_json::from_value::<Node>((*object).clone()) {
            Ok(node) => errors.extend(
                state
                    .apply_node(&node, &table)
                    .into_iter()
                    .map(|m| format!("{source}: metric {m}: unparsable quantity")),
            ),
            Err(e) => errors.push(format!("{source}: {e}")),
        }
    }
    for (source, object) in objects.iter().filter(|(_, o)| kind(o).as_deref() == Some("Pod")) {
        match serde_json::from_value::<Pod>((*object).clone()) {
            Ok(pod) => state.apply_pod(&pod, &table),
            Err(e) => errors.push(format!("{source}: {e}")),
        }
    }
    (vec![table], errors)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn files_render_like_the_watch() {
        let registry = MetricsRegistry::new();
        let objects = [
            json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "uid": "p1"},
                "spec": {"nodeName": "n1", "containers": [{"name": "c", "resources": {"requests": {"cpu": "3800m"}}}]},
                "status": {"phase": "Running"}}),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "uid": "u1"},
                "status": {"allocatable": {"cpu": "1e3"}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}),
            json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "bad"}, "status": {"allocatable": 3}}),
        ];
        let described: Vec<(String, &serde_json::Value)> =
            objects.iter().enumerate().map(|(i, o)| (format!("obj{i}"), o)).collect();
        let (tables, errors) = render_tables(&NodesConfig::default(), &described, &registry);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("obj3: "), "{errors:?}");
        let table = &tables[0];
        let value = |key: &str, metric: &str| {
            let id = table.metric_id(metric).unwrap();
            table.points_of(key).iter().find(|p| p.metric == id).map(|p| p.value)
        };
        assert_eq!(value("node/n1", "k8s.node.cpu.allocatable"), Some(1000.0));
        assert_eq!(value("pods/n1", "k8s.node.cpu.request"), Some(3.8));
        assert_eq!(value("cluster", "k8s.cluster.node.count"), Some(0.0), "n1 has no Ready: unknown");
    }
}
