//! `kube-state-otel rbac`: the RBAC rules a config needs, as Kubernetes manifests, so a
//! deployment grants exactly what its collectors read and nothing more.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use kube::api::ObjectMeta;

use crate::config::Config;

/// Names of the printed ClusterRole and Role, as in `deploy/kubernetes/base`.
const NAME: &str = "kube-state-otel";
const LEASE_ROLE_NAME: &str = "kube-state-otel-leader-election";

/// The ClusterRole the enabled collectors need and, when leader election is on, the Role for
/// its Lease; multi-document YAML.
pub fn rbac(config: &Config) -> String {
    let mut out = to_yaml(&cluster_role(config));
    if config.leader_election.enabled {
        out.push_str("---\n");
        out.push_str(&to_yaml(&lease_role(config)));
    }
    out
}

fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    // Manifests built from plain strings and lists always serialize.
    serde_saphyr::to_string(value).expect("RBAC manifests serialize")
}

/// Read access cluster-wide: `get` on the kube-system namespace (its UID is `k8s.cluster.uid`)
/// and `list`/`watch` on every resource a collector watches, one rule per API group.
pub fn cluster_role(config: &Config) -> ClusterRole {
    let mut watched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let crds = &config.collectors.crds;
    if crds.enabled {
        for resource in &crds.resources {
            watched.entry(resource.gvr.group.clone()).or_default().insert(resource.gvr.resource.clone());
        }
    }
    if config.collectors.nodes.enabled {
        watched.entry(String::new()).or_default().extend(["nodes".to_owned(), "pods".to_owned()]);
    }
    let mut rules = vec![PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec!["namespaces".to_owned()]),
        resource_names: Some(vec!["kube-system".to_owned()]),
        verbs: vec!["get".to_owned()],
        ..PolicyRule::default()
    }];
    rules.extend(watched.into_iter().map(|(group, resources)| PolicyRule {
        api_groups: Some(vec![group]),
        resources: Some(resources.into_iter().collect()),
        verbs: vec!["list".to_owned(), "watch".to_owned()],
        ..PolicyRule::default()
    }));
    ClusterRole { metadata: metadata(NAME, None), rules: Some(rules), ..ClusterRole::default() }
}

/// The leader-election Lease: read, create on first start, renew. The namespace is
/// `leaderElection.namespace`, or left out (the pod's namespace, given at apply time) when empty.
pub fn lease_role(config: &Config) -> Role {
    let namespace = &config.leader_election.namespace;
    Role {
        metadata: metadata(LEASE_ROLE_NAME, (!namespace.is_empty()).then(|| namespace.clone())),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["coordination.k8s.io".to_owned()]),
            resources: Some(vec!["leases".to_owned()]),
            verbs: ["get", "create", "update", "patch"].map(str::to_owned).to_vec(),
            ..PolicyRule::default()
        }]),
    }
}

fn metadata(name: &str, namespace: Option<String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        namespace,
        labels: Some(BTreeMap::from([("app.kubernetes.io/name".to_owned(), NAME.to_owned())])),
        ..ObjectMeta::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_collector_needs_only_the_cluster_uid_and_the_lease() {
        let mut config = Config::default();
        config.collectors.nodes.enabled = false;
        let role = cluster_role(&config);
        let rules = role.rules.unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].resources, Some(vec!["namespaces".to_owned()]));
        assert_eq!(rules[0].verbs, ["get"]);
        assert_eq!(rbac(&config).matches("kind: Role").count(), 1, "{}", rbac(&config));
    }
}
