//! kube-state-metrics compatibility (SPEC §4.3): a `kind: CustomResourceStateMetrics` document
//! compiled into the crds engine's own resources, with kube-state-metrics' paths, value
//! conversion, label rules and metric names. See docs/kube-state-metrics.md.
//!
//! `source` is the config key, `document` the document as kube-state-metrics reads it, `load`
//! reads it, `compile` checks it into `resource` templates of `family` rules (`gauge`,
//! `state_set`, `info`) over `path`, `labels` and `values`; `wildcard` makes templates with `*`
//! concrete.

mod compile;
mod document;
mod family;
#[cfg(test)]
mod family_tests;
mod gauge;
mod info;
mod labels;
mod load;
mod path;
mod resource;
mod source;
mod state_set;
mod values;
mod wildcard;

use std::sync::Arc;

use serde_json::Value;

pub use family::KsmFamily;
pub use resource::KsmResource;
pub use source::KsmSource;
pub use wildcard::{from_discovery, from_objects};

use super::plan::CompiledResource;
use crate::config_parts::{join, ConfigIssues};

/// The document compiled: resources with a concrete group, version and kind, and templates
/// with `*` to resolve when the objects are known.
#[derive(Debug, Clone, Default)]
pub struct KsmPlan {
    pub resources: Vec<CompiledResource>,
    pub wildcards: Vec<Arc<KsmResource>>,
    /// The document as read (from the file too), so a reload that changes only the file is
    /// seen as a change of the section.
    pub document: Option<Value>,
}

/// Compiles `source`, found at YAML path `at`; problems go to `issues`.
pub fn compile(source: &KsmSource, at: &str, issues: &mut ConfigIssues) -> KsmPlan {
    for (key, value) in
        [("maxSeriesPerObject", source.max_series_per_object), ("maxSeries", source.max_series)]
    {
        if value == 0 {
            issues.push(join(at, key), "must be at least 1");
        }
    }
    let Some((origin, value)) = load::load(source, at, issues) else { return KsmPlan::default() };
    let mut plan = KsmPlan { document: Some(value.clone()), ..KsmPlan::default() };
    let Some(document) = load::parse(&origin, &value, issues) else { return plan };
    for resource in compile::compile_document(&document, source, &origin, issues) {
        if resource.is_wildcard() {
            plan.wildcards.push(Arc::new(resource));
        } else {
            plan.resources.push(resource.instance(&resource.gvk.version, &resource.gvk.kind, None));
        }
    }
    plan
}
