//! What every config section is built from, the agent's own sections and each collector's
//! alike: durations written as `30s`, secrets named by file or variable, YAML paths (`collectors.crds.resources[2].name`), and the
//! issues found at them, collected rather than returned one at a time.

mod duration;
mod issues;
mod secret;
mod structural;

pub use duration::Duration;
pub use issues::{index, join, ConfigIssue, ConfigIssues};
pub use secret::{Secret, SecretError, SecretSource};
pub use structural::deserialize_collecting;

/// The default of switches that are on unless turned off (`#[serde(default = ...)]`).
pub fn default_true() -> bool {
    true
}
