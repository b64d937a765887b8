//! The custom-resource collector as the agent sees it: `collectors.crds` compiled once into the
//! plan that `check`, `rbac`, `render` and the runtime use.

use serde_json::Value;
use tokio::task::JoinHandle;

use super::compile::compile;
use super::config::CrdsConfig;
use super::extract::extract;
use super::plan::CompiledResource;
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled, ReadAccess};
use crate::config_parts::ConfigIssues;
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// The plan of `section` (found at `path`) when it is enabled.
pub fn plan(section: &CrdsConfig, path: &str, issues: &mut ConfigIssues) -> Option<CollectorPlan> {
    if !section.enabled {
        return None;
    }
    let resources = compile(section, path, issues);
    Some(CollectorPlan::new("crds", true, section.leader_election, section, Crds { resources }))
}

/// The compiled resources.
struct Crds {
    resources: Vec<CompiledResource>,
}

impl Compiled for Crds {
    fn summary(&self, election: &str) -> Vec<String> {
        self.resources
            .iter()
            .map(|r| {
                let metrics = r.metrics.iter().map(|m| m.name.as_str());
                let names: Vec<&str> =
                    metrics.chain(r.aggregations.iter().map(|a| a.name.as_str())).collect();
                format!("crds/{} ({}; {election}): {}", r.name, r.gvr, names.join(", "))
            })
            .collect()
    }

    fn needs_kubernetes(&self) -> bool {
        true
    }

    fn read_access(&self) -> Vec<ReadAccess> {
        self.resources
            .iter()
            .map(|r| ReadAccess { group: r.gvr.group.clone(), resources: vec![r.gvr.resource.clone()] })
            .collect()
    }

    /// One table per resource, filled with the objects of that resource (keyed by their
    /// position, since objects in files may lack a UID).
    fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        let mut tables = Vec::new();
        for resource in &self.resources {
            let table = registry.table(format!("crds/{}", resource.name), resource.specs.clone());
            let wanted = |o: &SourcedObject| {
                resource.matches(&o.object) && in_namespaces(&resource.namespaces, &o.object)
            };
            let mut matched = 0usize;
            for (i, sourced) in objects.iter().enumerate().filter(|(_, o)| wanted(o)) {
                matched += 1;
                let extracted = extract(resource, &sourced.object);
                warnings.extend(
                    extracted.errors.iter().map(|e| format!("{sourced}: metric {}: {}", e.metric, e.reason)),
                );
                table.replace(&i.to_string(), extracted.points);
            }
            if matched == 0 {
                warnings.push(format!(
                    "crds/{}: no object of {} in the given files",
                    resource.name, resource.gvr
                ));
            }
            tables.push(table);
        }
        Some(tables)
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        tokio::spawn(super::collector::run(self.resources.clone(), ctx))
    }
}

/// Whether `object` is in one of `namespaces` (empty: all), as the watch would see it.
fn in_namespaces(namespaces: &[String], object: &Value) -> bool {
    let namespace = object.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("");
    namespaces.is_empty() || namespaces.iter().any(|n| n == namespace)
}
