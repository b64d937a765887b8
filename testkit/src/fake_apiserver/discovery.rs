//! Discovery documents: `/version`, `/api`, `/apis` and one group version's resource list,
//! in the legacy shapes (`APIVersions`, `APIGroupList`, `APIResourceList`) and, when the
//! client's Accept header asks for it as kube's `Discovery::run_aggregated` does, the
//! aggregated `apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`.

use axum::response::{IntoResponse, Response};
use http::{header, HeaderMap};
use serde_json::{json, Value};

use super::resources::ResourceSpec;
use super::status::ApiError;

/// What the status subresource serves.
const STATUS_VERBS: [&str; 3] = ["get", "patch", "update"];
const AGGREGATED_V2: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn json_response(content_type: &'static str, body: Value) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body.to_string()).into_response()
}

/// Whether the Accept header lists aggregated discovery v2 (the real server picks the first
/// acceptable entry; kube lists v2 first).
fn wants_aggregated(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or_default();
    accept.contains("g=apidiscovery.k8s.io")
        && accept.contains("v=v2;")
        && accept.contains("as=APIGroupDiscoveryList")
}

/// `GET /version`.
pub(crate) fn version() -> Response {
    json_response(
        "application/json",
        json!({
            "major": "1",
            "minor": "35",
            "emulationMajor": "1",
            "emulationMinor": "35",
            "minCompatibilityMajor": "1",
            "minCompatibilityMinor": "34",
            "gitVersion": "v1.35.0",
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2025-12-17T00:00:00Z",
            "goVersion": "go1.25.5",
            "compiler": "gc",
            "platform": "linux/amd64",
        }),
    )
}

/// `GET /api`.
pub(crate) fn core(resources: &[ResourceSpec], headers: &HeaderMap, server_address: &str) -> Response {
    if wants_aggregated(headers) {
        return aggregated(resources, |group| group.is_empty());
    }
    json_response(
        "application/json",
        json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
        }),
    )
}

/// Non-core groups in registration order, each with its versions (first registered preferred).
fn groups(resources: &[ResourceSpec]) -> Vec<(String, Vec<String>)> {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for r in resources.iter().filter(|r| !r.group.is_empty()) {
        match groups.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if versions.contains(&r.version) => {}
            Some((_, versions)) => versions.push(r.version.clone()),
            None => groups.push((r.group.clone(), vec![r.version.clone()])),
        }
    }
    groups
}

/// `GET /apis`.
pub(crate) fn apis(resources: &[ResourceSpec], headers: &HeaderMap) -> Response {
    if wants_aggregated(headers) {
        return aggregated(resources, |group| !group.is_empty());
    }
    let groups: Vec<Value> = groups(resources)
        .into_iter()
        .map(|(group, versions)| {
            let version = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
            json!({
                "name": group,
                "versions": versions.iter().map(version).collect::<Vec<_>>(),
                "preferredVersion": version(&versions[0]),
            })
        })
        .collect();
    json_response("application/json", json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}))
}

/// `GET /api/v1` or `GET /apis/<group>/<version>`; 404 when nothing is served there.
pub(crate) fn resource_list(resources: &[ResourceSpec], group: &str, version: &str, path: &str) -> Response {
    let served: Vec<&ResourceSpec> =
        resources.iter().filter(|r| r.group == group && r.version == version).collect();
    if served.is_empty() {
        return ApiError::no_route(path).into_response();
    }
    let group_version = served[0].api_version();
    let mut entries: Vec<Value> = Vec::new();
    for r in served {
        entries.push(json!({
            "name": r.plural,
            "singularName": r.singular(),
            "namespaced": r.namespaced,
            "kind": r.kind,
            "verbs": r.verbs,
        }));
        if r.status_subresource {
            entries.push(json!({
                "name": format!("{}/status", r.plural),
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": STATUS_VERBS,
            }));
        }
    }
    json_response(
        "application/json",
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": entries}),
    )
}

fn aggregated(resources: &[ResourceSpec], include: impl Fn(&str) -> bool) -> Response {
    let mut names: Vec<(String, Vec<String>)> = groups(resources);
    if resources.iter().any(|r| r.group.is_empty()) {
        names.insert(0, (String::new(), vec!["v1".to_string()]));
    }
    let items: Vec<Value> = names
        .into_iter()
        .filter(|(group, _)| include(group))
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let entries: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == group && &r.version == version)
                        .map(|r| {
                            let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
                            let mut entry = json!({
                                "resource": r.plural,
                                "responseKind": kind,
                                "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
                                "singularResource": r.singular(),
                                "verbs": r.verbs,
                            });
                            if r.status_subresource {
                                entry["subresources"] = json!([
                                    {"subresource": "status", "responseKind": kind, "verbs": STATUS_VERBS}
                                ]);
                            }
                            entry
                        })
                        .collect();
                    json!({"version": version, "resources": entries, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json_response(
        AGGREGATED_V2,
        json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}),
    )
}
