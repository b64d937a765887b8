//! The configuration file's top-level sections (SPEC §3). Collector sections live with their
//! collectors; `collectors.rs` gathers them.

use serde::{Deserialize, Serialize};

use super::export::ExportConfig;
use super::sharding::ShardingConfig;
use super::Duration;
use crate::collectors::CollectorsConfig;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// The cluster this agent watches.
    #[serde(default)]
    pub cluster: ClusterConfig,
    /// How to reach the Kubernetes API server.
    #[serde(default)]
    pub kubernetes: KubernetesConfig,
    /// Where and how metrics are exported.
    #[serde(default)]
    pub export: ExportConfig,
    /// The health endpoints.
    #[serde(default)]
    pub server: ServerConfig,
    /// The agent's own logs.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// Leader election between replicas (a `coordination.k8s.io/v1` Lease).
    #[serde(default)]
    pub leader_election: LeaderElectionConfig,
    /// The collectors and their settings.
    #[serde(default)]
    pub collectors: CollectorsConfig,
    /// Which share of the custom resources this replica collects (none: all of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sharding: Option<ShardingConfig>,
}

/// Identity of the watched cluster.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterConfig {
    /// Resource attribute `k8s.cluster.name`; `k8s.cluster.uid` is looked up from the
    /// `kube-system` namespace.
    #[serde(default)]
    pub name: String,
}

/// Kubernetes client settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KubernetesConfig {
    /// Path to a kubeconfig file. Empty: in-cluster service account, then `$KUBECONFIG`, then
    /// `~/.kube/config`.
    #[serde(default)]
    pub kubeconfig: String,
    /// Sustained requests per second to the API server.
    #[serde(default = "default_qps")]
    pub qps: f64,
    /// Requests allowed in a burst above `qps`.
    #[serde(default = "default_burst")]
    pub burst: u32,
}

fn default_qps() -> f64 {
    50.0
}

fn default_burst() -> u32 {
    100
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        KubernetesConfig { kubeconfig: String::new(), qps: default_qps(), burst: default_burst() }
    }
}

/// The HTTP server for health checks.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerConfig {
    /// Address for `GET /healthz` and `GET /readyz`.
    #[serde(default = "default_server_listen")]
    pub listen: String,
}

fn default_server_listen() -> String {
    "0.0.0.0:8080".into()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { listen: default_server_listen() }
    }
}

/// Log output.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoggingConfig {
    /// Minimum level (`error`, `warn`, `info`, `debug`, `trace`) or a `tracing` filter
    /// directive such as `info,kube=warn`. `RUST_LOG` overrides it.
    #[serde(default = "default_log_level")]
    pub level: String,
    /// `json` (one object per line) or `text`.
    #[serde(default)]
    pub format: LogFormat,
}

fn default_log_level() -> String {
    "info".into()
}

impl Default for LoggingConfig {
    fn default() -> Self {
        LoggingConfig { level: default_log_level(), format: LogFormat::default() }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Text,
}

/// Leader election settings (SPEC §8).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LeaderElectionConfig {
    /// Whether replicas elect a leader. When false, every replica runs every collector.
    #[serde(default = "crate::config_parts::default_true")]
    pub enabled: bool,
    /// Namespace of the Lease; empty: the pod's namespace (`POD_NAMESPACE`).
    #[serde(default = "default_lease_namespace")]
    pub namespace: String,
    /// Name of the Lease object.
    #[serde(default = "default_lease_name")]
    pub lease_name: String,
    /// How long a lease is valid without renewal; a standby takes it over after that. The
    /// Lease counts whole seconds (rounded up, at least 2).
    #[serde(default = "default_lease_duration")]
    pub lease_duration: Duration,
    /// How long after its last successful renewal the holder gives up leadership (stops its
    /// leader-only collectors) when it cannot renew; also the deadline of each Lease request.
    #[serde(default = "default_renew_deadline")]
    pub renew_deadline: Duration,
    /// How often the holder renews the lease (rounded up to whole seconds), and the wait
    /// before retrying after a failed Lease request.
    #[serde(default = "default_retry_period")]
    pub retry_period: Duration,
}

fn default_lease_namespace() -> String {
    "monitoring".into()
}

fn default_lease_name() -> String {
    "kube-state-otel".into()
}

fn default_lease_duration() -> Duration {
    Duration::from_secs(15)
}

fn default_renew_deadline() -> Duration {
    Duration::from_secs(10)
}

fn default_retry_period() -> Duration {
    Duration::from_secs(2)
}

impl LeaderElectionConfig {
    /// The Lease's `leaseDurationSeconds`: Leases count whole seconds, so this is
    /// `leaseDuration` rounded up, and at least 2 (one second to renew in, one of grace).
    pub fn lease_seconds(&self) -> u64 {
        whole_seconds(self.lease_duration.get()).max(2)
    }

    /// How often the holder renews, in whole seconds: `retryPeriod` rounded up (the Lease
    /// library schedules renewals in seconds), less than the lease itself.
    pub fn renew_seconds(&self) -> u64 {
        whole_seconds(self.retry_period.get()).clamp(1, self.lease_seconds() - 1)
    }
}

fn whole_seconds(d: std::time::Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Default for LeaderElectionConfig {
    fn default() -> Self {
        LeaderElectionConfig {
            enabled: true,
            namespace: default_lease_namespace(),
            lease_name: default_lease_name(),
            lease_duration: default_lease_duration(),
            renew_deadline: default_renew_deadline(),
            retry_period: default_retry_period(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_timing_counts_whole_seconds() {
        let le = |lease: u64, retry: u64| LeaderElectionConfig {
            lease_duration: Duration::from_millis(lease),
            retry_period: Duration::from_millis(retry),
            ..LeaderElectionConfig::default()
        };
        let defaults = LeaderElectionConfig::default();
        assert_eq!((defaults.lease_seconds(), defaults.renew_seconds()), (15, 2));
        assert_eq!((le(2000, 500).lease_seconds(), le(2000, 500).renew_seconds()), (2, 1));
        assert_eq!((le(2500, 1200).lease_seconds(), le(2500, 1200).renew_seconds()), (3, 2));
        assert_eq!((le(500, 100).lease_seconds(), le(500, 100).renew_seconds()), (2, 1));
    }
}
