//! A Node as the collector decodes it: only what `node_points` and the watch read.
//!
//! Like [`super::watched_pod`]: members nothing reads (images, daemon endpoints, managed
//! fields, annotations, condition messages and times…) are skipped unbuilt; what is read
//! decodes as the typed `Node` decodes it.
//!
//! Kept: `metadata.name`, `metadata.uid`, `metadata.resourceVersion` and `metadata.labels`
//! (roles); `spec.unschedulable`; of `status`, the `type` and `status` of each condition, the
//! `type` and `address` of each address, `allocatable`, `capacity`, and the kubelet and
//! container runtime versions, OS image and kernel version of `nodeInfo`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Node;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Deserializer};

use super::decode::{map_only, nullable, object, objects, Parts};
use super::resource::resource_as;

/// A listed or watched node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WatchedNode {
    /// Only `name`, `uid`, `resourceVersion` and `labels` are set.
    pub metadata: ObjectMeta,
    pub spec: Option<NodeSpec>,
    pub status: Option<NodeStatus>,
}

resource_as!(WatchedNode, Node);

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeSpec {
    pub unschedulable: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    #[serde(default, deserialize_with = "objects")]
    pub conditions: Option<Vec<NodeCondition>>,
    #[serde(default, deserialize_with = "objects")]
    pub addresses: Option<Vec<NodeAddress>>,
    pub allocatable: Option<BTreeMap<String, Quantity>>,
    pub capacity: Option<BTreeMap<String, Quantity>>,
    #[serde(default, deserialize_with = "object")]
    pub node_info: Option<NodeSystemInfo>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeCondition {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub type_: String,
    #[serde(default, deserialize_with = "nullable")]
    pub status: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct NodeAddress {
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub type_: String,
    #[serde(default, deserialize_with = "nullable")]
    pub address: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeSystemInfo {
    #[serde(default, deserialize_with = "nullable")]
    pub kubelet_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub container_runtime_version: String,
    #[serde(default, deserialize_with = "nullable")]
    pub os_image: String,
    #[serde(default, deserialize_with = "nullable")]
    pub kernel_version: String,
}

/// What is decoded of `metadata`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NodeMeta {
    name: Option<String>,
    uid: Option<String>,
    resource_version: Option<String>,
    labels: Option<BTreeMap<String, String>>,
}

impl From<NodeMeta> for ObjectMeta {
    fn from(m: NodeMeta) -> ObjectMeta {
        let NodeMeta { name, uid, resource_version, labels } = m;
        ObjectMeta { name, uid, resource_version, labels, ..ObjectMeta::default() }
    }
}

impl<'de> Deserialize<'de> for WatchedNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Parts::<NodeMeta, _, _> { metadata, spec, status } = map_only(deserializer)?;
        Ok(WatchedNode { metadata: metadata.map(ObjectMeta::from).unwrap_or_default(), spec, status })
    }
}
