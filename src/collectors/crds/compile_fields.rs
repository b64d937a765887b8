//! `fields` and `computed` of a resource → its [`FieldPlan`], every problem with its YAML path
//! (and, for CEL, the column within the expression).

use std::sync::Arc;

use super::cel::{compile as compile_cel, CelEnv, CelType, RESERVED};
use super::config::ResourceConfig;
use super::config_fields::FilterConfig;
use super::fields::{convert, FieldType, FIELD_TYPES};
use super::object_fields::{ComputedField, DeclaredField, FieldIndex, FieldPlan};
use super::path::Path;
use crate::config_parts::{index, join, ConfigIssues};

/// The compiled fields and the CEL type of each (by field index), for the filters.
pub(super) struct CompiledFields {
    pub plan: FieldPlan,
    pub types: Vec<CelType>,
}

impl CompiledFields {
    /// Name and CEL type of every field, for compiling an expression that may use all of them.
    pub fn variables(&self) -> Vec<(&str, CelType)> {
        self.plan.names().zip(self.types.iter().copied()).collect()
    }
}

/// Compiles the fields and computed fields of `resource` (at YAML path `at`).
pub(super) fn compile_fields(
    resource: &ResourceConfig,
    at: &str,
    issues: &mut ConfigIssues,
) -> CompiledFields {
    let uses_cel = !resource.computed.is_empty()
        || resource.aggregations.iter().any(|a| matches!(a.filter, Some(FilterConfig::Expression(_))));
    let cel = uses_cel.then(|| Arc::new(CelEnv::new()));
    if resource.cel_cost_limit == 0 {
        issues.push(join(at, "celCostLimit"), "must be at least 1");
    }
    let mut plan =
        FieldPlan { cel: cel.clone(), cost_limit: resource.cel_cost_limit, ..FieldPlan::default() };
    let mut names: Vec<(String, String)> = Vec::new();
    let mut types = Vec::new();
    let list_at = join(at, "fields");
    for (i, field) in resource.fields.iter().enumerate() {
        let field_at = index(&list_at, i);
        check_name(&field.name, &join(&field_at, "name"), &mut names, issues);
        let path = Path::compile(&field.path).map_err(|e| issues.push(join(&field_at, "path"), e)).ok();
        let ty = FieldType::parse(&field.kind);
        if ty.is_none() {
            let expected = FIELD_TYPES.join(", ");
            let message = if field.kind.is_empty() {
                format!("required: the field type, one of {expected}")
            } else {
                format!("unknown field type {:?}; expected one of {expected}", field.kind)
            };
            issues.push(join(&field_at, "type"), message);
        }
        let (Some(path), Some(ty)) = (path, ty) else { continue };
        let default = match &field.default {
            None => None,
            Some(value) => match convert(Some(value), ty) {
                Ok(converted) => converted,
                Err(e) => {
                    issues.push(join(&field_at, "default"), e);
                    None
                }
            },
        };
        types.push(CelType::of(ty));
        plan.declared.push(DeclaredField { name: field.name.clone(), path, ty, default });
    }
    let list_at = join(at, "computed");
    for (i, computed) in resource.computed.iter().enumerate() {
        let computed_at = index(&list_at, i);
        check_name(&computed.name, &join(&computed_at, "name"), &mut names, issues);
        let expression_at = join(&computed_at, "expression");
        if computed.expression.trim().is_empty() {
            issues.push(expression_at, "required: a CEL expression");
            continue;
        }
        let Some(env) = cel.as_deref() else { continue };
        let variables: Vec<(&str, CelType)> = plan.names().zip(types.iter().copied()).collect();
        match compile_cel(env, &computed.expression, &variables) {
            Ok((expression, ty)) => {
                types.push(ty);
                plan.computed.push(ComputedField { name: computed.name.clone(), expression });
            }
            Err(e) => issues.push(expression_at, e),
        }
    }
    CompiledFields { plan, types }
}

/// The index of the field (or computed field) `name`, else an error at `at` listing the known ones.
pub(super) fn resolve_field(
    plan: &FieldPlan,
    name: &str,
    at: &str,
    issues: &mut ConfigIssues,
) -> Option<FieldIndex> {
    let found = plan.index(name);
    if found.is_none() {
        let known: Vec<&str> = plan.names().collect();
        let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
        issues.push(at, format!("unknown field {name:?}; declared and computed fields: {known}"));
    }
    found
}

/// A field name must be a CEL identifier, not reserved, and unique.
fn check_name(name: &str, at: &str, seen: &mut Vec<(String, String)>, issues: &mut ConfigIssues) {
    let identifier = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        issues.push(at, "required: the field's name");
    } else if RESERVED.contains(&name) {
        issues.push(
            at,
            format!("{name:?} is a reserved word in CEL (or the name of the object); choose another name"),
        );
    } else if !identifier {
        issues.push(
            at,
            format!("{name:?} is not a CEL identifier (letters, digits and _, not starting with a digit)"),
        );
    } else if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
        issues.push(at, format!("duplicate field name {name:?} (also {first})"));
    } else {
        seen.push((name.to_owned(), at.to_owned()));
    }
}
