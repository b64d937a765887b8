//! The cluster version, which etcd's gRPC API does not return: `GET /version` on the client
//! URL answers `{"etcdserver":"3.4.30","etcdcluster":"3.4.0"}` (no etcd user needed), over the
//! same TLS as the gRPC connection.

use std::time::Duration;

use serde::Deserialize;

use super::client::{chain, read_tls_file, EtcdError};
use super::config::EtcdTlsConfig;

#[derive(Debug, Deserialize)]
struct Versions {
    etcdcluster: String,
}

/// An HTTP client for one member's `/version`.
#[derive(Debug, Clone)]
pub struct VersionClient {
    client: reqwest::Client,
    url: String,
}

impl VersionClient {
    pub fn new(endpoint: &str, tls: Option<&EtcdTlsConfig>, timeout: Duration) -> Result<Self, EtcdError> {
        crate::telemetry::install_crypto_provider();
        let mut builder = reqwest::Client::builder().timeout(timeout).connect_timeout(timeout);
        let invalid = |e: reqwest::Error| EtcdError::Version(format!("TLS settings: {e}"));
        if let Some(tls) = tls {
            let ca =
                reqwest::Certificate::from_pem(&read_tls_file("CA file", &tls.ca_file)?).map_err(invalid)?;
            builder = builder.add_root_certificate(ca);
            if let (Some(cert), Some(key)) = (&tls.cert_file, &tls.key_file) {
                let mut pem = read_tls_file("certificate", cert)?;
                pem.push(b'\n');
                pem.extend(read_tls_file("key", key)?);
                builder = builder.identity(reqwest::Identity::from_pem(&pem).map_err(invalid)?);
            }
        }
        let client = builder.build().map_err(invalid)?;
        Ok(VersionClient { client, url: format!("{}/version", endpoint.trim_end_matches('/')) })
    }

    /// The cluster version the member reports (`not_decided` right after start).
    pub async fn cluster_version(&self) -> Result<String, EtcdError> {
        let failed =
            |e: reqwest::Error| EtcdError::Version(chain(e.to_string(), std::error::Error::source(&e)));
        let response = self.client.get(&self.url).send().await.map_err(failed)?;
        let body = response.error_for_status().map_err(failed)?.bytes().await.map_err(failed)?;
        let versions: Versions = serde_json::from_slice(&body)
            .map_err(|e| EtcdError::Version(format!("{}: unexpected answer: {e}", self.url)))?;
        Ok(versions.etcdcluster)
    }
}
