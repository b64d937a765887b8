//! The Kubernetes manifests in `deploy/kubernetes/`: each kustomization is rendered the way
//! `kubectl kustomize` renders one made of `namespace`, `resources` (files and directories)
//! and strategic-merge `patches`, every rendered object is
//! checked by `kubernetes-validate --strict`, and the agent config in the ConfigMap passes
//! `kube-state-otel check`.

#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/check.rs"]
mod support;
#[path = "support/validate.rs"]
mod validate;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Kinds without a namespace; kustomize's `namespace:` leaves them alone.
const CLUSTER_SCOPED: &[&str] = &["Namespace", "ClusterRole", "ClusterRoleBinding"];

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/kubernetes")
}

fn read_yaml(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings<'a>(value: &'a Value, key: &str) -> Vec<&'a str> {
    value[key].as_array().map(|items| items.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

/// Renders the kustomization in `dir`, failing on any field this renderer does not implement
/// (so the base never grows a feature the test would silently ignore).
fn render(dir: &Path) -> Vec<Value> {
    let kustomization = read_yaml(&dir.join("kustomization.yaml"));
    let known = ["apiVersion", "kind", "namespace", "resources", "patches"];
    for key in kustomization.as_object().expect("kustomization is a map").keys() {
        assert!(
            known.contains(&key.as_str()),
            "{}: `{key}` is not rendered by this test; keep kustomizations to {known:?}",
            dir.display()
        );
    }
    let mut objects = Vec::new();
    for resource in strings(&kustomization, "resources") {
        let path = dir.join(resource);
        if path.is_dir() {
            objects.extend(render(&path));
        } else {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            objects.extend(manifests::documents(&text, &path.display().to_string()));
        }
    }
    for patch in kustomization["patches"].as_array().into_iter().flatten() {
        let path = dir.join(patch["path"].as_str().expect("patches[].path"));
        let patch = read_yaml(&path);
        let target = objects
            .iter_mut()
            .find(|o| o["kind"] == patch["kind"] && o["metadata"]["name"] == patch["metadata"]["name"])
            .unwrap_or_else(|| panic!("{}: patches no object of the base", path.display()));
        strategic_merge(target, &patch);
    }
    if let Some(namespace) = kustomization["namespace"].as_str() {
        for object in &mut objects {
            let kind = object["kind"].as_str().unwrap_or_default();
            if !CLUSTER_SCOPED.contains(&kind) {
                object["metadata"]["namespace"] = Value::from(namespace);
            }
        }
    }
    objects
}

/// Strategic merge as kustomize applies it to the fields our patches touch: maps merge key by
/// key, lists of maps merge element by element on their merge key (`name`, or `mountPath` for
/// volume mounts), other values are replaced.
fn strategic_merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(key) {
                    Some(existing) => strategic_merge(existing, value),
                    None => {
                        target.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(target), Value::Array(patch)) if patch.iter().all(|p| merge_key(p).is_some()) => {
            for item in patch {
                let key = merge_key(item);
                match target.iter_mut().find(|t| merge_key(t) == key) {
                    Some(existing) => strategic_merge(existing, item),
                    None => target.push(item.clone()),
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn merge_key(item: &Value) -> Option<(&'static str, &Value)> {
    ["mountPath", "name"].into_iter().find_map(|k| item.get(k).map(|v| (k, v)))
}

fn find<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    objects.iter().find(|o| o["kind"] == kind).unwrap_or_else(|| panic!("no {kind} rendered"))
}

/// Runs `kube-state-otel check` on the agent config of the rendered ConfigMap. `check` reads
/// the files the config names, so each volume the Deployment mounts from a Secret is stood in
/// for by a temporary directory holding the Secret's files.
fn check_config_map(objects: &[Value]) -> String {
    let mut config = find(objects, "ConfigMap")["data"]["config.yaml"]
        .as_str()
        .expect("ConfigMap has data.config.yaml")
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    for mount in secret_mounts(objects) {
        let stand_in = dir.path().join(mount.trim_start_matches('/'));
        std::fs::create_dir_all(&stand_in).unwrap();
        for file in ["ca.crt", "tls.crt", "tls.key"] {
            std::fs::write(stand_in.join(file), "stand-in for a Secret key\n").unwrap();
        }
        config = config.replace(&format!("{mount}/"), &format!("{}/", stand_in.display()));
    }
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, config).unwrap();
    support::check_accepts(&path)
}

/// Mount paths of the Deployment's volumes that come from Secrets.
fn secret_mounts(objects: &[Value]) -> Vec<String> {
    let pod = &find(objects, "Deployment")["spec"]["template"]["spec"];
    let secret_volumes: Vec<&Value> = pod["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.get("secret").is_some())
        .map(|v| &v["name"])
        .collect();
    container(objects)["volumeMounts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| secret_volumes.contains(&&m["name"]))
        .filter_map(|m| m["mountPath"].as_str().map(str::to_owned))
        .collect()
}

fn container(objects: &[Value]) -> &Value {
    &find(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
}

#[test]
fn base_renders_validates_and_its_config_passes_check() {
    let objects = render(&deploy_dir().join("base"));
    let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
    for kind in [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
    ] {
        assert!(kinds.contains(&kind), "base renders no {kind}: {kinds:?}");
    }
    for object in &objects {
        if !CLUSTER_SCOPED.contains(&object["kind"].as_str().unwrap()) {
            assert_eq!(object["metadata"]["namespace"], "monitoring", "{object}");
        }
    }
    validate::validate_strict(&objects);

    let summary = check_config_map(&objects);
    assert!(summary.contains("http://otel-collector.monitoring:4317"), "{summary}");
    assert!(summary.contains("leader election: Lease"), "{summary}");

    let deployment = find(&objects, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let c = container(&objects);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    let security = &c["securityContext"];
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["runAsUser"], 65532);
    assert_eq!(security["capabilities"]["drop"], serde_json::json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    let env: Vec<&Value> = c["env"].as_array().unwrap().iter().collect();
    for (name, field) in [("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")] {
        let var = env.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(var["valueFrom"]["fieldRef"]["fieldPath"], field);
    }
    assert_eq!(c["volumeMounts"][0]["mountPath"], "/etc/kube-state-otel");
    assert_eq!(find(&objects, "PodDisruptionBudget")["spec"]["minAvailable"], 1);
}

#[test]
fn etcd_overlay_mounts_the_client_certificates_its_config_names() {
    let objects = render(&deploy_dir().join("overlays/etcd-client-certs"));
    validate::validate_strict(&objects);
    let summary = check_config_map(&objects);
    assert!(summary.contains("etcd"), "the overlay's config enables etcd:\n{summary}");

    let c = container(&objects);
    let mounts: Vec<&str> =
        c["volumeMounts"].as_array().unwrap().iter().filter_map(|m| m["mountPath"].as_str()).collect();
    assert_eq!(mounts, ["/etc/kube-state-otel", "/etc/etcd-client"], "base mount kept, certs added");
    let volumes = &find(&objects, "Deployment")["spec"]["template"]["spec"]["volumes"];
    assert_eq!(volumes[1]["secret"]["secretName"], "etcd-client-certs");

    let config = find(&objects, "ConfigMap")["data"]["config.yaml"].as_str().unwrap();
    for file in ["/etc/etcd-client/ca.crt", "/etc/etcd-client/tls.crt", "/etc/etcd-client/tls.key"] {
        assert!(config.contains(file), "the config reads {file} from the mounted Secret");
    }
}

#[test]
fn sharded_overlay_runs_one_statefulset_pod_per_shard() {
    let objects = manifests::kubectl_kustomize(&deploy_dir().join("overlays/sharded"));
    validate::validate_strict(&objects);
    assert!(objects.iter().all(|o| o["kind"] != "Deployment"), "the StatefulSet replaces the Deployment");
    let set = find(&objects, "StatefulSet");
    let replicas = set["spec"]["replicas"].as_u64().unwrap();
    let c = &set["spec"]["template"]["spec"]["containers"][0];
    let pod_name = c["env"].as_array().unwrap().iter().find(|e| e["name"] == "POD_NAME").expect("POD_NAME");
    assert_eq!(
        pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name",
        "auto reads the ordinal from it"
    );

    let text = find(&objects, "ConfigMap")["data"]["config.yaml"].as_str().unwrap();
    let config: Value = serde_saphyr::from_str(text).unwrap();
    assert_eq!(config["sharding"]["auto"], true);
    assert_eq!(config["sharding"]["totalShards"].as_u64(), Some(replicas), "one shard per replica");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, text).unwrap();
    let summary = support::check_accepts(&path);
    assert!(summary.contains("sharding: shard the ordinal of the pod name of 3"), "{summary}");
}
