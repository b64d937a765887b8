//! Resolving a configured group/version/resource to what the API server serves.

use kube::core::{ApiResource, GroupVersion};
use kube::discovery::{self, Scope};

use super::config::GvrConfig;

/// Why a resource cannot be watched yet.
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// The group/version is not served, or does not list the resource (the CRD is missing).
    #[error("CRD {0} not installed")]
    NotInstalled(GvrConfig),
    /// Served, but discovery does not list both `list` and `watch` for it.
    #[error("{gvr} cannot be watched: discovery lists the verbs {verbs:?}, not both list and watch")]
    NotWatchable { gvr: GvrConfig, verbs: Vec<String> },
    #[error("discovery of {gvr} failed: {source}")]
    Failed { gvr: GvrConfig, source: kube::Error },
}

/// The served resource and whether its objects live in namespaces: the one named `gvr.resource`,
/// or with `by_kind` the one of kind `gvr.kind` (its plural comes from discovery).
pub async fn resolve(
    client: &kube::Client,
    gvr: &GvrConfig,
    by_kind: bool,
) -> Result<(ApiResource, Scope), DiscoveryError> {
    let gv = GroupVersion::gv(&gvr.group, &gvr.version);
    let group = match discovery::pinned_group(client, &gv).await {
        Ok(group) => group,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return Err(DiscoveryError::NotInstalled(gvr.clone()))
        }
        Err(source) => return Err(DiscoveryError::Failed { gvr: gvr.clone(), source }),
    };
    let found =
        group.versioned_resources(&gvr.version).into_iter().find(|(ar, _)| match (by_kind, &gvr.kind) {
            (true, Some(kind)) => ar.kind == *kind,
            _ => ar.plural == gvr.resource,
        });
    let Some((ar, caps)) = found else { return Err(DiscoveryError::NotInstalled(gvr.clone())) };
    if ["list", "watch"].iter().all(|verb| caps.supports_operation(verb)) {
        Ok((ar, caps.scope))
    } else {
        Err(DiscoveryError::NotWatchable { gvr: gvr.clone(), verbs: caps.operations })
    }
}
