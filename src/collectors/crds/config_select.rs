//! The keys of a resource entry that choose many API types (`select`) and namespaces by their
//! labels (`namespaceSelector`). These doc comments are the reference documentation.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::config_parts::Duration;

/// Many API types in one entry: every served type whose group and kind match, each watched on
/// its own with its own series table. Give `select`, `gvr` or `gvk`, only one.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectConfig {
    /// API groups: exact names or globs (`*.fluxcd.io`, `cert-manager.io`); `""` is the core
    /// group. Required, at least one.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Kinds: exact names or globs (`*`, `*Repository`). Default: every kind (`["*"]`).
    #[serde(default = "every_kind")]
    pub kinds: Vec<String>,
    /// API version: `*` for the preferred version of each group, or an exact version (`v1`);
    /// groups that do not serve it are left out. Default: `*`.
    #[serde(default = "preferred_version")]
    pub version: String,
    /// Types left out: each entry's `group` and `kind` (names or globs, both default `*`) must
    /// both match.
    #[serde(default)]
    pub exclude: Vec<ExcludeConfig>,
    /// Most types the entry may watch; the rest (by group, then kind) are left out and
    /// reported in the log and `/readyz`. Default: 100.
    #[serde(default = "default_max_types")]
    pub max_types: usize,
    /// How often the API server's discovery is read again: a type installed later is watched,
    /// a removed one stops and loses its series, within this period. Default: `30s`.
    #[serde(default = "default_discovery_period")]
    pub discovery_period: Duration,
}

/// One excluded group and kind pair.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExcludeConfig {
    /// API group, name or glob. Default: `*`.
    #[serde(default = "any")]
    pub group: String,
    /// Kind, name or glob. Default: `*`.
    #[serde(default = "any")]
    pub kind: String,
}

fn any() -> String {
    "*".to_owned()
}

fn every_kind() -> Vec<String> {
    vec![any()]
}

fn preferred_version() -> String {
    any()
}

/// The default of `select.maxTypes`.
pub const DEFAULT_MAX_TYPES: usize = 100;

fn default_max_types() -> usize {
    DEFAULT_MAX_TYPES
}

fn default_discovery_period() -> Duration {
    Duration::from_secs(30)
}
