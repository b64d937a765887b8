//! The members of a Pod the nodes collector reads, as they are decoded: every other member is
//! skipped by the parser without being built. What is read decodes as the typed `Pod` decodes it
//! (see [`super::decode`]), so a wrong type there is still an error that drops the event, while
//! an odd member nobody reads no longer is.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde::Deserialize;

use super::decode::{object, objects};

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
