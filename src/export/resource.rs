//! Resource attributes (SPEC §7): service identity, cluster identity, configured extras, and
//! `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME`, which win.

use std::collections::BTreeMap;

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

use crate::config::{Config, Env};

/// Name of this replica: `POD_NAME` (from the downward API) or the host name. It is both
/// `service.instance.id` and the Lease holder identity.
pub fn instance_id(env: &Env) -> String {
    env.get("POD_NAME").map(str::to_owned).unwrap_or_else(|| {
        hostname::get().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "kube-state-otel".into())
    })
}

/// The resource attributes, in the order of precedence (later wins).
pub fn attributes(config: &Config, env: &Env, cluster_uid: Option<&str>) -> BTreeMap<String, String> {
    let mut attrs = BTreeMap::new();
    attrs.insert("service.name".to_owned(), "kube-state-otel".to_owned());
    attrs.insert("service.version".to_owned(), env!("CARGO_PKG_VERSION").to_owned());
    attrs.insert("service.instance.id".to_owned(), instance_id(env));
    attrs.insert("telemetry.sdk.name".to_owned(), "opentelemetry".to_owned());
    attrs.insert("telemetry.sdk.language".to_owned(), "rust".to_owned());
    if !config.cluster.name.is_empty() {
        attrs.insert("k8s.cluster.name".to_owned(), config.cluster.name.clone());
    }
    if let Some(uid) = cluster_uid {
        attrs.insert("k8s.cluster.uid".to_owned(), uid.to_owned());
    }
    attrs.extend(config.export.resource.iter().map(|(k, v)| (k.clone(), v.clone())));
    if let Some(list) = env.get("OTEL_RESOURCE_ATTRIBUTES") {
        for pair in list.split(',') {
            if let Some((k, v)) = pair.split_once('=') {
                attrs.insert(k.trim().to_owned(), v.trim().to_owned());
            }
        }
    }
    if let Some(name) = env.get("OTEL_SERVICE_NAME") {
        attrs.insert("service.name".to_owned(), name.to_owned());
    }
    attrs
}

/// The SDK resource for `attributes` (the agent's own metrics and spans).
pub fn resource(attributes: &BTreeMap<String, String>) -> Resource {
    let attributes = attributes.iter().map(|(k, v)| KeyValue::new(k.clone(), v.clone()));
    Resource::builder_empty().with_attributes(attributes).build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_wins_over_config_which_wins_over_defaults() {
        let mut config = Config::default();
        config.cluster.name = "prod-east".into();
        config.export.resource.insert("deployment.environment.name".into(), "prod".into());
        config.export.resource.insert("team".into(), "sre".into());
        let env = Env::from_pairs([
            ("POD_NAME", "kso-0"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=platform, region=eu"),
            ("OTEL_SERVICE_NAME", "kso"),
        ]);
        let attrs = attributes(&config, &env, Some("uid-1"));
        assert_eq!(attrs["service.name"], "kso");
        assert_eq!(attrs["service.instance.id"], "kso-0");
        assert_eq!(attrs["k8s.cluster.name"], "prod-east");
        assert_eq!(attrs["k8s.cluster.uid"], "uid-1");
        assert_eq!(attrs["deployment.environment.name"], "prod");
        assert_eq!(attrs["team"], "platform");
        assert_eq!(attrs["region"], "eu");
    }
}
