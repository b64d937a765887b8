//! `aggregations` of a resource → [`CompiledAggregation`]s and their gauge specs, every problem
//! with its YAML path.

use std::sync::Arc;

use opentelemetry::Key;

use super::aggregate::{AggregationFilter, CompiledAggregation};
use super::cel::compile as compile_cel;
use super::compile_fields::{resolve_field, CompiledFields};
use super::config_fields::{AggregationConfig, FilterConfig, GroupByConfig};
use super::filter::FieldMatch;
use super::names::metric_name;
use super::object_fields::FieldIndex;
use crate::collectors::shared::instrument::{validate_instrument_name, validate_name_part, validate_unit};
use crate::config_parts::{index, join, ConfigIssues};
use crate::series::{MetricId, MetricSpec, Reducer, Reduction};

/// The functions, as written in the config.
pub const FUNCTIONS: [&str; 8] = ["count", "sum", "avg", "min", "max", "median", "percentile", "distinct"];

/// What aggregations are compiled against.
pub(super) struct AggregationScope<'a> {
    pub namespace: &'a str,
    pub resource: &'a str,
    pub fields: &'a CompiledFields,
    /// Full names of the resource's metrics, which aggregations must not reuse.
    pub metric_names: &'a [String],
    /// The id of the first aggregation (after the metrics).
    pub first_id: usize,
}

/// Compiles `aggregations` (at YAML path `at`) with their specs, in order.
pub(super) fn compile_aggregations(
    aggregations: &[AggregationConfig],
    scope: &AggregationScope<'_>,
    at: &str,
    issues: &mut ConfigIssues,
) -> Vec<(CompiledAggregation, MetricSpec)> {
    let mut compiled = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for (i, aggregation) in aggregations.iter().enumerate() {
        let aggregation_at = index(at, i);
        let before = issues.len();
        let name = compile_name(aggregation, scope, &aggregation_at, &mut seen, issues);
        let one = compile_one(aggregation, scope, &aggregation_at, issues);
        if let Err(e) = validate_unit(&aggregation.unit) {
            issues.push(join(&aggregation_at, "unit"), e);
        }
        let (Some(name), Some((function, field, group_by, filter))) = (name, one) else { continue };
        if issues.len() > before {
            continue;
        }
        let id = MetricId((scope.first_id + compiled.len()) as u32);
        let reduction = Reduction { reducer: function, grouped: !group_by.is_empty() };
        let spec = MetricSpec::gauge(name.clone(), aggregation.unit.clone(), aggregation.help.clone())
            .reduced(reduction);
        compiled.push((CompiledAggregation { id, name, function, field, group_by, filter }, spec));
    }
    compiled
}

fn compile_name(
    aggregation: &AggregationConfig,
    scope: &AggregationScope<'_>,
    at: &str,
    seen: &mut Vec<(String, String)>,
    issues: &mut ConfigIssues,
) -> Option<String> {
    let at = join(at, "name");
    if aggregation.name.is_empty() {
        issues.push(at, "required: the aggregation's name, the last part of its metric name");
        return None;
    }
    if let Err(e) = validate_name_part(&aggregation.name.replace('-', "_"), false) {
        issues.push(at, e);
        return None;
    }
    let full = metric_name(scope.namespace, scope.resource, &aggregation.name);
    if scope.metric_names.contains(&full) {
        issues.push(at, format!("{full:?} is already the name of a metric of this resource"));
        return None;
    }
    if let Some((_, first)) = seen.iter().find(|(n, _)| *n == full) {
        issues.push(at, format!("duplicate aggregation name {full:?} (also {first})"));
        return None;
    }
    seen.push((full.clone(), at.clone()));
    if !scope.resource.is_empty() {
        if let Err(e) = validate_instrument_name(&full) {
            issues.push(at, e);
            return None;
        }
    }
    Some(full)
}

type Parts = (Reducer, Option<FieldIndex>, Vec<(Key, FieldIndex)>, Option<AggregationFilter>);

fn compile_one(
    aggregation: &AggregationConfig,
    scope: &AggregationScope<'_>,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<Parts> {
    let plan = &scope.fields.plan;
    let resolve = |name: &str, at: String, issues: &mut ConfigIssues| resolve_field(plan, name, &at, issues);
    let function = parse_function(aggregation, at, issues);
    let field = match (&aggregation.field, function) {
        (Some(name), _) => Some(resolve(name, join(at, "field"), issues)),
        (None, Some(Reducer::Count) | None) => None,
        (None, Some(_)) => {
            issues.push(join(at, "field"), format!("required for the {} function", aggregation.function));
            None
        }
    };
    let mut group_by = Vec::new();
    match &aggregation.group_by {
        None => {}
        Some(GroupByConfig::One(name)) => group_by.push((name, join(at, "groupBy"))),
        Some(GroupByConfig::Many(names)) => {
            group_by.extend(names.iter().enumerate().map(|(i, n)| (n, index(&join(at, "groupBy"), i))))
        }
    }
    let group_by: Vec<_> = group_by
        .into_iter()
        .filter_map(|(name, at)| {
            resolve(name, at, issues).map(|i| (Key::from(Arc::<str>::from(name.as_str())), i))
        })
        .collect();
    let filter =
        aggregation.filter.as_ref().and_then(|f| compile_filter(f, scope, &join(at, "filter"), issues));
    Some((function?, field.flatten(), group_by, filter))
}

fn parse_function(aggregation: &AggregationConfig, at: &str, issues: &mut ConfigIssues) -> Option<Reducer> {
    let percentile_at = join(at, "percentile");
    let function = match aggregation.function.as_str() {
        "count" => Reducer::Count,
        "sum" => Reducer::Sum,
        "avg" => Reducer::Avg,
        "min" => Reducer::Min,
        "max" => Reducer::Max,
        "median" => Reducer::Median,
        "distinct" => Reducer::Distinct,
        "percentile" => match aggregation.percentile {
            Some(p) if (0.0..=100.0).contains(&p) => Reducer::Percentile(p),
            Some(p) => {
                issues.push(percentile_at, format!("expected 0 to 100, found {p}"));
                return None;
            }
            None => {
                issues.push(percentile_at, "required for the percentile function: 0 to 100");
                return None;
            }
        },
        other => {
            let message = if other.is_empty() {
                format!("required: one of {}", FUNCTIONS.join(", "))
            } else {
                format!("unknown function {other:?}; expected one of {}", FUNCTIONS.join(", "))
            };
            issues.push(join(at, "function"), message);
            return None;
        }
    };
    if aggregation.percentile.is_some() && !matches!(function, Reducer::Percentile(_)) {
        issues.push(percentile_at, "only used by the percentile function");
    }
    Some(function)
}

fn compile_filter(
    filter: &FilterConfig,
    scope: &AggregationScope<'_>,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<AggregationFilter> {
    let plan = &scope.fields.plan;
    match filter {
        FilterConfig::Expression(source) => {
            let env = plan.cel.as_deref()?;
            match compile_cel(env, source, &scope.fields.variables()) {
                Ok((expression, _)) => Some(AggregationFilter::Cel(expression)),
                Err(e) => {
                    issues.push(at, e);
                    None
                }
            }
        }
        FilterConfig::Match(test) => {
            let field = resolve_field(plan, &test.field, &join(at, "field"), issues)?;
            match FieldMatch::compile(field, &test.operator, &test.value) {
                Ok(test) => Some(AggregationFilter::Field(test)),
                Err((key, message)) => {
                    issues.push(join(at, key), message);
                    None
                }
            }
        }
    }
}
