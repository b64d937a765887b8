//! The configuration file: model, loading, environment overrides and validation.

mod duration;
mod issues;

pub use duration::Duration;
pub use issues::{index, join, ConfigIssue, ConfigIssues};
