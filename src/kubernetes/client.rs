//! The Kubernetes client from config: an explicit kubeconfig, else in-cluster, then
//! `$KUBECONFIG`, then `~/.kube/config` (kube's inference order), with QPS and burst applied and
//! over-deep objects pruned.

use k8s_openapi::api::core::v1::Namespace;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client};

use super::depth::DepthLimitLayer;
use super::rate_limit::RateLimitLayer;
use crate::config::KubernetesConfig;

/// Longest silence on a response before the request fails (and is retried with backoff).
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Why no client could be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot read kubeconfig {path}: {reason}")]
    Kubeconfig { path: String, reason: String },
    #[error("no Kubernetes configuration found (not in a cluster, no $KUBECONFIG, no ~/.kube/config): {0}")]
    Infer(String),
    #[error("cannot build the Kubernetes client: {0}")]
    Build(String),
}

/// Builds the client.
pub async fn client(config: &KubernetesConfig) -> Result<Client, ClientError> {
    crate::telemetry::install_crypto_provider();
    let kube_config = if config.kubeconfig.is_empty() {
        kube::Config::infer().await.map_err(|e| ClientError::Infer(e.to_string()))?
    } else {
        let bad = |reason: String| ClientError::Kubeconfig { path: config.kubeconfig.clone(), reason };
        let file = Kubeconfig::read_from(&config.kubeconfig).map_err(|e| bad(e.to_string()))?;
        kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
            .await
            .map_err(|e| bad(e.to_string()))?
    };
    let mut kube_config = kube_config;
    // kube sets no read timeout: a response that stops arriving would hold its list or watch
    // forever. Watches end on the server after at most 290 s (kube's `timeoutSeconds`) and
    // carry bookmarks meanwhile, so only a connection that is really stuck reaches this.
    kube_config.read_timeout.get_or_insert(READ_TIMEOUT);
    let builder =
        kube::client::ClientBuilder::try_from(kube_config).map_err(|e| ClientError::Build(e.to_string()))?;
    // Pruning sits below the rate limit, next to the connection, so kube parses pruned bodies.
    let builder = builder.with_layer(&DepthLimitLayer);
    Ok(builder.with_layer(&RateLimitLayer::new(config.qps, config.burst)).build())
}

/// `k8s.cluster.uid`: the UID of the `kube-system` namespace, the de-facto cluster identity.
pub async fn cluster_uid(client: &Client) -> Result<String, kube::Error> {
    let ns = Api::<Namespace>::all(client.clone()).get("kube-system").await?;
    Ok(ns.metadata.uid.unwrap_or_default())
}
