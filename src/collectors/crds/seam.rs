//! The custom-resource collector as the agent sees it: `collectors.crds` compiled once into the
//! plan that `check`, `rbac`, `render` and the runtime use.

use std::sync::Arc;

use serde::Serialize;
use tokio::task::JoinHandle;

use super::compile::compile;
use super::config::CrdsConfig;
use super::extract::extract;
use super::guards::{Admission, Admitted};
use super::ksm::{self, KsmPlan, KsmResource};
use super::namespaces::WatchMode;
use super::plan::CompiledResource;
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled, ReadAccess};
use crate::config_parts::{join, ConfigIssues};
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// The plan of `section` (found at `path`), checked whether it is enabled or not.
pub fn plan(section: &CrdsConfig, path: &str, issues: &mut ConfigIssues) -> CollectorPlan {
    let mut resources = compile(section, path, issues);
    let ksm = match &section.kube_state_metrics {
        Some(source) => ksm::compile(source, &join(path, "kubeStateMetrics"), issues),
        None => KsmPlan::default(),
    };
    resources.extend(ksm.resources);
    let configured = !section.resources.is_empty() || section.kube_state_metrics.is_some();
    let crds = Crds { resources, wildcards: ksm.wildcards };
    // The document read from a file is part of what a reload compares.
    let compared = Compared { section, kube_state_metrics_document: ksm.document };
    CollectorPlan::new("crds", section.is_enabled(), configured, section.leader_election, &compared, crds)
}

/// What tells two plans of the section apart.
#[derive(Serialize)]
struct Compared<'a> {
    section: &'a CrdsConfig,
    kube_state_metrics_document: Option<serde_json::Value>,
}

/// The compiled resources.
struct Crds {
    resources: Vec<CompiledResource>,
    /// kube-state-metrics resources with `*` for their version or kind.
    wildcards: Vec<Arc<KsmResource>>,
}

impl Compiled for Crds {
    fn summary(&self, election: &str) -> Vec<String> {
        let wildcards = self.wildcards.iter().map(|w| {
            let names: Vec<&str> = w.specs.iter().map(|s| s.name.as_str()).collect();
            format!(
                "crds/{} (every served version and kind it covers, resolved at run time; all namespaces; {election}): {}",
                w.display_name(),
                names.join(", ")
            )
        });
        self.resources
            .iter()
            .map(|r| {
                // Metrics then aggregations, one entry per exported name.
                let names: Vec<&str> = r.specs.iter().map(|s| s.name.as_str()).collect();
                let resource = match (r.by_kind, &r.gvr.kind) {
                    (true, Some(kind)) => format!("{} kind {kind}, resolved at run time", r.gvr),
                    _ => r.gvr.to_string(),
                };
                let mode = r.namespaces.mode().describe();
                format!("crds/{} ({resource}; {mode}; {election}): {}", r.name, names.join(", "))
            })
            .chain(wildcards)
            .collect()
    }

    fn needs_kubernetes(&self) -> bool {
        true
    }

    fn splits_objects(&self) -> bool {
        true
    }

    fn read_access(&self) -> Vec<ReadAccess> {
        let wildcards = self.wildcards.iter().map(|w| ReadAccess {
            group: w.gvk.group.clone(),
            resources: vec!["*".into()],
            note: Some(format!(
                "crds/{}: every resource of the group, as its version or kind is *",
                w.display_name()
            )),
        });
        self.resources
            .iter()
            .map(|r| ReadAccess {
                group: r.gvr.group.clone(),
                resources: vec![r.gvr.resource.clone()],
                note: Some(access_note(r)),
            })
            .chain(wildcards)
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
        let mut expanded = Vec::new();
        for wildcard in &self.wildcards {
            let found = ksm::from_objects(wildcard, objects.iter().map(|o| &o.object));
            if found.is_empty() {
                warnings.push(format!(
                    "crds/{}: no object of a version and kind it covers in the given files",
                    wildcard.display_name()
                ));
            }
            expanded.extend(found);
        }
        for resource in self.resources.iter().chain(&expanded) {
            let table = registry.table(format!("crds/{}", resource.name), resource.specs.clone());
            let wanted = |o: &SourcedObject| resource.matches(&o.object) && resource.selects(&o.object);
            let mut admission = Admission::new(resource);
            let mut matched = 0usize;
            for (i, sourced) in objects.iter().enumerate().filter(|(_, o)| wanted(o)) {
                matched += 1;
                let extracted = extract(resource, &sourced.object);
                warnings.extend(
                    extracted.errors.iter().map(|e| format!("{sourced}: metric {}: {}", e.metric, e.reason)),
                );
                let key = i.to_string();
                let admitted = admission.admit(&key, extracted.points);
                warnings.extend(admission_warnings(resource, objects, sourced, &admitted));
                table.replace(&key, admitted.points);
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
        tokio::spawn(super::collector::run(self.resources.clone(), self.wildcards.clone(), ctx))
    }
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
