//! Per-object inputs of a resource's aggregations (SPEC §4.2): for each aggregation whose
//! filter the object passes, one point carrying its group and its value. The aggregation
//! itself runs at each read (`series::Reduction`), so only these few numbers and interned
//! group attributes are kept per object.

use opentelemetry::{Key, KeyValue};

use super::cel::CelExpr;
use super::extract::ExtractError;
use super::fields::FieldValue;
use super::filter::FieldMatch;
use super::object_fields::{FieldIndex, ObjectFields};
use crate::series::{MetricId, Point, Reducer, DISTINCT_VALUE};

/// Which objects an aggregation takes.
#[derive(Debug, Clone, PartialEq)]
pub enum AggregationFilter {
    /// A CEL boolean over the fields and `object`.
    Cel(CelExpr),
    /// `{field, operator, value}`.
    Field(FieldMatch),
}

/// One compiled aggregation.
#[derive(Debug, Clone, PartialEq)]
pub struct CompiledAggregation {
    pub id: MetricId,
    /// The full OpenTelemetry name.
    pub name: String,
    pub function: Reducer,
    /// `None` only for `count` without a field.
    pub field: Option<FieldIndex>,
    /// Attribute name (the field's name) and field, in order.
    pub group_by: Vec<(Key, FieldIndex)>,
    pub filter: Option<AggregationFilter>,
}

/// The input points of `object` (whose fields are `fields`) for `aggregations`; a filter that
/// fails to evaluate leaves the object out of that aggregation, with an error.
pub fn aggregation_inputs(
    aggregations: &[CompiledAggregation],
    fields: &mut ObjectFields<'_>,
    points: &mut Vec<Point>,
    errors: &mut Vec<ExtractError>,
) {
    for aggregation in aggregations {
        match passes(aggregation, fields) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(reason) => {
                errors.push(ExtractError { metric: aggregation.name.clone(), reason });
                continue;
            }
        }
        if let Some(point) = input(aggregation, fields) {
            points.push(point);
        }
    }
}

fn passes(aggregation: &CompiledAggregation, fields: &mut ObjectFields<'_>) -> Result<bool, String> {
    match &aggregation.filter {
        None => Ok(true),
        Some(AggregationFilter::Field(test)) => Ok(test.passes(fields.get(test.field))),
        Some(AggregationFilter::Cel(expression)) => match fields.run(expression) {
            Ok(Some(FieldValue::Bool(pass))) => Ok(pass),
            Ok(Some(other)) => Err(format!("filter yields {other}, not a boolean")),
            Ok(None) => Err("filter yields null, not a boolean".to_owned()),
            Err(e) => Err(format!("filter: {e}")),
        },
    }
}

/// The object's point: `None` when it lacks the field or a groupBy value.
fn input(aggregation: &CompiledAggregation, fields: &ObjectFields<'_>) -> Option<Point> {
    let mut attributes = Vec::with_capacity(aggregation.group_by.len() + 1);
    for (key, field) in &aggregation.group_by {
        attributes.push(KeyValue::new(key.clone(), fields.get(*field)?.to_string()));
    }
    let value = aggregation.field.map(|f| fields.get(f));
    let value = match (aggregation.function, value) {
        (_, Some(None)) => return None,
        (Reducer::Count, _) => 1.0,
        (Reducer::Distinct, Some(Some(value))) => {
            attributes.push(KeyValue::new(DISTINCT_VALUE, value.to_string()));
            1.0
        }
        (_, Some(Some(value))) => value.as_number()?,
        (_, None) => return None,
    };
    Some(Point::new(aggregation.id, attributes, value))
}
