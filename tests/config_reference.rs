//! `docs/configuration.md` documents exactly the keys the config file accepts. The existing
//! keys are the ones `Config` serializes to, from the defaults, a config that sets every
//! optional field, and every config shipped in the repository; the documented keys are the
//! first cells of the reference's tables (`` | `export.otlp.endpoint` | ... ``). Sections are
//! keys too (`export.otlp`); list elements are written `[]` (`collectors.crds.resources[].name`).

use std::collections::BTreeSet;
use std::path::Path;

use kube_state_otel::config::Config;
use serde_json::Value;

/// Maps whose keys the user chooses (attribute names, header names): documented as one key.
const FREE_FORM_MAPS: &[&str] = &[
    "export.resource",
    "export.otlp.headers",
    "collectors.crds.resources[].commonLabels",
    "collectors.crds.resources[].metrics[].labels",
    // The kube-state-metrics document: its keys are kube-state-metrics', not the agent's.
    "collectors.crds.kubeStateMetrics.config",
];

/// Sets every field that is left out of the serialized config when unset.
const EVERY_FIELD: &str = r#"
sharding: {totalShards: 2, shard: 1}
collectors:
  crds:
    kubeStateMetrics:
      configFile: crs.yaml
      config: {spec: {resources: []}}
    resources:
      - name: r
        gvr: {group: g, version: v1, resource: rs, kind: R}
        gvk: {group: g, version: v1, kind: R}
        commonLabels: {a: metadata.name}
        select: {groups: [g], exclude: [{group: g, kind: K}]}
        namespaceSelector: team=a
        metrics:
          - type: map_state
            name: m
            path: status.x
            labels: {b: metadata.namespace}
            valueLabel: v
            keyLabel: k
            keyPath: name
            valuePath: value
            states: [A]
            typeLabel: t
            statusLabel: s
            reasonLabel: r
          - {type: gauge, name: g, field: f}
        fields:
          - {name: f, path: spec.f, type: integer, default: 0}
        computed:
          - {name: c, expression: "f + 1"}
        celCostLimit: 1000
        aggregations:
          - name: a
            help: h
            unit: By
            function: percentile
            field: c
            percentile: 95
            filter: {field: f, operator: equals, value: 1}
            groupBy: [f]
  etcd:
    clusters:
      - name: c
        endpoints: [https://127.0.0.1:2379]
        tls: {caFile: ca.crt, certFile: tls.crt, keyFile: tls.key}
        interval: 1m
        auth: {username: u, password: {file: p, env: P}}
export:
  prometheus:
    tls: {certFile: tls.crt, keyFile: tls.key}
    bearerToken: {file: t, env: T}
"#;

/// Configs in the repository, which must use documented keys only.
const SHIPPED: &[&str] = &["config/kube-state-otel.yaml", "config/compose/kube-state-otel.yaml"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Records `path` and every key below it; sections and lists are keys too.
fn walk(value: &Value, path: &str, keys: &mut BTreeSet<String>) {
    if !path.is_empty() && !path.ends_with("[]") {
        keys.insert(path.to_owned());
    }
    match value {
        Value::Object(map) if !FREE_FORM_MAPS.contains(&path) => {
            for (key, child) in map {
                let child_path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                walk(child, &child_path, keys);
            }
        }
        Value::Array(items) => {
            for item in items.iter().filter(|item| item.is_object()) {
                walk(item, &format!("{path}[]"), keys);
            }
        }
        _ => {}
    }
}

fn keys_of(config: &Config) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    walk(&serde_json::to_value(config).unwrap(), "", &mut keys);
    keys
}

fn parse(text: &str, origin: &str) -> Config {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{origin}: {e}"))
}

fn existing_keys() -> BTreeSet<String> {
    let mut keys = keys_of(&Config::default());
    keys.extend(keys_of(&parse(EVERY_FIELD, "EVERY_FIELD")));
    for file in SHIPPED {
        keys.extend(keys_of(&parse(&std::fs::read_to_string(repo().join(file)).unwrap(), file)));
    }
    keys
}

fn documented_keys() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(repo().join("docs/configuration.md")).unwrap();
    doc.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once("` |").map(|(key, _)| key.to_owned()))
        .collect()
}

#[test]
fn every_key_is_documented_and_every_documented_key_exists() {
    let existing = existing_keys();
    let documented = documented_keys();
    let undocumented: Vec<_> = existing.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&existing).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/configuration.md is out of date.\nundocumented keys: {undocumented:#?}\n\
         documented keys the config does not have: {unknown:#?}"
    );
}

#[test]
fn the_key_walk_sees_nested_lists_and_free_form_maps() {
    let keys = existing_keys();
    for key in [
        "export.otlp.endpoint",
        "export.resource",
        "collectors.crds.resources[].metrics[].valuePath",
        "collectors.etcd.clusters[].tls.keyFile",
    ] {
        assert!(keys.contains(key), "{key} missing from {keys:#?}");
    }
    assert!(!keys.iter().any(|k| k.starts_with("export.resource.")), "{keys:#?}");
}
