//! The two kinds of metric source and how objects of them are named.

use std::fmt;

use kube::core::ApiResource;
use serde_json::Value;

/// API group of both kinds.
pub const GROUP: &str = "kube-state-otel.io";
/// Their one version.
pub const VERSION: &str = "v1alpha1";

/// `MetricSource` (namespaced, reads its own namespace) or `ClusterMetricSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SourceKind {
    Namespaced,
    Cluster,
}

impl SourceKind {
    pub const ALL: [SourceKind; 2] = [SourceKind::Namespaced, SourceKind::Cluster];

    pub fn kind(self) -> &'static str {
        match self {
            SourceKind::Namespaced => "MetricSource",
            SourceKind::Cluster => "ClusterMetricSource",
        }
    }

    pub fn plural(self) -> &'static str {
        match self {
            SourceKind::Namespaced => "metricsources",
            SourceKind::Cluster => "clustermetricsources",
        }
    }

    pub fn api_resource(self) -> ApiResource {
        ApiResource {
            group: GROUP.into(),
            version: VERSION.into(),
            api_version: format!("{GROUP}/{VERSION}"),
            kind: self.kind().into(),
            plural: self.plural().into(),
        }
    }

    /// The kind of an object read from a file or the API, if it is a metric source.
    pub fn of(object: &Value) -> Option<SourceKind> {
        let api_version = object.get("apiVersion").and_then(Value::as_str)?;
        let group = api_version.split_once('/').map(|(g, _)| g)?;
        let kind = object.get("kind").and_then(Value::as_str)?;
        (group == GROUP).then_some(())?;
        SourceKind::ALL.into_iter().find(|k| k.kind() == kind)
    }
}

/// One source object: its kind, namespace (MetricSource only) and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceRef {
    pub kind: SourceKind,
    pub namespace: Option<String>,
    pub name: String,
}

impl SourceRef {
    pub fn of(kind: SourceKind, object: &Value) -> SourceRef {
        let text = |p: &str| object.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let namespace = match kind {
            SourceKind::Namespaced => Some(text("/metadata/namespace").unwrap_or_default()),
            SourceKind::Cluster => None,
        };
        SourceRef { kind, namespace, name: text("/metadata/name").unwrap_or_default() }
    }
}

/// `MetricSource/<namespace>/<name>` or `ClusterMetricSource/<name>`: the source's name in
/// logs, its series table (`crds/<this>`) and render's warnings.
impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{}/{namespace}/{}", self.kind.kind(), self.name),
            None => write!(f, "{}/{}", self.kind.kind(), self.name),
        }
    }
}
