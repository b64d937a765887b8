//! `collectors.crds.metricSources` (SPEC §4.4). These doc comments are the reference
//! documentation.

use serde::{Deserialize, Serialize};

use crate::collectors::shared::k8s_names;
use crate::config_parts::{index, join, ConfigIssues};

/// Teams' own metric definitions: `MetricSource` and `ClusterMetricSource` objects.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricSourcesConfig {
    /// Whether the agent watches MetricSources and ClusterMetricSources and runs each valid one
    /// like an entry of `resources`. Default: false.
    #[serde(default)]
    pub enabled: bool,
    /// Namespaces whose MetricSources are read (exact names); empty: all. ClusterMetricSources
    /// are always read.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// Most objects one source may hold points for; the points of further objects are dropped
    /// and counted in `kube_state_otel.series.dropped`. Default: 10000.
    #[serde(default = "default_max_objects_per_source")]
    pub max_objects_per_source: usize,
}

impl Default for MetricSourcesConfig {
    fn default() -> Self {
        MetricSourcesConfig {
            enabled: false,
            namespaces: Vec::new(),
            max_objects_per_source: default_max_objects_per_source(),
        }
    }
}

fn default_max_objects_per_source() -> usize {
    10_000
}

impl MetricSourcesConfig {
    /// Checks the section found at `at`.
    pub fn check(&self, at: &str, issues: &mut ConfigIssues) {
        for (i, namespace) in self.namespaces.iter().enumerate() {
            if let Err(e) = k8s_names::dns_label(namespace, "a namespace name") {
                issues.push(index(&join(at, "namespaces"), i), e);
            }
        }
        if self.max_objects_per_source == 0 {
            issues.push(join(at, "maxObjectsPerSource"), "must be at least 1");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let config: MetricSourcesConfig = serde_saphyr::from_str("enabled: true").unwrap();
        assert_eq!(config.max_objects_per_source, 10_000);
        assert!(config.namespaces.is_empty());
        let bad: MetricSourcesConfig =
            serde_saphyr::from_str("namespaces: [team-a, Team_B]\nmaxObjectsPerSource: 0").unwrap();
        let mut issues = ConfigIssues::new();
        bad.check("m", &mut issues);
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["m.namespaces[1]", "m.maxObjectsPerSource"]);
        assert!(serde_saphyr::from_str::<MetricSourcesConfig>("enable: true").is_err());
    }
}
