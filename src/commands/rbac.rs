//! `kube-state-otel rbac`: the RBAC rules a config needs, as Kubernetes manifests, so a
//! deployment grants exactly what its collectors read and nothing more.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule, Role};
use kube::api::ObjectMeta;

use crate::config::{Config, Plan};

/// Names of the printed ClusterRole and Role, as in `deploy/kubernetes/base`.
const NAME: &str = "kube-state-otel";
const LEASE_ROLE_NAME: &str = "kube-state-otel-leader-election";

/// The ClusterRole the enabled collectors need and, when leader election is on, the Role for
/// its Lease; multi-document YAML.
pub fn rbac(plan: &Plan) -> String {
    let notes = plan.collectors.iter().flat_map(|c| c.read_access()).filter_map(|a| a.note);
    let mut out: String = notes.map(|note| format!("# {note}\n")).collect();
    out.push_str(&to_yaml(&cluster_role(plan)));
    if plan.config.leader_election.enabled {
        out.push_str("---\n");
        out.push_str(&to_yaml(&lease_role(&plan.config)));
    }
    out
}

fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    // Manifests built from plain strings and lists always serialize.
    serde_saphyr::to_string(value).expect("RBAC manifests serialize")
}

/// Read access cluster-wide: `get` on the kube-system namespace (its UID is `k8s.cluster.uid`)
/// and `list`/`watch` on every resource a collector watches, one rule per API group; and
/// `get`/`patch`/`update` on the `status` subresources a collector writes.
pub fn cluster_role(plan: &Plan) -> ClusterRole {
    let mut watched: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for access in plan.collectors.iter().flat_map(|c| c.read_access()) {
        watched.entry(access.group).or_default().extend(access.resources);
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
    rules.extend(plan.collectors.iter().flat_map(|c| c.status_access()).map(|access| PolicyRule {
        api_groups: Some(vec![access.group]),
        resources: Some(access.resources),
        verbs: ["get", "patch", "update"].map(str::to_owned).to_vec(),
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
        let plan = Plan { config: Config::default(), collectors: Vec::new() };
        let role = cluster_role(&plan);
        let rules = role.rules.unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].resources, Some(vec!["namespaces".to_owned()]));
        assert_eq!(rules[0].verbs, ["get"]);
        assert_eq!(rbac(&plan).matches("kind: Role").count(), 1, "{}", rbac(&plan));
    }
}
