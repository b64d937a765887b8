//! The typed and computed fields of one object, evaluated once per extraction and dropped after
//! (only the values metrics and aggregations need are kept, as points).

use std::sync::Arc;

use kube_cel::cel::Value as CelValue;
use serde_json::Value;

use super::cel::{evaluate, object_value, Activation, CelEnv, CelExpr};
use super::fields::{convert, FieldType, FieldValue};
use super::path::Path;

/// A declared field.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclaredField {
    pub name: String,
    pub path: Path,
    pub ty: FieldType,
    /// Already converted to `ty`.
    pub default: Option<FieldValue>,
}

/// A computed field.
#[derive(Debug, Clone, PartialEq)]
pub struct ComputedField {
    pub name: String,
    pub expression: CelExpr,
}

/// Index of a field: declared fields first, then computed ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldIndex(pub usize);

/// The compiled `fields` and `computed` of a resource.
#[derive(Debug, Clone, Default)]
pub struct FieldPlan {
    pub declared: Vec<DeclaredField>,
    pub computed: Vec<ComputedField>,
    /// Present when the resource uses CEL (computed fields or filters).
    pub cel: Option<Arc<CelEnv>>,
    pub cost_limit: u64,
}

/// Plans are equal when their fields are; the CEL environment is the same for all.
impl PartialEq for FieldPlan {
    fn eq(&self, other: &Self) -> bool {
        self.declared == other.declared
            && self.computed == other.computed
            && self.cost_limit == other.cost_limit
    }
}

impl FieldPlan {
    /// Every field name, declared then computed, in index order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.declared.iter().map(|f| f.name.as_str()).chain(self.computed.iter().map(|c| c.name.as_str()))
    }

    /// The index of the field called `name`.
    pub fn index(&self, name: &str) -> Option<FieldIndex> {
        self.names().position(|n| n == name).map(FieldIndex)
    }

    /// Whether any field or expression is declared.
    pub fn is_empty(&self) -> bool {
        self.declared.is_empty() && self.computed.is_empty()
    }

    /// The fields of `object`; conversion and expression errors go to `errors`.
    pub fn evaluate<'o>(&'o self, object: &'o Value, errors: &mut Vec<String>) -> ObjectFields<'o> {
        let mut fields = ObjectFields { plan: self, object, values: Vec::new(), cel_object: None };
        if self.is_empty() {
            return fields;
        }
        for field in &self.declared {
            let value = convert(field.path.get(object), field.ty).unwrap_or_else(|e| {
                errors.push(format!("field {} (path {}): {e}", field.name, field.path));
                None
            });
            fields.values.push(value.or_else(|| field.default.clone()));
        }
        for computed in &self.computed {
            let value =
                fields.run(&computed.expression).and_then(|v| v.ok_or_else(|| "yields null".to_owned()));
            let value = value.map_err(|e| errors.push(format!("computed field {}: {e}", computed.name))).ok();
            fields.values.push(value);
        }
        fields
    }
}

/// One object's field values, and the object for filters that read it.
pub struct ObjectFields<'o> {
    plan: &'o FieldPlan,
    object: &'o Value,
    /// By [`FieldIndex`]; `None` is null.
    values: Vec<Option<FieldValue>>,
    /// The object converted for CEL, on first use, with its number of values.
    cel_object: Option<(CelValue, u64)>,
}

impl ObjectFields<'_> {
    /// The value of field `index` (`None` when null or not evaluated).
    pub fn get(&self, index: FieldIndex) -> Option<&FieldValue> {
        self.values.get(index.0).and_then(Option::as_ref)
    }

    /// Runs `expression` over the fields evaluated so far and the object: `Ok(None)` when it
    /// yields null.
    pub fn run(&mut self, expression: &CelExpr) -> Result<Option<FieldValue>, String> {
        let Some(env) = self.plan.cel.as_deref() else { return Err("no CEL environment".to_owned()) };
        if expression.uses_object() && self.cel_object.is_none() {
            self.cel_object = Some((object_value(self.object)?, value_count(self.object)));
        }
        let (object, object_size) = match &self.cel_object {
            Some((value, size)) if expression.uses_object() => (Some(value), *size),
            _ => (None, 0),
        };
        let variables = self.plan.names().zip(&self.values).map(|(n, v)| (n, v.as_ref())).collect();
        let input = Activation { variables, object, object_size };
        evaluate(env, expression, &input, self.plan.cost_limit)
    }
}

/// The number of values in `value`, nested ones included.
fn value_count(value: &Value) -> u64 {
    match value {
        Value::Array(list) => 1 + list.iter().map(value_count).sum::<u64>(),
        Value::Object(map) => 1 + map.values().map(value_count).sum::<u64>(),
        _ => 1,
    }
}
