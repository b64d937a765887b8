//! Metric definitions as custom resources (SPEC §4.4): teams describe their own CRDs' metrics
//! in `MetricSource` objects (their namespace only) and admins in `ClusterMetricSource`
//! objects. Each is one `collectors.crds.resources` entry, compiled with the same checks
//! (`spec`), decided over all sources at once (`reconcile`: conflicts, keeping the previous
//! version), run like a configured resource (`runtime`), reported in its status (`status`),
//! rendered offline (`render`), and described by generated CRDs (`crd`).

mod access;
mod config;
mod crd;
mod kinds;
mod reconcile;
mod render;
mod running;
mod runtime;
mod schema;
mod spec;
#[cfg(test)]
mod spec_properties;
mod status;
mod status_writer;

/// The type of a source's `spec` (for the CRD and its tests).
pub use crate::collectors::crds::config::ResourceConfig;
pub use access::{read_access, status_access, summary};
pub use config::MetricSourcesConfig;
pub use crd::crds_yaml;
pub use kinds::{SourceKind, GROUP};
pub(crate) use render::render_sources;
pub(crate) use runtime::run_sources;
pub use schema::any_value;
