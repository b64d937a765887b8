//! The scrape and rule objects for the Prometheus Operator and the VictoriaMetrics Operator:
//! each overlay renders with `kubectl kustomize`, every rendered object is valid against the
//! operator's published CRD schema (`tests/fixtures/crds/`, see the README there), and the
//! scrape objects point at the base's Service, its `prometheus` port and `/metrics`, with
//! `honorLabels: true`.

#[path = "support/manifests.rs"]
mod manifests;
#[path = "support/openapi_schema.rs"]
mod openapi_schema;

use std::path::Path;

use serde_json::{json, Value};

/// (overlay, kind, CRD fixture).
const OBJECTS: [(&str, &str, &str); 4] = [
    ("prometheus-operator", "ServiceMonitor", "monitoring.coreos.com_servicemonitors.yaml"),
    ("prometheus-operator", "PrometheusRule", "monitoring.coreos.com_prometheusrules.yaml"),
    ("victoriametrics-operator", "VMServiceScrape", "operator.victoriametrics.com_vmservicescrapes.yaml"),
    ("victoriametrics-operator", "VMRule", "operator.victoriametrics.com_vmrules.yaml"),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn crd(file: &str) -> Value {
    let path = root().join("tests/fixtures/crds").join(file);
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn rendered(overlay: &str, kind: &str) -> Value {
    let objects = manifests::kubectl_kustomize(&Path::new("deploy/kubernetes/overlays").join(overlay));
    let mut of_kind = objects.into_iter().filter(|o| o["kind"] == kind);
    let object = of_kind.next().unwrap_or_else(|| panic!("{overlay} renders no {kind}"));
    assert!(of_kind.next().is_none(), "{overlay} renders more than one {kind}");
    object
}

/// The CRD's schema for the object's apiVersion, after checking the CRD is for its kind.
fn schema_for<'a>(crd: &'a Value, object: &Value) -> &'a Value {
    let (group, version) = object["apiVersion"].as_str().unwrap().split_once('/').unwrap();
    assert_eq!(crd["spec"]["group"], group, "CRD group");
    assert_eq!(crd["spec"]["names"]["kind"], object["kind"], "CRD kind");
    let served = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["name"] == version && v["served"] == true);
    assert!(served, "{} is not served by the CRD", object["apiVersion"]);
    openapi_schema::crd_schema(crd, version)
}

#[test]
fn every_operator_object_is_valid_against_its_published_crd_schema() {
    for (overlay, kind, file) in OBJECTS {
        let definition = crd(file);
        let object = rendered(overlay, kind);
        let errors = openapi_schema::validate(&object, schema_for(&definition, &object));
        assert!(errors.is_empty(), "{overlay} {kind} against {file}:\n{}", errors.join("\n"));
        assert_eq!(object["metadata"]["namespace"], "monitoring", "{overlay} {kind}");
    }
}

#[test]
fn the_validator_rejects_what_the_schemas_forbid() {
    let monitors = crd("monitoring.coreos.com_servicemonitors.yaml");
    let good = rendered("prometheus-operator", "ServiceMonitor");
    let schema = schema_for(&monitors, &good);
    let mut bad = good.clone();
    bad["spec"]["endpoints"][0]["honourLabels"] = json!(true);
    bad["spec"]["endpoints"][0]["honorLabels"] = json!("yes");
    bad["spec"]["endpoints"][0]["interval"] = json!("30 seconds");
    bad["spec"]["endpoints"][0]["scheme"] = json!("ftp");
    bad["spec"].as_object_mut().unwrap().remove("selector");
    let mut errors = openapi_schema::validate(&bad, schema);
    errors.sort();
    let expected = [
        "spec.endpoints[0].honorLabels: expected a boolean",
        "spec.endpoints[0].honourLabels: unknown field",
        "spec.endpoints[0].interval: \"30 seconds\" does not match",
        "spec.endpoints[0].scheme: \"ftp\" is not one of",
        "spec: the required field selector is missing",
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for (error, want) in errors.iter().zip(expected) {
        assert!(error.starts_with(want), "{error:?} should start with {want:?}");
    }

    let vm = crd("operator.victoriametrics.com_vmrules.yaml");
    let mut rule = rendered("victoriametrics-operator", "VMRule");
    rule["spec"]["groups"][0]["rules"][0]["for"] = json!(3);
    rule["spec"]["groups"][0].as_object_mut().unwrap().remove("name");
    let errors = openapi_schema::validate(&rule, schema_for(&vm, &rule));
    assert_eq!(
        errors,
        [
            "spec.groups[0]: the required field name is missing",
            "spec.groups[0].rules[0].for: expected a string, got 3",
        ]
    );
}

#[test]
fn the_scrape_objects_scrape_the_base_service_metrics_port_with_honor_labels() {
    let base = manifests::kubectl_kustomize(Path::new("deploy/kubernetes/base"));
    let service = base.iter().find(|o| o["kind"] == "Service").expect("the base has a Service");
    let deployment = base.iter().find(|o| o["kind"] == "Deployment").expect("the base has a Deployment");
    let config =
        base.iter().find(|o| o["kind"] == "ConfigMap").unwrap()["data"]["config.yaml"].as_str().unwrap();
    let config: Value = serde_saphyr::from_str(config).unwrap();
    assert_eq!(config["export"]["prometheus"]["enabled"], true, "the base serves /metrics");
    let listen_port: u64 = config["export"]["prometheus"]["listen"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let service_port =
        service["spec"]["ports"].as_array().unwrap().iter().find(|p| p["name"] == "prometheus").unwrap();
    let container_port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == service_port["targetPort"])
        .expect("the Service's targetPort names a container port");
    assert_eq!(container_port["containerPort"].as_u64(), Some(listen_port));

    for (overlay, kind) in
        [("prometheus-operator", "ServiceMonitor"), ("victoriametrics-operator", "VMServiceScrape")]
    {
        let scrape = rendered(overlay, kind);
        let labels = service["metadata"]["labels"].as_object().unwrap();
        for (key, value) in scrape["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(labels.get(key), Some(value), "{kind} selects the base Service by {key}");
        }
        let endpoints = scrape["spec"]["endpoints"].as_array().unwrap();
        assert_eq!(endpoints.len(), 1, "{kind}");
        let endpoint = &endpoints[0];
        assert_eq!(endpoint["port"], service_port["name"], "{kind}");
        assert_eq!(endpoint["path"], "/metrics", "{kind}");
        assert_eq!(endpoint["honorLabels"], true, "{kind}");
        assert_eq!(scrape["metadata"]["namespace"], service["metadata"]["namespace"], "{kind}");
    }
}
