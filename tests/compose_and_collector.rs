//! The docker-compose stack and the OpenTelemetry Collector config at the repository root:
//! neither Docker nor the Collector can run here, so they are checked statically — the compose
//! file parses, every file it mounts exists and every agent config it mounts passes
//! `kube-state-otel check`; the Collector config names only components of the contrib
//! distribution and its pipelines are wired completely.

#[path = "support/check.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Component type names of `otel/opentelemetry-collector-contrib` (from its
/// `cmd/otelcontribcol/builder-config.yaml`), limited to the ones a metrics pipeline for this
/// agent plausibly uses. A component outside the list fails the test: check that the contrib
/// distribution has it, then add it here.
const CONTRIB_RECEIVERS: &[&str] = &["otlp", "prometheus", "hostmetrics", "k8s_cluster", "kubeletstats"];
const CONTRIB_PROCESSORS: &[&str] = &[
    "batch",
    "memory_limiter",
    "attributes",
    "resource",
    "resourcedetection",
    "filter",
    "transform",
    "k8sattributes",
    "metricstransform",
    "cumulativetodelta",
    "deltatocumulative",
    "groupbyattrs",
];
const CONTRIB_EXPORTERS: &[&str] =
    &["debug", "otlp", "otlphttp", "prometheus", "prometheusremotewrite", "file", "loadbalancing"];
const CONTRIB_EXTENSIONS: &[&str] =
    &["health_check", "pprof", "zpages", "basicauth", "bearertokenauth", "file_storage"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_yaml(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(host file, container path)` of every bind mount of `service`.
fn bind_mounts(service: &Value) -> Vec<(PathBuf, String)> {
    service["volumes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|v| v.starts_with("./"))
        .map(|v| {
            let mut parts = v.split(':');
            let host = repo().join(parts.next().unwrap());
            let container = parts.next().unwrap_or_else(|| panic!("`{v}` names no container path"));
            (host, container.to_owned())
        })
        .collect()
}

fn check(config: &Path) -> String {
    support::check_accepts(config)
}

#[test]
fn compose_mounts_existing_files_and_a_valid_agent_config() {
    let compose = read_yaml(&repo().join("docker-compose.yml"));
    let services = compose["services"].as_object().expect("services is a map");
    for name in ["kube-state-otel", "otel-collector", "prometheus", "victoriametrics", "etcd"] {
        assert!(services.contains_key(name), "docker-compose.yml has no service {name}");
    }
    for (name, service) in services {
        for dependency in service["depends_on"].as_array().into_iter().flatten() {
            let dependency = dependency.as_str().unwrap();
            assert!(services.contains_key(dependency), "{name} depends on unknown {dependency}");
        }
        for (host, _) in bind_mounts(service) {
            assert!(host.is_file(), "service {name} mounts {}, which does not exist", host.display());
        }
    }

    let agent = &services["kube-state-otel"];
    assert_eq!(agent["build"], ".", "the agent is built from the Dockerfile");
    let mounts = bind_mounts(agent);
    let config = mounts
        .iter()
        .find(|(_, container)| container == "/etc/kube-state-otel/config.yaml")
        .expect("the agent config is mounted at the default --config path");
    let summary = check(&config.0);
    assert!(summary.contains("etcd/compose"), "{summary}");
    assert!(summary.contains("http://otel-collector:4317"), "{summary}");
    assert!(summary.contains("leader election: off"), "{summary}");

    let collector = &services["otel-collector"];
    assert!(collector["image"].as_str().unwrap().starts_with("otel/opentelemetry-collector-contrib"));
    assert!(bind_mounts(collector).iter().any(|(h, _)| h.ends_with("otel-collector-config.yaml")));

    let prometheus = read_yaml(&repo().join("config/compose/prometheus.yml"));
    let targets: Vec<&str> = prometheus["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|job| job["static_configs"].as_array().unwrap())
        .flat_map(|c| c["targets"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    assert!(targets.contains(&"otel-collector:8889"), "Prometheus scrapes the Collector: {targets:?}");
}

/// The component type of an id (`otlp/agent` → `otlp`).
fn component_type(id: &str) -> &str {
    id.split('/').next().unwrap()
}

/// The ids defined in a top-level section, each checked against the contrib allow-list.
fn defined(config: &Value, section: &str, contrib: &[&str]) -> BTreeSet<String> {
    let ids: BTreeSet<String> =
        config[section].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    for id in &ids {
        assert!(
            contrib.contains(&component_type(id)),
            "{section}.{id}: `{}` is not a known contrib component ({contrib:?})",
            component_type(id)
        );
    }
    ids
}

#[test]
fn collector_config_uses_contrib_components_and_wires_every_one() {
    let config = read_yaml(&repo().join("otel-collector-config.yaml"));
    let sections = [
        ("receivers", CONTRIB_RECEIVERS),
        ("processors", CONTRIB_PROCESSORS),
        ("exporters", CONTRIB_EXPORTERS),
    ];
    let pipelines = config["service"]["pipelines"].as_object().expect("service.pipelines");
    assert!(pipelines.contains_key("metrics"), "a metrics pipeline");
    for (section, contrib) in sections {
        let ids = defined(&config, section, contrib);
        let mut used = BTreeSet::new();
        for (name, pipeline) in pipelines {
            let listed = pipeline[section].as_array().into_iter().flatten().filter_map(Value::as_str);
            for id in listed {
                assert!(ids.contains(id), "pipeline {name} uses undefined {section}.{id}");
                used.insert(id.to_owned());
            }
            if section != "processors" {
                assert!(
                    pipeline[section].as_array().is_some_and(|l| !l.is_empty()),
                    "{name} has no {section}"
                );
            }
        }
        assert_eq!(used, ids, "every defined {section} entry is used by a pipeline");
    }
    let extensions = defined(&config, "extensions", CONTRIB_EXTENSIONS);
    let enabled: BTreeSet<String> = config["service"]["extensions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    assert_eq!(enabled, extensions, "every defined extension is enabled, and only those");

    let metrics = &pipelines["metrics"];
    assert_eq!(
        metrics["processors"],
        serde_json::json!(["memory_limiter", "batch"]),
        "memory_limiter must come first"
    );
    assert_eq!(config["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"], "0.0.0.0:4317");
    assert_eq!(config["receivers"]["otlp"]["protocols"]["http"]["endpoint"], "0.0.0.0:4318");
    let exporters = &config["exporters"];
    assert_eq!(exporters["prometheus"]["resource_to_telemetry_conversion"]["enabled"], true);
    assert_eq!(exporters["prometheusremotewrite"]["endpoint"], "http://victoriametrics:8428/api/v1/write");
}
