//! The custom-resource collector as the agent sees it: `collectors.crds` compiled once into the
//! plan that `check`, `rbac`, `render` and the runtime use.

use futures::future::{BoxFuture, FutureExt};
use tokio::task::JoinHandle;

use super::access_discovery::{
    describe_namespace_selector, describe_select, namespace_access, select_access,
};
use super::compile::compile;
use super::config::CrdsConfig;
use super::discovery_types::tag_points;
use super::extract::extract;
use super::guards::{Admission, Admitted};
use super::namespaces::WatchMode;
use super::plan::CompiledResource;
use super::render_discovery::{namespace_gate_of_files, types_in_files};
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled, ReadAccess};
use crate::config_parts::ConfigIssues;
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// The plan of `section` (found at `path`), checked whether it is enabled or not.
pub fn plan(section: &CrdsConfig, path: &str, issues: &mut ConfigIssues) -> CollectorPlan {
    let resources = compile(section, path, issues);
    let configured = !section.resources.is_empty();
    let crds = Crds { resources };
    CollectorPlan::new("crds", section.is_enabled(), configured, section.leader_election, section, crds)
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
                let resource = match (&r.discovery.types, r.by_kind, &r.gvr.kind) {
                    (Some(types), _, _) => describe_select(types),
                    (None, true, Some(kind)) => format!("{} kind {kind}, resolved at run time", r.gvr),
                    _ => r.gvr.to_string(),
                };
                let mode = r.namespaces.mode().describe();
                let labelled = describe_namespace_selector(r);
                format!("crds/{} ({resource}; {mode}{labelled}; {election}): {}", r.name, names.join(", "))
            })
            .collect()
    }

    fn needs_kubernetes(&self) -> bool {
        true
    }

    fn read_access(&self) -> Vec<ReadAccess> {
        let mut access: Vec<ReadAccess> = Vec::new();
        for r in &self.resources {
            match &r.discovery.types {
                Some(types) => access.extend(select_access(r, types)),
                None => access.push(ReadAccess {
                    group: r.gvr.group.clone(),
                    resources: vec![r.gvr.resource.clone()],
                    note: Some(access_note(r)),
                }),
            }
        }
        access.extend(namespace_access(&self.resources));
        access
    }

    /// One table per resource (per type found for a `select` entry), filled with the objects
    /// of that resource (keyed by their position, since objects in files may lack a UID).
    fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        let mut tables = Vec::new();
        for entry in &self.resources {
            let mut entry = entry.clone();
            entry.discovery.gate = namespace_gate_of_files(&entry, objects, warnings);
            let resources = match &entry.discovery.types {
                Some(types) => types_in_files(&entry, types, objects, warnings),
                None => vec![entry],
            };
            for resource in &resources {
                tables.push(render_resource(resource, objects, registry, warnings));
            }
        }
        Some(tables)
    }

    fn preview(&self, client: kube::Client) -> BoxFuture<'static, Vec<String>> {
        super::preview::preview(self.resources.clone(), client).boxed()
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        tokio::spawn(super::collector::run(self.resources.clone(), ctx))
    }
}

/// The table of `resource` filled from the objects it matches and selects.
fn render_resource(
    resource: &CompiledResource,
    objects: &[SourcedObject],
    registry: &MetricsRegistry,
    warnings: &mut Vec<String>,
) -> TableHandle {
    let table = registry.table(format!("crds/{}", resource.name), resource.specs.clone());
    let wanted = |o: &SourcedObject| resource.matches(&o.object) && resource.selects(&o.object);
    let mut admission = Admission::new(resource);
    let mut matched = 0usize;
    for (i, sourced) in objects.iter().enumerate().filter(|(_, o)| wanted(o)) {
        matched += 1;
        let mut extracted = extract(resource, &sourced.object);
        tag_points(&mut extracted.points, &resource.discovery.type_attributes);
        warnings
            .extend(extracted.errors.iter().map(|e| format!("{sourced}: metric {}: {}", e.metric, e.reason)));
        let key = i.to_string();
        let admitted = admission.admit(&key, extracted.points);
        warnings.extend(admission_warnings(resource, objects, sourced, &admitted));
        table.replace(&key, admitted.points);
    }
    if matched == 0 {
        warnings.push(format!("crds/{}: no object of {} in the given files", resource.name, resource.gvr));
    }
    table
}

/// What `rbac` says about one resource: how it is watched and whether its plural is a guess.
fn access_note(resource: &CompiledResource) -> String {
    let mut note = format!("crds/{}: {}", resource.name, resource.namespaces.mode().describe());
    if resource.namespaces.mode() == WatchMode::PerNamespace {
        note.push_str(" (a Role in each of these namespaces would be enough)");
    }
    if let (true, Some(kind)) = (resource.by_kind, &resource.gvr.kind) {
        note.push_str(&format!(
            "; {:?} is the plural guessed from kind {kind}, discovery resolves the real one at run time",
            resource.gvr.resource
        ));
    }
    note
}

/// `render`'s words for the points `admit` dropped from `sourced` (keys are positions in `objects`).
fn admission_warnings(
    resource: &CompiledResource,
    objects: &[SourcedObject],
    sourced: &SourcedObject,
    admitted: &Admitted,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if admitted.dropped > 0 {
        warnings.push(format!(
            "{sourced}: crds/{}: {} points dropped beyond maxSeriesPerObject ({}) or maxSeries ({})",
            resource.name, admitted.dropped, resource.limits.per_object, resource.limits.total
        ));
    }
    for collision in &admitted.collisions {
        let metric = &resource.specs[collision.metric.0 as usize].name;
        let owner = collision.owner.parse::<usize>().ok().and_then(|i| objects.get(i));
        let owner = owner.map_or_else(|| collision.owner.to_string(), ToString::to_string);
        warnings.push(format!(
            "{sourced}: metric {metric}: collision with {owner}: both give a point the same attributes; \
             the point of {owner} is kept"
        ));
    }
    warnings
}
