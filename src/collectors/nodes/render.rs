//! Offline use (`render`): the same state fed from Node and Pod objects read from files.

use k8s_openapi::api::core::v1::{Node, Pod};
use serde_json::Value;

use super::config::NodesConfig;
use super::metrics::specs;
use super::state::NodesState;
use crate::series::{MetricsRegistry, TableHandle};

/// Builds the nodes table from `objects` (kind `Node` and `Pod`; others are ignored), as the
/// collector would after listing them. Objects that do not parse are returned as errors.
pub fn render_tables(
    config: &NodesConfig,
    objects: &[Value],
    registry: &MetricsRegistry,
) -> (Vec<TableHandle>, Vec<String>) {
    let table = registry.table("nodes", specs());
    let mut state = NodesState::new(config.clone());
    let mut errors = Vec::new();
    let kind = |o: &Value| o.get("kind").and_then(Value::as_str).map(str::to_owned);
    // Nodes first, so pods find their node whatever the file order.
    for object in objects.iter().filter(|o| kind(o).as_deref() == Some("Node")) {
        match serde_json::from_value::<Node>(object.clone()) {
            Ok(node) => errors.extend(
                state.apply_node(&node, &table).into_iter().map(|m| format!("{m}: unparsable quantity")),
            ),
            Err(e) => errors.push(format!("Node: {e}")),
        }
    }
    for object in objects.iter().filter(|o| kind(o).as_deref() == Some("Pod")) {
        match serde_json::from_value::<Pod>(object.clone()) {
            Ok(pod) => state.apply_pod(&pod, &table),
            Err(e) => errors.push(format!("Pod: {e}")),
        }
    }
    (vec![table], errors)
}
