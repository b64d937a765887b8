//! CEL for computed fields and aggregation filters (SPEC §4.2), through `kube-cel` (the
//! Kubernetes function libraries on the `cel` crate it re-exports).
//!
//! The `cel` crate parses but does not type-check, and has no cost tracking. So:
//! - at load, an expression is parsed (syntax errors with their column) and then evaluated once
//!   against typed zero values of the fields it may use (`""`, `0`, `0.0`, `false`) and an empty
//!   `object`; an undeclared name or an operator or function applied to the wrong types
//!   (`phase + 1` on a string) is a config error. Errors that depend on the data (a missing key
//!   of `object`, a division by zero) and type errors in branches the zero values do not take
//!   are found only at run time.
//! - the cost of one evaluation is estimated before it runs: the expression's length, times
//!   the number of values in `object` for each comprehension macro (`all`, `exists`,
//!   `exists_one`, `map`, `filter`) it contains, which bounds the work of the macros over the
//!   object. An evaluation whose estimate exceeds `celCostLimit` is not run.

use std::fmt;
use std::sync::Arc;

use kube_cel::cel::{Context, ExecutionError, Program, Value as CelValue};
use kube_cel::KubeCelExt;

use super::fields::{FieldType, FieldValue};

/// The name under which expressions see the whole object.
pub const OBJECT: &str = "object";

/// Names a field cannot have: CEL's reserved words, and `object`.
pub const RESERVED: [&str; 22] = [
    "namespace",
    "in",
    "as",
    "break",
    "const",
    "continue",
    "else",
    "for",
    "function",
    "if",
    "import",
    "let",
    "loop",
    "package",
    "return",
    "var",
    "void",
    "while",
    "true",
    "false",
    "null",
    OBJECT,
];

const MACROS: [&str; 5] = [".all(", ".exists(", ".exists_one(", ".map(", ".filter("];

/// The functions expressions may call, built once per compiled config.
pub struct CelEnv {
    root: Context<'static>,
}

impl CelEnv {
    /// The standard CEL functions plus the Kubernetes libraries.
    pub fn new() -> Self {
        CelEnv { root: Context::default().with_all() }
    }
}

impl fmt::Debug for CelEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CelEnv")
    }
}

/// A parsed expression.
#[derive(Clone)]
pub struct CelExpr {
    source: String,
    program: Arc<Program>,
    uses_object: bool,
    macros: u64,
}

impl CelExpr {
    /// Whether the expression reads `object` (which is then converted for it).
    pub fn uses_object(&self) -> bool {
        self.uses_object
    }
}

impl fmt::Debug for CelExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CelExpr({:?})", self.source)
    }
}

/// Two expressions are the same when their text is.
impl PartialEq for CelExpr {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

/// A variable's type as the load-time check sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CelType {
    String,
    Bool,
    Int,
    Double,
    /// A computed field whose zero-value evaluation depended on the data.
    Unknown,
}

impl CelType {
    /// SPEC §4.2: string → string, boolean → bool, integer and arrayLength → int, else double.
    pub fn of(ty: FieldType) -> CelType {
        match ty {
            FieldType::String => CelType::String,
            FieldType::Boolean => CelType::Bool,
            FieldType::Integer | FieldType::ArrayLength => CelType::Int,
            _ => CelType::Double,
        }
    }

    fn zero(self) -> Option<CelValue> {
        match self {
            CelType::String => Some(CelValue::String(Arc::new(String::new()))),
            CelType::Bool => Some(CelValue::Bool(false)),
            CelType::Int => Some(CelValue::Int(0)),
            CelType::Double => Some(CelValue::Float(0.0)),
            CelType::Unknown => None,
        }
    }

    fn of_value(value: &FieldValue) -> CelType {
        match value {
            FieldValue::Text(_) => CelType::String,
            FieldValue::Bool(_) => CelType::Bool,
            FieldValue::Int(_) => CelType::Int,
            FieldValue::Float(_) => CelType::Double,
        }
    }
}

/// Parses `source` and checks it against `variables` (name, type). On success, also the type
/// of its result on the zero values (`Unknown` when that evaluation depended on the data).
pub fn compile(
    env: &CelEnv,
    source: &str,
    variables: &[(&str, CelType)],
) -> Result<(CelExpr, CelType), String> {
    let program = Program::compile(source).map_err(|errors| {
        let Some(first) = errors.errors.first() else { return "invalid CEL expression".to_owned() };
        let (line, column) = first.pos;
        let at = if source.lines().count() > 1 {
            format!("line {line}, column {column}")
        } else {
            format!("column {column}")
        };
        format!("CEL syntax error at {at}: {}", first.msg)
    })?;
    let uses_object = program.references().has_variable(OBJECT);
    let macros = MACROS.iter().map(|m| source.matches(m).count() as u64).sum();
    let expr = CelExpr { source: source.to_owned(), program: Arc::new(program), uses_object, macros };
    let mut ctx = env.root.new_inner_scope();
    ctx.add_variable_from_value(
        OBJECT,
        CelValue::Map(std::collections::HashMap::<String, CelValue>::new().into()),
    );
    for (name, ty) in variables {
        if let Some(zero) = ty.zero() {
            ctx.add_variable_from_value(*name, zero);
        }
    }
    let unknown = |name: &str| variables.iter().any(|(n, t)| *n == name && *t == CelType::Unknown);
    match expr.program.execute(&ctx) {
        // 0.0 / 0.0 on the zero values is not a type error.
        Ok(CelValue::Float(_)) => Ok((expr, CelType::Double)),
        Ok(value) => match to_field_value(value) {
            Ok(Some(v)) => Ok((expr, CelType::of_value(&v))),
            Ok(None) => Ok((expr, CelType::Unknown)),
            Err(e) => Err(e),
        },
        Err(ExecutionError::UndeclaredReference(name)) if !unknown(&name) => Err(format!(
            "undeclared reference to {name:?} (not a field, a computed field before this one, or `object`)"
        )),
        Err(e) if is_type_error(&e) => Err(format!("type error: {e}")),
        Err(_) => Ok((expr, CelType::Unknown)),
    }
}

/// Errors that the zero values cannot cause unless the types are wrong.
fn is_type_error(e: &ExecutionError) -> bool {
    matches!(
        e,
        ExecutionError::NoSuchOverload
            | ExecutionError::UnsupportedBinaryOperator(..)
            | ExecutionError::UnsupportedUnaryOperator(..)
            | ExecutionError::ValuesNotComparable(..)
            | ExecutionError::UnexpectedType { .. }
            | ExecutionError::InvalidArgumentCount { .. }
    )
}

/// The inputs of one evaluation.
pub struct Activation<'a> {
    /// Field name and value (`None`: null).
    pub variables: Vec<(&'a str, Option<&'a FieldValue>)>,
    /// The object, when the expression uses it.
    pub object: Option<&'a CelValue>,
    /// Number of values in the object (for the cost estimate).
    pub object_size: u64,
}

/// Runs `expr`: `Ok(None)` when it yields null, an error when it fails, yields a list or a map,
/// or its estimated cost exceeds `cost_limit`.
pub fn evaluate(
    env: &CelEnv,
    expr: &CelExpr,
    input: &Activation<'_>,
    cost_limit: u64,
) -> Result<Option<FieldValue>, String> {
    let length = expr.source.len() as u64;
    let cost = length.saturating_mul(1 + expr.macros.saturating_mul(input.object_size));
    if cost > cost_limit {
        return Err(format!("estimated cost {cost} exceeds celCostLimit {cost_limit}"));
    }
    let mut ctx = env.root.new_inner_scope();
    for (name, value) in &input.variables {
        ctx.add_variable_from_value(*name, value.map_or(CelValue::Null, to_cel));
    }
    if let Some(object) = input.object {
        ctx.add_variable_from_value(OBJECT, object.clone());
    }
    let value = expr.program.execute(&ctx).map_err(|e| format!("CEL {:?}: {e}", expr.source))?;
    to_field_value(value).map_err(|e| format!("CEL {:?}: {e}", expr.source))
}

/// The object as CEL sees it.
pub fn object_value(object: &serde_json::Value) -> Result<CelValue, String> {
    kube_cel::cel::to_value(object).map_err(|e| format!("cannot give the object to CEL: {e}"))
}

fn to_cel(value: &FieldValue) -> CelValue {
    match value {
        FieldValue::Text(t) => CelValue::String(Arc::new(t.to_string())),
        FieldValue::Int(i) => CelValue::Int(*i),
        FieldValue::Float(f) => CelValue::Float(*f),
        FieldValue::Bool(b) => CelValue::Bool(*b),
    }
}

fn to_field_value(value: CelValue) -> Result<Option<FieldValue>, String> {
    Ok(Some(match value {
        CelValue::Null => return Ok(None),
        CelValue::Int(i) => FieldValue::Int(i),
        CelValue::UInt(u) => i64::try_from(u).map(FieldValue::Int).unwrap_or(FieldValue::Float(u as f64)),
        CelValue::Float(f) if f.is_finite() => FieldValue::Float(f),
        CelValue::Float(f) => return Err(format!("yields {f}, not a finite number")),
        CelValue::String(s) => FieldValue::Text(Arc::from(s.as_str())),
        CelValue::Bool(b) => FieldValue::Bool(b),
        other => return Err(format!("yields a {}, not a string, number or boolean", other.type_of())),
    }))
}
