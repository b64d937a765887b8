//! The nodes collector as the agent sees it: `collectors.nodes` compiled once into the plan
//! that `check`, `rbac`, `render` and the runtime use.

use serde_json::Value;
use tokio::task::JoinHandle;

use super::config::NodesConfig;
use super::render::render_tables;
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled, ReadAccess};
use crate::config_parts::ConfigIssues;
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// The plan of `section` (found at `path`), checked whether it is enabled or not.
pub fn plan(section: &NodesConfig, path: &str, issues: &mut ConfigIssues) -> CollectorPlan {
    section.validate(path, issues);
    let configured = !section.conditions.is_empty();
    let nodes = Nodes(section.clone());
    CollectorPlan::new("nodes", section.enabled, configured, section.leader_election, section, nodes)
}

struct Nodes(NodesConfig);

impl Compiled for Nodes {
    fn summary(&self, election: &str) -> Vec<String> {
        let conditions =
            if self.0.conditions.is_empty() { "all".to_owned() } else { self.0.conditions.join(", ") };
        vec![format!("nodes (nodes and pods; conditions: {conditions}; {election})")]
    }

    fn needs_kubernetes(&self) -> bool {
        true
    }

    fn read_access(&self) -> Vec<ReadAccess> {
        vec![ReadAccess { group: String::new(), resources: vec!["nodes".into(), "pods".into()], note: None }]
    }

    /// One table from the Node and Pod objects among `objects`. With none of them the table is
    /// left out, so a render of custom resources alone does not print empty cluster totals.
    fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        let core = |o: &&SourcedObject| {
            o.object.get("apiVersion").and_then(Value::as_str) == Some("v1")
                && matches!(o.object.get("kind").and_then(Value::as_str), Some("Node" | "Pod"))
        };
        let described: Vec<(String, &Value)> =
            objects.iter().filter(core).map(|o| (o.to_string(), &o.object)).collect();
        if described.is_empty() {
            return Some(Vec::new());
        }
        let (tables, errors) = render_tables(&self.0, &described, registry);
        warnings.extend(errors);
        Some(tables)
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        tokio::spawn(super::watch::run(self.0.clone(), ctx))
    }
}
