//! The custom-resource collector as the agent sees it: `collectors.crds` compiled once into the
//! plan that `check`, `rbac`, `render` and the runtime use.

use std::collections::HashSet;
use std::sync::Arc;

use futures::future::{BoxFuture, FutureExt};
use serde::Serialize;
use tokio::task::JoinHandle;

use super::access_discovery::{
    describe_namespace_selector, describe_select, namespace_access, select_access,
};
use super::compile::compile;
use super::config::CrdsConfig;
use super::discovery_types::tag_points;
use super::extract::extract;
use super::guards::{Admission, Admitted};
use super::ksm::{self, KsmPlan, KsmResource};
use super::namespaces::WatchMode;
use super::plan::CompiledResource;
use super::render_discovery::{namespace_gate_of_files, types_in_files};
use super::sources::{self, MetricSourcesConfig};
use crate::collectors::context::CollectorContext;
use crate::collectors::plan::{CollectorPlan, Compiled, ReadAccess, StatusAccess};
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
    section.metric_sources.check(&join(path, "metricSources"), issues);
    let configured = !section.resources.is_empty()
        || section.kube_state_metrics.is_some()
        || section.metric_sources.enabled;
    let crds = Crds {
        resources,
        wildcards: ksm.wildcards,
        sources: section.metric_sources.clone(),
        enabled: section.is_enabled(),
    };
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

/// The compiled resources, and how metric sources are read.
struct Crds {
    resources: Vec<CompiledResource>,
    /// kube-state-metrics resources with `*` for their version or kind.
    wildcards: Vec<Arc<KsmResource>>,
    sources: MetricSourcesConfig,
    /// Off, `render` still renders the metric sources among its objects.
    enabled: bool,
}

impl Crds {
    /// The metric names of the configured resources, which no metric source may produce.
    fn config_names(&self) -> HashSet<String> {
        self.resources.iter().flat_map(|r| r.specs.iter().map(|s| s.name.clone())).collect()
    }
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
        let sources = self.sources.enabled.then(|| sources::summary(&self.sources, election));
        self.resources
            .iter()
            .map(|r| {
                // Metrics then aggregations, one entry per exported name.
                let names: Vec<&str> = r.specs.iter().map(|s| s.name.as_str()).collect();
                let resource = match (&r.discovery.types, r.by_kind, &r.gvr.kind) {
                    (Some(types), _, _) => describe_select(types),
                    (None, true, Some(kind)) => format!("{} kind {kind}, resolved at run time", r.gvr),
                    _ => r.gvr.to_string(),
                };
                let mode = r.namespaces.mode().describe();
                let labelled = describe_namespace_selector(r);
                format!("crds/{} ({resource}; {mode}{labelled}; {election}): {}", r.name, names.join(", "))
            })
            .chain(wildcards)
            .chain(sources)
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
        let sources = self.sources.enabled.then(|| sources::read_access(&self.sources));
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
        access.into_iter().chain(wildcards).chain(sources).collect()
    }

    fn status_access(&self) -> Vec<StatusAccess> {
        self.sources.enabled.then(sources::status_access).into_iter().collect()
    }

    /// One table per resource (when on) and per metric source among `objects` (also when off,
    /// as the agent would run them with `metricSources` on; `None` then if there is none).
    fn render(
        &self,
        objects: &[SourcedObject],
        registry: &MetricsRegistry,
        warnings: &mut Vec<String>,
    ) -> Option<Vec<TableHandle>> {
        if !self.enabled {
            return sources::render_sources(objects, &HashSet::new(), &self.sources, registry, warnings);
        }
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
        tables.extend(expanded.iter().map(|r| render_resource(r, objects, registry, warnings)));
        let config_names = self.config_names();
        let from_sources = sources::render_sources(objects, &config_names, &self.sources, registry, warnings);
        tables.extend(from_sources.into_iter().flatten());
        Some(tables)
    }

    fn renders_when_off(&self) -> bool {
        true
    }

    fn preview(&self, client: kube::Client) -> BoxFuture<'static, Vec<String>> {
        super::preview::preview(self.resources.clone(), client).boxed()
    }

    fn spawn(&self, ctx: CollectorContext) -> JoinHandle<()> {
        let (resources, wildcards) = (self.resources.clone(), self.wildcards.clone());
        if !self.sources.enabled {
            return tokio::spawn(super::collector::run(resources, wildcards, ctx));
        }
        let (settings, names) = (self.sources.clone(), self.config_names());
        tokio::spawn(async move {
            let sources = sources::run_sources(settings, names, ctx.clone());
            tokio::join!(super::collector::run(resources, wildcards, ctx), sources);
        })
    }
}

/// One resource's table, filled with its objects among `objects` (keyed by their position,
/// since objects in files may lack a UID).
pub(super) fn render_resource(
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
        let limits = &resource.limits;
        let objects = match limits.objects {
            usize::MAX => String::new(),
            cap => format!(" or maxObjectsPerSource ({cap})"),
        };
        warnings.push(format!(
            "{sourced}: crds/{}: {} points dropped beyond maxSeriesPerObject ({}) or maxSeries ({}){objects}",
            resource.name, admitted.dropped, limits.per_object, limits.total
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
