//! `collectors.crds` → compiled resources, every problem recorded with its YAML path.

use std::sync::Arc;

use opentelemetry::Key;

use super::compile_aggregations::{compile_aggregations, AggregationScope};
use super::compile_fields::{compile_fields, resolve_field};
use super::compile_metric::{compile_metric, MetricScope};
use super::config::{CrdsConfig, LabelPaths, ResourceConfig};
use super::discovery_plan::DiscoveryPlan;
use super::names::{metric_name, name_prefix};
use super::object_fields::FieldPlan;
use super::path::Path;
use super::plan::{CompiledResource, LabelPath, LabelSource};
use super::selection::{common_labels, compile_selection};
use crate::collectors::shared::instrument::{validate_instrument_name, validate_name_part};
use crate::collectors::shared::k8s_names;
use crate::config_parts::{index, join, ConfigIssues};
use crate::series::MetricId;

/// Where the section lives in the config file.
pub const CRDS_CONFIG_PATH: &str = "collectors.crds";

/// How a label names a field or computed field instead of a path: `field:<name>`.
pub const FIELD_LABEL_PREFIX: &str = "field:";

/// Compiles the section found at `CRDS_CONFIG_PATH`; every issue is reported, not only the first.
pub fn compile_crds(config: &CrdsConfig) -> Result<Vec<CompiledResource>, ConfigIssues> {
    let mut issues = ConfigIssues::new();
    let resources = compile(config, CRDS_CONFIG_PATH, &mut issues);
    issues.into_result(resources)
}

/// Compiles the section found at YAML path `at`, adding problems to `issues`. A resource or
/// metric with problems is left out of the result, so callers must check `issues` first.
pub fn compile(config: &CrdsConfig, at: &str, issues: &mut ConfigIssues) -> Vec<CompiledResource> {
    let namespace = config.metrics_namespace.replace('-', "_");
    if !namespace.is_empty() {
        if let Err(e) = validate_instrument_name(&namespace) {
            issues.push(join(at, "metricsNamespace"), e);
        }
    }
    let list_at = join(at, "resources");
    let mut seen: Vec<String> = Vec::new();
    let mut compiled = Vec::new();
    for (i, resource) in config.resources.iter().enumerate() {
        let resource_at = index(&list_at, i);
        let name = resource.name.replace('-', "_");
        if let Some(first) = seen.iter().position(|n| *n == name && !name.is_empty()) {
            issues.push(
                join(&resource_at, "name"),
                format!(
                    "duplicate resource name {:?} (also {}); metric names would clash",
                    resource.name,
                    index(&list_at, first)
                ),
            );
        }
        seen.push(name);
        let before = issues.len();
        let result = compile_resource(resource, &namespace, &resource_at, issues);
        if issues.len() == before {
            compiled.push(result);
        }
    }
    compiled
}

pub(super) fn compile_resource(
    resource: &ResourceConfig,
    namespace: &str,
    at: &str,
    issues: &mut ConfigIssues,
) -> CompiledResource {
    let name = resource.name.replace('-', "_");
    if resource.name.is_empty() {
        issues.push(join(at, "name"), "required: the resource's name, the second part of its metric names");
    } else if let Err(e) = validate_name_part(&name, namespace.is_empty()) {
        issues.push(join(at, "name"), e);
    }
    let selection = compile_selection(resource, at, issues);
    let discovery = DiscoveryPlan::compile(resource, at, issues);
    if !selection.by_kind && discovery.types.is_none() {
        check_gvr(resource, at, issues);
    }
    let fields = compile_fields(resource, at, issues);
    let common_labels =
        compile_label_paths(&common_labels(resource), &join(at, "commonLabels"), &fields.plan, issues);
    let prefix = name_prefix(namespace, &resource.name);
    let scope = MetricScope {
        namespace,
        resource: &resource.name,
        prefix: &prefix,
        common: &common_labels,
        fields: &fields.plan,
    };
    let mut metrics = Vec::new();
    let mut specs = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    let list_at = join(at, "metrics");
    for (i, metric) in resource.metrics.iter().enumerate() {
        let metric_at = index(&list_at, i);
        // Checked before the rest so a duplicate of a metric with other problems is found too.
        if !metric.name.is_empty() {
            let full = metric_name(namespace, &resource.name, &metric.name);
            match seen.iter().find(|(n, _)| *n == full) {
                Some((_, first)) => issues.push(
                    join(&metric_at, "name"),
                    format!("duplicate metric name {full:?} (also {})", index(&list_at, *first)),
                ),
                None => seen.push((full, i)),
            }
        }
        let Some((mut compiled, spec)) = compile_metric(metric, &scope, &metric_at, issues) else {
            continue;
        };
        compiled.id = MetricId(metrics.len() as u32);
        metrics.push(compiled);
        specs.push(spec);
    }
    let metric_names: Vec<String> = seen.into_iter().map(|(name, _)| name).collect();
    let aggregation_scope = AggregationScope {
        namespace,
        resource: &resource.name,
        fields: &fields,
        metric_names: &metric_names,
        first_id: metrics.len(),
    };
    let mut aggregations = Vec::new();
    let aggregations_at = join(at, "aggregations");
    for (aggregation, spec) in
        compile_aggregations(&resource.aggregations, &aggregation_scope, &aggregations_at, issues)
    {
        aggregations.push(aggregation);
        specs.push(spec);
    }
    CompiledResource {
        name: resource.name.clone(),
        prefix,
        gvr: selection.gvr,
        by_kind: selection.by_kind,
        namespaces: selection.namespaces,
        label_selector: selection.label_selector,
        field_selector: selection.field_selector,
        label_filter: selection.label_filter,
        field_filter: selection.field_filter,
        limits: selection.limits,
        resync_period: resource.resync_period,
        common_labels,
        metrics,
        fields: fields.plan,
        aggregations,
        specs,
        discovery,
    }
}

fn check_gvr(resource: &ResourceConfig, at: &str, issues: &mut ConfigIssues) {
    let gvr = &resource.gvr;
    let at = join(at, "gvr");
    if gvr.version.trim().is_empty() {
        issues.push(join(&at, "version"), "required: the API version, e.g. v1alpha1");
    } else if let Err(e) = k8s_names::dns_label(&gvr.version, "an API version") {
        issues.push(join(&at, "version"), e);
    }
    if !gvr.group.is_empty() {
        if let Err(e) = k8s_names::dns_subdomain(&gvr.group, "an API group") {
            issues.push(join(&at, "group"), e);
        }
    }
    if gvr.resource.trim().is_empty() {
        issues.push(join(&at, "resource"), "required: the lowercase plural resource name, e.g. clusters");
    } else if gvr.resource.chars().any(|c| c.is_uppercase() || c.is_whitespace()) {
        issues.push(
            join(&at, "resource"),
            format!("expected the lowercase plural resource name (e.g. clusters), found {:?}", gvr.resource),
        );
    } else if let Err(e) = k8s_names::dns_subdomain(&gvr.resource, "a resource name") {
        issues.push(join(&at, "resource"), e);
    }
    if let Some(kind) = gvr.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        if let Err(e) = k8s_names::kind(kind) {
            issues.push(join(&at, "kind"), e);
        }
    }
    if gvr.kind.as_deref().is_some_and(|k| k.trim().is_empty()) {
        issues.push(join(&at, "kind"), "empty kind; leave it out to guess it from the resource name");
    }
}

/// Compiles attribute name → path (or `field:<name>`) pairs, reporting empty names, malformed
/// paths and unknown fields at `at.<name>`.
pub(super) fn compile_label_paths(
    labels: &LabelPaths,
    at: &str,
    fields: &FieldPlan,
    issues: &mut ConfigIssues,
) -> Vec<LabelPath> {
    let mut compiled = Vec::new();
    for (name, path) in labels.iter() {
        let label_at = key_path(at, name);
        if name.trim().is_empty() {
            issues.push(label_at, "empty attribute name");
            continue;
        }
        let source = match path.strip_prefix(FIELD_LABEL_PREFIX).map(str::trim) {
            Some(field) => match resolve_field(fields, field, &label_at, issues) {
                Some(index) => LabelSource::Field(index, field.to_owned()),
                None => continue,
            },
            None => match Path::compile(path) {
                Ok(path) => LabelSource::Path(path),
                Err(e) => {
                    issues.push(label_at, e);
                    continue;
                }
            },
        };
        compiled.push(LabelPath { name: Key::from(Arc::<str>::from(name)), source });
    }
    compiled
}

/// The YAML path of a map entry: `at.name`, or `at["name"]` when the name is not a plain word.
pub(super) fn key_path(at: &str, name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        join(at, name)
    } else {
        format!("{at}[{name:?}]")
    }
}
