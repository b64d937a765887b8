//! Custom resources (SPEC §4): metrics described in YAML, extracted from any CRD's objects.
//!
//! `config` is the section as written, `compile` turns it into `plan` types before any I/O,
//! and `extract` is the pure per-object step the watch loop and `render` share.

mod access_discovery;
mod aggregate;
#[cfg(test)]
mod aggregate_tests;
mod cel;
mod collector;
mod compile;
mod compile_aggregations;
mod compile_fields;
mod compile_metric;
#[cfg(test)]
mod compile_tests;
mod config;
mod config_fields;
mod config_select;
mod discovery_plan;
mod discovery_scan;
mod discovery_types;
#[cfg(test)]
mod discovery_types_tests;
mod extract;
#[cfg(test)]
mod extract_tests;
mod fields;
#[cfg(test)]
mod fields_tests;
mod filter;
mod guards;
mod identity;
mod keep;
#[cfg(test)]
mod keep_tests;
mod ksm;
mod names;
mod namespace_gate;
mod namespace_watch;
mod namespaces;
mod needed;
#[cfg(test)]
mod needed_tests;
mod object_fields;
mod path;
#[cfg(test)]
mod path_value_properties;
mod plan;
mod preview;
mod reads;
mod render_discovery;
mod seam;
mod selection;
mod selectors;
pub mod sources;
mod value;
mod watch;
mod watch_discovery;
mod watch_events;
#[cfg(test)]
mod watch_events_tests;
mod watch_limits;
mod watch_select;
mod watch_wildcard;
mod watched;

pub use compile::compile_crds;
pub use config::CrdsConfig;
pub use discovery_types::{GROUP_ATTRIBUTE, KIND_ATTRIBUTE};
pub use extract::{extract, Extracted};
pub use needed::Needed;
pub use path::Path;
pub use plan::CompiledResource;
pub(crate) use seam::plan;
pub use sources::crds_yaml as metric_source_crds_yaml;
pub use value::to_number;
pub use watch_events::into_value;
pub use watched::{decode_watched, WatchedObject};
