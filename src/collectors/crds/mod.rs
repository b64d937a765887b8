//! Custom resources (SPEC §4): metrics described in YAML, extracted from any CRD's objects.
//!
//! `config` is the section as written, `compile` turns it into `plan` types before any I/O,
//! and `extract` is the pure per-object step the watch loop and `render` share.

mod collector;
mod compile;
mod compile_metric;
#[cfg(test)]
mod compile_tests;
mod config;
mod extract;
#[cfg(test)]
mod extract_tests;
mod names;
mod path;
mod plan;
mod value;
mod watch;
mod watch_discovery;
mod watch_events;
#[cfg(test)]
mod watch_events_tests;
mod watch_limits;

pub use collector::run;
pub use compile::{compile, compile_crds, CRDS_CONFIG_PATH};
pub use compile_metric::METRIC_TYPES;
pub use config::{CrdsConfig, GvrConfig, LabelPaths, MetricConfig, ResourceConfig};
pub use extract::{extract, ExtractError, Extracted};
pub use names::{metric_name, name_prefix, validate_instrument_name, validate_unit};
pub use path::Path;
pub use plan::{CompiledMetric, CompiledResource, LabelPath, MetricKind};
pub use value::{attribute_text, describe, parse_quantity, scalar_text, to_number};
pub use watch_events::into_value;
pub use watch_limits::{LogLimiter, DISCOVERY};
