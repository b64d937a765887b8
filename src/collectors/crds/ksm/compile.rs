//! The kube-state-metrics document → [`KsmResource`]s, refusing what kube-state-metrics refuses
//! (a metric without a known type or without its type's settings, a malformed path, two entries
//! for one group and kind) and what could not be exported under kube-state-metrics' names.

use std::collections::BTreeMap;

use super::document::{Document, Each, Generator, Resource};
use super::family::{EachKind, KsmFamily};
use super::gauge::GaugeEach;
use super::info::InfoEach;
use super::labels::PathLabels;
use super::load::Origin;
use super::path::KsmPath;
use super::resource::{KsmResource, WILDCARD};
use super::source::KsmSource;
use super::state_set::StateSetEach;
use crate::collectors::crds::guards::SeriesLimits;
use crate::collectors::shared::instrument::validate_instrument_name;
use crate::config_parts::{index, join, ConfigIssues};
use crate::series::{MetricId, MetricSpec};

/// The prefix of metric names when `metricNamePrefix` is absent.
pub const DEFAULT_PREFIX: &str = "kube_customresource";

/// The types, as kube-state-metrics reads them (any case).
const TYPES: &str = "Gauge, StateSet or Info";

/// Compiles `document`; a resource with problems is left out, so callers check `issues`.
pub fn compile_document(
    document: &Document,
    source: &KsmSource,
    origin: &Origin,
    issues: &mut ConfigIssues,
) -> Vec<KsmResource> {
    let mut compiled = Vec::new();
    let mut seen: Vec<(&str, &str, usize)> = Vec::new();
    for (i, resource) in document.spec.resources.iter().enumerate() {
        let at = index("spec.resources", i);
        let gvk = &resource.group_version_kind;
        // One resource is one group and kind, whatever the versions; `*` stands for every kind.
        let same = |(g, k, _): &&(&str, &str, usize)| {
            *g == gvk.group && (*k == gvk.kind || *k == WILDCARD || gvk.kind == WILDCARD)
        };
        if let Some((_, kind, first)) = seen.iter().find(same) {
            origin.push(
                issues,
                &join(&at, "groupVersionKind"),
                format!(
                    "duplicate resource: spec.resources[{first}] (group {:?} kind {kind:?}) covers group {:?} \
                     kind {:?} too; kube-state-metrics exits on two entries for one resource, whatever their \
                     versions",
                    gvk.group, gvk.group, gvk.kind
                ),
            );
        }
        seen.push((&gvk.group, &gvk.kind, i));
        let before = issues.len();
        let result = compile_resource(resource, source, origin, &at, issues);
        if issues.len() == before {
            compiled.push(result);
        }
    }
    compiled
}

fn compile_resource(
    resource: &Resource,
    source: &KsmSource,
    origin: &Origin,
    at: &str,
    issues: &mut ConfigIssues,
) -> KsmResource {
    let gvk = &resource.group_version_kind;
    let gvk_at = join(at, "groupVersionKind");
    for (key, value, example) in [("version", &gvk.version, "v1"), ("kind", &gvk.kind, "Foo")] {
        if value.trim().is_empty() {
            origin.push(
                issues,
                &join(&gvk_at, key),
                format!("required: e.g. {example}, or {WILDCARD} for all"),
            );
        }
    }
    let prefix = resource.metric_name_prefix.as_deref().unwrap_or(DEFAULT_PREFIX);
    let mut families = Vec::new();
    let mut ids = Vec::new();
    let mut specs: Vec<MetricSpec> = Vec::new();
    for (i, generator) in resource.metrics.iter().enumerate() {
        let metric_at = index(&join(at, "metrics"), i);
        let Some(family) = compile_family(resource, generator, prefix, origin, &metric_at, issues) else {
            continue;
        };
        // Two entries of one name (kube-state-metrics' VPA example does it for cpu and memory)
        // are one family: one metric, the series of both.
        let id = match specs.iter().position(|s| s.name == family.name) {
            Some(existing) => MetricId(existing as u32),
            None => {
                specs.push(MetricSpec::gauge(family.name.clone(), "", generator.help.clone()));
                MetricId(specs.len() as u32 - 1)
            }
        };
        families.push(family);
        ids.push(id);
    }
    KsmResource {
        gvk: gvk.clone(),
        plural: Some(resource.resource_plural.clone()).filter(|p| !p.is_empty()),
        families,
        ids,
        specs,
        limits: SeriesLimits {
            per_object: source.max_series_per_object,
            total: source.max_series,
            objects: usize::MAX,
        },
        resync_period: source.resync_period,
    }
}

fn compile_family(
    resource: &Resource,
    generator: &Generator,
    prefix: &str,
    origin: &Origin,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<KsmFamily> {
    let before = issues.len();
    let name =
        if prefix.is_empty() { generator.name.clone() } else { format!("{prefix}_{}", generator.name) };
    if generator.name.is_empty() {
        origin.push(issues, &join(at, "name"), "required: the metric's name");
    } else if let Err(e) = prometheus_name(&name) {
        origin.push(issues, &join(at, "name"), format!("metric name {name:?}: {e}"));
    }
    let merged = resource.labels.merged(&generator.labels);
    let labels = compile_labels(&merged.labels_from_path, origin, &join(at, "labelsFromPath"), issues);
    let each = compile_each(&generator.each, origin, &join(at, "each"), issues);
    if issues.len() > before {
        return None;
    }
    let error_log_v = if generator.error_log_v == 0 { resource.error_log_v } else { generator.error_log_v };
    Some(KsmFamily {
        name,
        common: merged.common_labels,
        metric_common: generator.labels.common_labels.keys().cloned().collect(),
        labels: labels?,
        each: each?,
        report_errors: error_log_v == 0,
    })
}

/// Prometheus' metric name rule, narrowed to what an OpenTelemetry instrument name can carry
/// unchanged through the Collector's Prometheus exporter (no `:`, no leading `_`, no `__`).
fn prometheus_name(name: &str) -> Result<(), String> {
    validate_instrument_name(name).map_err(|e| e.to_string())?;
    if name.contains(['.', '-', '/']) {
        return Err(
            "expected letters, digits and _ only (the Prometheus exporters would turn the rest into _)"
                .into(),
        );
    }
    if name.contains("__") || name.ends_with('_') {
        return Err("the Collector's Prometheus exporter would collapse a repeated or trailing _".into());
    }
    Ok(())
}

fn compile_labels(
    paths: &BTreeMap<String, Vec<String>>,
    origin: &Origin,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<PathLabels> {
    PathLabels::compile(paths).map_err(|(name, e)| origin.push(issues, &format!("{at}[{name:?}]"), e)).ok()
}

fn compile_path(
    segments: &[String],
    origin: &Origin,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<KsmPath> {
    KsmPath::compile(segments).map_err(|e| origin.push(issues, at, e)).ok()
}

fn compile_each(each: &Each, origin: &Origin, at: &str, issues: &mut ConfigIssues) -> Option<EachKind> {
    let kind = each.kind.to_lowercase();
    let missing = |issues: &mut ConfigIssues, key: &str, ty: &str| {
        origin.push(
            issues,
            &join(at, key),
            format!("required for type {ty} (kube-state-metrics refuses a {ty} metric without it)"),
        );
    };
    match kind.as_str() {
        "gauge" => {
            let Some(gauge) = &each.gauge else {
                missing(issues, "gauge", "Gauge");
                return None;
            };
            let at = join(at, "gauge");
            let path = compile_path(&gauge.meta.path, origin, &join(&at, "path"), issues);
            let value_from = compile_path(&gauge.value_from, origin, &join(&at, "valueFrom"), issues);
            let labels =
                compile_labels(&gauge.meta.labels_from_path, origin, &join(&at, "labelsFromPath"), issues);
            Some(EachKind::Gauge(GaugeEach {
                path: path?,
                labels: labels?,
                label_from_key: gauge.label_from_key.clone(),
                value_from: value_from?,
                nil_is_zero: gauge.nil_is_zero,
            }))
        }
        "stateset" => {
            let Some(state_set) = &each.state_set else {
                missing(issues, "stateSet", "StateSet");
                return None;
            };
            let at = join(at, "stateSet");
            // kube-state-metrics would write a label without a name, which no scrape accepts.
            if state_set.label_name.is_empty() {
                origin.push(
                    issues,
                    &join(&at, "labelName"),
                    "required: the label holding each state of list",
                );
            }
            let path = compile_path(&state_set.meta.path, origin, &join(&at, "path"), issues);
            let value_from = compile_path(&state_set.value_from, origin, &join(&at, "valueFrom"), issues);
            let labels = compile_labels(
                &state_set.meta.labels_from_path,
                origin,
                &join(&at, "labelsFromPath"),
                issues,
            );
            if state_set.label_name.is_empty() {
                return None;
            }
            Some(EachKind::StateSet(StateSetEach {
                path: path?,
                labels: labels?,
                label_name: state_set.label_name.clone(),
                value_from: value_from?,
                list: state_set.list.clone(),
            }))
        }
        "info" => {
            let Some(info) = &each.info else {
                missing(issues, "info", "Info");
                return None;
            };
            let at = join(at, "info");
            let path = compile_path(&info.meta.path, origin, &join(&at, "path"), issues);
            let labels =
                compile_labels(&info.meta.labels_from_path, origin, &join(&at, "labelsFromPath"), issues);
            Some(EachKind::Info(InfoEach {
                path: path?,
                labels: labels?,
                label_from_key: info.label_from_key.clone(),
            }))
        }
        "" => {
            origin.push(
                issues,
                &join(at, "type"),
                format!(
                    "required: the metric type, {TYPES} (kube-state-metrics refuses a metric without one)"
                ),
            );
            None
        }
        _ => {
            origin.push(
                issues,
                &join(at, "type"),
                format!("unknown metric type {:?}; expected {TYPES}", each.kind),
            );
            None
        }
    }
}
