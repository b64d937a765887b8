//! The `fields`, `computed` and `aggregations` of a resource (SPEC §4.2). These doc comments are
//! the reference documentation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Default of `celCostLimit`.
pub const DEFAULT_CEL_COST_LIMIT: u64 = 1_000_000;

/// One typed field, read from each object.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldConfig {
    /// The field's name: a CEL variable in `computed` and `filter`, and what `field:` refers to.
    /// Not a CEL reserved word (`namespace`, `in`, `if`, ...) nor `object`; unique among the
    /// resource's fields and computed fields. Required.
    #[serde(default)]
    pub name: String,
    /// Where the value is, as in metrics. Required.
    #[serde(default)]
    pub path: String,
    /// `string`, `integer`, `float`, `boolean`, `quantity` (`5Gi` → 5368709120), `timestamp`
    /// (RFC 3339 → Unix seconds), `duration` (`1h30m`, `90s` → seconds) or `arrayLength` (length of
    /// a list or map). Required.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The value when the field is missing or does not convert (it must convert itself).
    /// Default: none (the field is null).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(schema_with = "crate::collectors::crds::sources::any_value")]
    pub default: Option<Value>,
}

/// One computed field: a CEL expression over the fields (by name) and `object`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ComputedConfig {
    /// The computed field's name; same rules as a field's. Required.
    #[serde(default)]
    pub name: String,
    /// The CEL expression; it may use the fields, the computed fields before it and `object`.
    /// A failure or a null result leaves the field absent for that object. Required.
    #[serde(default)]
    pub expression: String,
}

/// One aggregation over the objects of the resource: a gauge with one point per group.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AggregationConfig {
    /// Last part of the metric name (`-` becomes `_`); not the name of a metric of the same
    /// resource. Required.
    #[serde(default)]
    pub name: String,
    /// The OpenTelemetry description.
    #[serde(default)]
    pub help: String,
    /// The OpenTelemetry unit.
    #[serde(default)]
    pub unit: String,
    /// `count`, `sum`, `avg`, `min`, `max`, `median`, `percentile` or `distinct`. Required.
    #[serde(default)]
    pub function: String,
    /// The field (or computed field) aggregated; objects without a value for it are left out.
    /// Required by every function but `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `percentile`: 0 to 100 (linear interpolation between the closest ranks). Required there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    /// Which objects count: a CEL boolean over the fields and `object`, or
    /// `{field, operator, value}`. Default: every object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterConfig>,
    /// A field name or a list of them: one point per distinct combination, each an attribute.
    /// Default: one point for all objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<GroupByConfig>,
}

/// An aggregation's filter.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FilterConfig {
    /// A CEL expression yielding a boolean.
    Expression(String),
    /// A comparison of one field.
    Match(FieldMatchConfig),
}

/// `{field, operator, value}`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldMatchConfig {
    /// The field (or computed field) compared; an object without it does not pass. Required.
    #[serde(default)]
    pub field: String,
    /// `equals`, `notEquals`, `contains`, `startsWith`, `endsWith`, `greaterThan`, `lessThan`,
    /// `in` (value is a list) or `matches` (a regular expression found anywhere in the value).
    /// Values compare as numbers when both sides are numbers, else as text. Required.
    #[serde(default)]
    pub operator: String,
    /// What the field is compared with. Required.
    #[serde(default)]
    #[schemars(schema_with = "crate::collectors::crds::sources::any_value")]
    pub value: Value,
}

/// One groupBy field or several.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum GroupByConfig {
    /// One field.
    One(String),
    /// Several fields, in attribute order.
    Many(Vec<String>),
}

impl GroupByConfig {
    /// The field names, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            GroupByConfig::One(name) => vec![name.as_str()],
            GroupByConfig::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}
