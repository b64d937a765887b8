//! JSON schemas of the config types whose serde form no derive describes (ordered maps,
//! durations, untagged unions), written so the CRD schema stays structural: a union of types
//! Kubernetes cannot express is a node that keeps whatever it is given, checked by the agent.

use std::borrow::Cow;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};

use crate::collectors::crds::config::LabelPaths;
use crate::collectors::crds::config_fields::{FilterConfig, GroupByConfig};
use crate::config_parts::Duration;

/// Any JSON value: a field's `default`, a filter's `value`.
pub fn any_value(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"x-kubernetes-preserve-unknown-fields": true})
}

/// `impl JsonSchema` with an inlined, fixed schema.
macro_rules! fixed_schema {
    ($type:ty, $name:literal, $schema:tt) => {
        impl JsonSchema for $type {
            fn inline_schema() -> bool {
                true
            }

            fn schema_name() -> Cow<'static, str> {
                $name.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

fixed_schema!(LabelPaths, "LabelPaths", {"type": "object", "additionalProperties": {"type": "string"}});
fixed_schema!(Duration, "Duration", {"type": "string"});
// A CEL expression (string) or `{field, operator, value}` (map).
fixed_schema!(FilterConfig, "FilterConfig", {"x-kubernetes-preserve-unknown-fields": true});
// A field name (string) or a list of them.
fixed_schema!(GroupByConfig, "GroupByConfig", {"x-kubernetes-preserve-unknown-fields": true});
