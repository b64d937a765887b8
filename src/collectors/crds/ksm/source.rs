//! `collectors.crds.kubeStateMetrics`: where the kube-state-metrics document comes from.

use serde::{Deserialize, Serialize};

use crate::collectors::crds::config::{
    default_max_series, default_max_series_per_object, default_resync_period,
};
use crate::config_parts::Duration;

/// A kube-state-metrics `kind: CustomResourceStateMetrics` document, run unchanged beside the
/// native `resources` (SPEC §4.3). Give `configFile` or `config`, not both.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KsmSource {
    /// Path of the document (what kube-state-metrics' `--custom-resource-state-config-file`
    /// names), relative to the agent's working directory. Watched like the config file: a
    /// change is applied without restart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<String>,
    /// The document itself (what the Helm chart's `customResourceState.config` holds), or its
    /// text (what `--custom-resource-state-config` takes, e.g. a `|` block). Keys
    /// kube-state-metrics does not know are ignored, as kube-state-metrics ignores them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// Most series one object may give per resource of the document; the rest are dropped and
    /// counted. Default: 1000.
    #[serde(default = "default_max_series_per_object")]
    pub max_series_per_object: usize,
    /// Most series one resource of the document may hold across its objects. Default: 100000.
    #[serde(default = "default_max_series")]
    pub max_series: usize,
    /// How often each resource of the document is listed afresh. Default: `10m`.
    #[serde(default = "default_resync_period")]
    pub resync_period: Duration,
}

impl KsmSource {
    /// The file to watch for changes, when the document is one.
    pub fn file(&self) -> Option<&str> {
        self.config_file.as_deref()
    }
}
