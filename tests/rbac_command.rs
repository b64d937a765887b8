//! `kube-state-otel rbac`: the printed manifests are valid Kubernetes RBAC objects, grant what
//! the configured collectors read, and the deployed base grants at least that.

#[path = "support/validate.rs"]
mod validate;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{json, Value};

fn rbac(config: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .arg("rbac")
        .arg("--config")
        .arg(&path)
        .env_remove("KUBE_STATE_OTEL_CONFIG")
        .output()
        .unwrap()
}

/// The printed documents; fails with the command's output when it did not succeed.
fn manifests(config: &str) -> Vec<Value> {
    let output = rbac(config);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "rbac failed:\n{stdout}{}", String::from_utf8_lossy(&output.stderr));
    serde_saphyr::from_multiple(&stdout).unwrap_or_else(|e| panic!("rbac printed no YAML ({e}):\n{stdout}"))
}

const THREE_CRDS: &str = r#"
leaderElection: {enabled: true, namespace: monitoring}
collectors:
  crds:
    enabled: true
    resources:
      - name: cluster
        gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
        metrics: [{type: state, name: phase, path: status.phase}]
      - name: certificate
        gvr: {group: cert-manager.io, version: v1, resource: certificates}
        metrics: [{type: conditions, name: condition, path: status.conditions}]
      - name: issuer
        gvr: {group: cert-manager.io, version: v1, resource: issuers}
        metrics: [{type: info, name: info}]
"#;

#[test]
fn crds_get_list_and_watch_per_group_and_the_lease_a_role() {
    let docs = manifests(THREE_CRDS);
    assert_eq!(docs.len(), 2, "{docs:?}");
    assert_eq!(docs[0]["kind"], "ClusterRole");
    assert_eq!(
        docs[0]["rules"],
        json!([
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]},
            // The nodes collector is on by default.
            {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["list", "watch"]},
            {"apiGroups": ["apps.kubeblocks.io"], "resources": ["clusters"], "verbs": ["list", "watch"]},
            {"apiGroups": ["cert-manager.io"], "resources": ["certificates", "issuers"], "verbs": ["list", "watch"]},
        ])
    );
    assert_eq!(docs[1]["kind"], "Role");
    assert_eq!(docs[1]["metadata"]["namespace"], "monitoring");
    assert_eq!(
        docs[1]["rules"],
        json!([{"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                "verbs": ["get", "create", "update", "patch"]}])
    );
    validate::validate_strict(&docs);
}

/// A kube-state-metrics document's resources: a `resourcePlural`, a plural guessed from the
/// kind (discovery settles it at run time, the comment says so) and a `*` kind (every resource
/// of the group).
#[test]
fn a_kube_state_metrics_document_gets_its_resources() {
    let config = r#"
leaderElection: {enabled: false}
collectors:
  nodes: {enabled: false}
  crds:
    kubeStateMetrics:
      config:
        spec:
          resources:
            - groupVersionKind: {group: kustomize.toolkit.fluxcd.io, version: v1, kind: Kustomization}
              resourcePlural: kustomizations
              metrics: [{name: a_info, each: {type: Info, info: {labelsFromPath: {name: [metadata, name]}}}}]
            - groupVersionKind: {group: helm.toolkit.fluxcd.io, version: v2, kind: HelmRelease}
              metrics: [{name: b_info, each: {type: Info, info: {labelsFromPath: {name: [metadata, name]}}}}]
            - groupVersionKind: {group: image.toolkit.fluxcd.io, version: v1, kind: "*"}
              metrics: [{name: c_info, each: {type: Info, info: {labelsFromPath: {name: [metadata, name]}}}}]
"#;
    let docs = manifests(config);
    assert_eq!(
        docs[0]["rules"],
        json!([
            {"apiGroups": [""], "resources": ["namespaces"], "resourceNames": ["kube-system"], "verbs": ["get"]},
            {"apiGroups": ["helm.toolkit.fluxcd.io"], "resources": ["helmreleases"], "verbs": ["list", "watch"]},
            {"apiGroups": ["image.toolkit.fluxcd.io"], "resources": ["*"], "verbs": ["list", "watch"]},
            {"apiGroups": ["kustomize.toolkit.fluxcd.io"], "resources": ["kustomizations"], "verbs": ["list", "watch"]},
        ])
    );
    let printed = String::from_utf8_lossy(&rbac(config).stdout).into_owned();
    assert!(
        printed.contains("# crds/ksm:helm.toolkit.fluxcd.io/v2/HelmRelease: cluster-wide watch"),
        "{printed}"
    );
    assert!(printed.contains("\"helmreleases\" is the plural guessed from kind HelmRelease"), "{printed}");
    assert!(
        printed.contains("# crds/ksm:image.toolkit.fluxcd.io/v1/*: every resource of the group"),
        "{printed}"
    );
    validate::validate_strict(&docs);
}

#[test]
fn without_leader_election_there_is_no_role() {
    let docs = manifests("leaderElection: {enabled: false}\ncollectors: {nodes: {enabled: false}}\n");
    let kinds: Vec<&Value> = docs.iter().map(|d| &d["kind"]).collect();
    assert_eq!(kinds, [&json!("ClusterRole")]);
    assert_eq!(docs[0]["rules"].as_array().unwrap().len(), 1, "only the kube-system namespace");
}

#[test]
fn the_nodes_collector_lists_and_watches_nodes_and_pods() {
    let docs = manifests("leaderElection: {enabled: false}\ncollectors: {nodes: {enabled: true}}\n");
    assert_eq!(
        docs[0]["rules"][1],
        json!({"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["list", "watch"]})
    );
}

#[test]
fn an_invalid_config_prints_its_errors_and_no_manifest() {
    let output = rbac("collectors: {crds: {enabled: true, resources: [{name: x}]}}\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("collectors.crds.resources[0]"), "{stderr}");
}

/// The base ClusterRole grants every rule `rbac` derives from the base ConfigMap's config.
#[test]
fn the_deployed_cluster_role_covers_the_deployed_config() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes/base");
    let read = |file: &str| -> Value {
        serde_saphyr::from_str(&std::fs::read_to_string(base.join(file)).unwrap()).unwrap()
    };
    let config = read("configmap.yaml")["data"]["config.yaml"].as_str().unwrap().to_owned();
    let deployed = read("clusterrole.yaml");
    let needed = &manifests(&config)[0];
    for rule in needed["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    let granted = deployed["rules"].as_array().unwrap().iter().any(|g| {
                        let has = |key: &str, v: &Value| g[key].as_array().unwrap().contains(v);
                        has("apiGroups", group) && has("resources", resource) && has("verbs", verb)
                    });
                    assert!(granted, "clusterrole.yaml does not grant {verb} {group}/{resource}");
                }
            }
        }
    }
}

/// A resource named by kind gets a rule for the guessed plural, and the comments say how each
/// resource is watched.
#[test]
fn kinds_get_the_guessed_plural_and_comments_tell_the_watch() {
    let config = r#"
leaderElection: {enabled: false}
collectors:
  nodes: {enabled: false}
  crds:
    enabled: true
    resources:
      - name: pvc
        gvk: {group: "", version: v1, kind: PersistentVolumeClaim}
        namespaces: ["prod-*"]
        metrics: [{type: info, name: info}]
      - name: cluster
        gvr: {group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}
        namespaces: [shop]
        metrics: [{type: info, name: info}]
"#;
    let docs = manifests(config);
    assert_eq!(
        docs[0]["rules"][1],
        json!({"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["list", "watch"]})
    );
    let stdout = String::from_utf8_lossy(&rbac(config).stdout).into_owned();
    for comment in [
        "# crds/pvc: cluster-wide watch filtered in the agent; \"persistentvolumeclaims\" is the plural guessed from kind PersistentVolumeClaim",
        "# crds/cluster: watch per namespace (a Role in each of these namespaces would be enough)",
    ] {
        assert!(stdout.contains(comment), "{comment}\nnot in\n{stdout}");
    }
}

#[test]
fn metric_sources_need_watch_on_both_kinds_and_their_status() {
    let docs =
        manifests("collectors:\n  nodes: {enabled: false}\n  crds:\n    metricSources: {enabled: true}\n");
    let rules = docs[0]["rules"].as_array().unwrap();
    let rule = |resource: &str| {
        rules
            .iter()
            .find(|r| r["resources"].as_array().unwrap().iter().any(|x| x == resource))
            .unwrap_or_else(|| panic!("no rule for {resource}: {rules:?}"))
    };
    for plural in ["metricsources", "clustermetricsources"] {
        assert_eq!(rule(plural)["apiGroups"], json!(["kube-state-otel.io"]));
        assert_eq!(rule(plural)["verbs"], json!(["list", "watch"]));
        assert_eq!(rule(&format!("{plural}/status"))["verbs"], json!(["get", "patch", "update"]));
    }
    let output = rbac("collectors:\n  crds:\n    metricSources: {enabled: true}\n");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("# crds/metricSources: MetricSources in all namespaces"), "{stdout}");
}
