//! A Pod as the collector receives it: reduced on arrival to its [`PodFacts`].
//!
//! A full k8s-openapi `Pod` builds every member of every pod (container images, ports, env,
//! probes, volumes, status of each container, managed fields…) only to keep a node name, a phase
//! and four sums. Here only the members [`super::pod_parts`] names are decoded, and they are
//! reduced at once, so the pod the collector holds (or a watch event carries) is a few blocks
//! instead of every container's resource lists.
//!
//! Kept: `metadata.uid` (the pod's key) and `metadata.resourceVersion` (the watch resumes from
//! it), and the facts reduced from `spec.nodeName`, `spec.overhead`, the `cpu` and `memory`
//! requests and limits of `spec.containers` and `spec.initContainers`, each init container's
//! `restartPolicy`, and `status.phase`.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer};

use super::decode::{map_only, Parts};
use super::pod::PodFacts;
use super::pod_parts::{PodSpec, PodStatus};
use super::resource::resource_as;

/// A listed or watched pod.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchedPod {
    /// Only `uid` and `resourceVersion` are set.
    pub metadata: ObjectMeta,
    pub facts: PodFacts,
}

resource_as!(WatchedPod, Pod);

impl WatchedPod {
    /// The pod with `metadata` whose decoded members are `spec` and `status`.
    pub fn from_parts(metadata: ObjectMeta, spec: Option<&PodSpec>, status: Option<&PodStatus>) -> Self {
        WatchedPod { metadata, facts: PodFacts::of(spec, status) }
    }
}

/// The pod's uid and facts; `None` for a pod without uid.
pub fn reduce_pod(pod: &WatchedPod) -> Option<(String, PodFacts)> {
    Some((pod.metadata.uid.clone()?, pod.facts.clone()))
}

/// What is decoded of `metadata`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodMeta {
    uid: Option<String>,
    resource_version: Option<String>,
}

impl From<PodMeta> for ObjectMeta {
    fn from(m: PodMeta) -> ObjectMeta {
        ObjectMeta { uid: m.uid, resource_version: m.resource_version, ..ObjectMeta::default() }
    }
}

impl<'de> Deserialize<'de> for WatchedPod {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Parts::<PodMeta, PodSpec, PodStatus> { metadata, spec, status } = map_only(deserializer)?;
        let metadata = metadata.map(ObjectMeta::from).unwrap_or_default();
        Ok(WatchedPod::from_parts(metadata, spec.as_ref(), status.as_ref()))
    }
}
