//! What `check` and `rbac` say about metric sources.

use super::config::MetricSourcesConfig;
use super::kinds::{SourceKind, GROUP};
use crate::collectors::plan::{ReadAccess, StatusAccess};

/// `check`'s line.
pub fn summary(settings: &MetricSourcesConfig, election: &str) -> String {
    let namespaces = match settings.namespaces.is_empty() {
        true => "all namespaces".to_owned(),
        false => format!("namespaces {}", settings.namespaces.join(", ")),
    };
    format!(
        "crds/metricSources (MetricSources in {namespaces}, ClusterMetricSources; {election}): \
         at most {} objects per source",
        settings.max_objects_per_source
    )
}

/// `list`/`watch` on both kinds; what the sources themselves read is not known in advance.
pub fn read_access(settings: &MetricSourcesConfig) -> ReadAccess {
    let scope = match settings.namespaces.is_empty() {
        true => "MetricSources in all namespaces".to_owned(),
        false => format!("MetricSources in {}", settings.namespaces.join(", ")),
    };
    ReadAccess {
        group: GROUP.into(),
        resources: SourceKind::ALL.iter().map(|k| k.plural().to_owned()).collect(),
        note: Some(format!(
            "crds/metricSources: {scope} and ClusterMetricSources; grant list and watch on the \
             resources the sources name as well (a Role per team namespace is enough for MetricSources)"
        )),
    }
}

/// The `status` of both kinds.
pub fn status_access() -> StatusAccess {
    StatusAccess {
        group: GROUP.into(),
        resources: SourceKind::ALL.iter().map(|k| format!("{}/status", k.plural())).collect(),
    }
}
