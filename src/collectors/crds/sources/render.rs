//! `render` with MetricSource and ClusterMetricSource objects among its inputs: each is
//! compiled and decided exactly as the agent would (same checks, names, conflicts, own
//! namespace only, object cap), then rendered like a configured resource; a refused source
//! becomes warnings naming its file and every error.

use std::collections::{BTreeMap, HashSet};

use super::config::MetricSourcesConfig;
use super::kinds::{SourceKind, SourceRef};
use super::reconcile::{reconcile, Verdict};
use super::spec::{compile_source, SourceObject};
use super::status::message;
use crate::collectors::crds::seam::render_resource;
use crate::objects::SourcedObject;
use crate::series::{MetricsRegistry, TableHandle};

/// The tables of the sources found in `objects`; `None` when there is none.
pub(crate) fn render_sources(
    objects: &[SourcedObject],
    config_names: &HashSet<String>,
    settings: &MetricSourcesConfig,
    registry: &MetricsRegistry,
    warnings: &mut Vec<String>,
) -> Option<Vec<TableHandle>> {
    let mut found: Vec<(SourceObject, &SourcedObject)> = Vec::new();
    for sourced in objects {
        if let Some(kind) = SourceKind::of(&sourced.object) {
            let mut source = SourceObject::from_value(kind, &sourced.object);
            // A file's object has no generation yet; the API server would make it 1.
            source.generation = source.generation.max(1);
            if source.uid.is_empty() {
                // Files rarely carry uids; the position keeps sources apart and in file order.
                source.uid = format!("{:08}", found.len());
            }
            found.push((source, sourced));
        }
    }
    if found.is_empty() {
        return None;
    }
    let sources: Vec<SourceObject> = found.iter().map(|(s, _)| s.clone()).collect();
    let max_objects = settings.max_objects_per_source;
    let outcome = reconcile(&sources, &BTreeMap::new(), config_names, |o| compile_source(o, max_objects));
    let file_of = |source: &SourceRef| found.iter().find(|(s, _)| s.source == *source).map(|(_, f)| *f);
    for decision in outcome.decisions.iter().filter(|d| d.verdict != Verdict::Accepted) {
        let Some(file) = file_of(&decision.source) else { continue };
        warnings.extend(message(decision, &[]).lines().map(|line| format!("{file}: {line}")));
    }
    let mut tables = Vec::new();
    for (source, running) in &outcome.run {
        let resource = &running.compiled.resource;
        let table = match &source.namespace {
            Some(own) => {
                let mine = |o: &&SourcedObject| {
                    o.object.pointer("/metadata/namespace").and_then(|n| n.as_str()) == Some(own)
                };
                let objects: Vec<SourcedObject> = objects.iter().filter(mine).cloned().collect();
                render_resource(resource, &objects, registry, warnings)
            }
            None => render_resource(resource, objects, registry, warnings),
        };
        tables.push(table);
    }
    Some(tables)
}
