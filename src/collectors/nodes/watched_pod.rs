//! A Pod as the collector decodes it: only what `reduce_pod` and the watch read.
//!
//! A full k8s-openapi `Pod` builds every member of every pod (container images, ports, env,
//! probes, volumes, status of each container, managed fields…) only to keep a node name, a phase
//! and four sums. Here each member nothing reads is skipped by the parser without being built;
//! what is read decodes as the typed `Pod` decodes it (see [`super::decode`]), so a wrong type
//! there is still an error that drops the event, while an odd member nobody reads no longer is.
//!
//! Kept: `metadata.uid` (the pod's key) and `metadata.resourceVersion` (the watcher resumes from
//! it); `spec.nodeName`, `spec.overhead`, the `cpu` and `memory` requests and limits of
//! `spec.containers` and `spec.initContainers`, each init container's `restartPolicy`; and
//! `status.phase`.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer};

use super::decode::{map_only, object, objects, Parts};
use super::resource::resource_as;

/// A listed or watched pod.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchedPod {
    /// Only `uid` and `resourceVersion` are set.
    pub metadata: ObjectMeta,
    pub spec: Option<PodSpec>,
    pub status: Option<PodStatus>,
}

resource_as!(WatchedPod, Pod);

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    pub node_name: Option<String>,
    #[serde(default, deserialize_with = "objects")]
    pub containers: Option<Vec<Container>>,
    #[serde(default, deserialize_with = "objects")]
    pub init_containers: Option<Vec<Container>>,
    #[serde(default, deserialize_with = "object")]
    pub overhead: Option<Resources>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    #[serde(default, deserialize_with = "object")]
    pub resources: Option<ResourceRequirements>,
    pub restart_policy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ResourceRequirements {
    #[serde(default, deserialize_with = "object")]
    pub requests: Option<Resources>,
    #[serde(default, deserialize_with = "object")]
    pub limits: Option<Resources>,
}

/// The two resources a pod's figures sum, out of a resource list (other resources skipped).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct Resources {
    pub cpu: Option<Quantity>,
    pub memory: Option<Quantity>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct PodStatus {
    pub phase: Option<String>,
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
        let Parts::<PodMeta, _, _> { metadata, spec, status } = map_only(deserializer)?;
        Ok(WatchedPod { metadata: metadata.map(ObjectMeta::from).unwrap_or_default(), spec, status })
    }
}
