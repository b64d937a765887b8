//! kube-state-metrics compatibility (SPEC §4.3), golden: every worked example of
//! kube-state-metrics' `docs/metrics/extend/customresourcestate-metrics.md`, a case of its
//! `custom_resource_metrics_test.go`, and Flux's real document, run through `render`. The
//! documents are kube-state-metrics' own, unchanged; the expected lines are kube-state-metrics'
//! series (written as it writes them), compared exactly after the Prometheus translation:
//! same names, labels, label values and values, plus the `instance`/`job` target labels a
//! scrape adds. Where the documentation's sample output is not what its code produces, the
//! code's series are expected and the comment says what differs (docs/kube-state-metrics.md).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "support/check.rs"]
mod check;
#[path = "support/exposition.rs"]
mod exposition;

use exposition::{samples, Sample};

/// The documentation's custom resource (its `apiVersion: myteam.io/vl` read as `v1`, the
/// version its configs name).
const FOO: &str = r#"
kind: Foo
apiVersion: myteam.io/v1
metadata:
    annotations:
        bar: baz
        qux: quxx
    labels:
        foo: bar
    name: foo
spec:
    version: v1.2.3
    order:
        - id: 1
          value: true
        - id: 3
          value: false
    replicas: 1
    refs:
        - my_other_foo
        - foo_2
        - foo_with_extensions
status:
    phase: Pending
    active:
        type-a: 1
        type-b: 3
    conditions:
        - name: a
          value: 45
        - name: b
          value: 66
    sub:
        type-a:
            active: 1
            ready: 2
        type-b:
            active: 3
            ready: 4
    uptime: 43.21
"#;

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn run_render(config: &Path, objects: &[PathBuf]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kube-state-otel"))
        .arg("render")
        .arg("--config")
        .arg(config)
        .arg("--objects")
        .args(objects)
        .env("POD_NAME", "kso-0")
        .env_remove("OTEL_RESOURCE_ATTRIBUTES")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("KUBE_STATE_OTEL_CONFIG")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stdout_of(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// `render` of `objects` with `document` as the kube-state-metrics document (from a file).
fn render_document(document: &str, objects: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let document_path = dir.path().join("custom-resource-state.yaml");
    std::fs::write(&document_path, document).unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "collectors:\n  nodes: {{enabled: false}}\n  crds:\n    kubeStateMetrics:\n      configFile: {}\n",
            document_path.display()
        ),
    )
    .unwrap();
    let objects_path = dir.path().join("objects.yaml");
    std::fs::write(&objects_path, objects).unwrap();
    stdout_of(&run_render(&config, &[objects_path]))
}

/// The samples of the families `expected` names must be exactly `expected`, each with the
/// scrape's target labels.
fn assert_series(stdout: &str, expected: &[&str]) {
    let want: Vec<Sample> = expected.iter().map(|l| exposition::parse_line(l).unwrap()).collect();
    let families: Vec<&str> = want.iter().map(|s| s.name.as_str()).collect();
    let mut got: Vec<Sample> =
        samples(stdout).into_iter().filter(|s| families.contains(&s.name.as_str())).collect();
    for sample in &mut got {
        assert_eq!(sample.labels.remove("instance").as_deref(), Some("kso-0"), "{sample}");
        assert_eq!(sample.labels.remove("job").as_deref(), Some("kube-state-otel"), "{sample}");
    }
    let sorted = |samples: Vec<Sample>| {
        let mut lines: Vec<String> = samples.iter().map(ToString::to_string).collect();
        lines.sort();
        lines
    };
    assert_eq!(sorted(got), sorted(want), "\nrender printed:\n{stdout}");
}

#[test]
fn single_values() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      metrics:
        - name: "uptime"
          help: "Foo uptime"
          each:
            type: Gauge
            gauge:
              path: [status, uptime]
"#;
    let stdout = render_document(document, FOO);
    assert_series(
        &stdout,
        &[
            r#"kube_customresource_uptime{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1"} 43.21"#,
        ],
    );
    assert!(stdout.contains("# HELP kube_customresource_uptime Foo uptime\n"), "{stdout}");
    assert!(stdout.contains("# TYPE kube_customresource_uptime gauge\n"), "{stdout}");
}

/// The documentation leaves out two things its code does: the resource's `commonLabels`
/// (`crd_type="foo"`) are on every series, and `"**"` copies the annotations under `*` + key,
/// which label-name sanitising makes `_bar` and `_qux` (the documentation shows `bar`, `qux`);
/// the Collector's Prometheus translation then writes a label starting with one `_` as
/// `key_...`.
#[test]
fn multiple_metrics_kitchen_sink() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      # labels can be added to all metrics from a resource
      commonLabels:
        crd_type: "foo"
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: "ready_count"
          help: "Number Foo Bars ready"
          each:
            type: Gauge
            gauge:
              path: [status, sub]
              labelFromKey: type
              labelsFromPath:
                active: [active]
              valueFrom: [ready]
          commonLabels:
            custom_metric: "yes"
          labelsFromPath:
            "*": [metadata, labels]
            "lorem_*": [metadata, annotations]
            "**": [metadata, annotations]
            name: [metadata, name]
            foo: [metadata, labels, foo]
"#;
    assert_series(
        &render_document(document, FOO),
        &[
            r#"kube_customresource_ready_count{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", active="1",custom_metric="yes",foo="bar",name="foo",key_bar="baz",key_qux="quxx",type="type-a",lorem_bar="baz",lorem_qux="quxx",crd_type="foo",} 2"#,
            r#"kube_customresource_ready_count{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", active="3",custom_metric="yes",foo="bar",name="foo",key_bar="baz",key_qux="quxx",type="type-b",lorem_bar="baz",lorem_qux="quxx",crd_type="foo",} 4"#,
        ],
    );
}

#[test]
fn non_map_arrays() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      labelsFromPath:
        name: [metadata, name]
      metrics:
        - name: "ref_info"
          help: "Reference to other Foo"
          each:
            type: Info
            info:
              path: [spec, refs]
              labelsFromPath:
                ref: []
"#;
    assert_series(
        &render_document(document, FOO),
        &[
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="my_other_foo"} 1"#,
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="foo_2"} 1"#,
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="foo_with_extensions"} 1"#,
        ],
    );
}

const VPA: &str = r#"
apiVersion: autoscaling.k8s.io/v1
kind: VerticalPodAutoscaler
metadata:
  name: vpa-example
  namespace: namespace-example
  annotations:
    foo: "123"
    note: not a number
  labels:
    team: shop
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: target-name-example
  updatePolicy:
    updateMode: Recreate
  resourcePolicy:
    containerPolicies:
      - containerName: consumer
        minAllowed: {cpu: 50m, memory: 64Mi}
        maxAllowed: {cpu: "2", memory: 1Gi}
status:
  recommendation:
    containerRecommendations:
    - containerName: consumer
      lowerBound:
        cpu: 100m
        memory: "123456"
      target:
        cpu: 250m
        memory: 262144k
"#;

/// Two entries of one name are one family with the series of both. The documentation's
/// `target_api_version="apps/v1"` cannot come from `[apiVersion]` of a VerticalPodAutoscaler:
/// its code gives the object's own `autoscaling.k8s.io/v1`.
#[test]
fn same_metrics_with_different_labels() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: autoscaling.k8s.io
        kind: "VerticalPodAutoscaler"
        version: "v1"
      labelsFromPath:
        verticalpodautoscaler: [metadata, name]
        namespace: [metadata, namespace]
        target_api_version: [apiVersion]
        target_kind: [spec, targetRef, kind]
        target_name: [spec, targetRef, name]
      metrics:
        # for memory
        - name: "verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
          help: "Minimum memory resources the container can use before the VerticalPodAutoscaler updater evicts it."
          commonLabels:
            unit: "byte"
            resource: "memory"
          each:
            type: Gauge
            gauge:
              path: [status, recommendation, containerRecommendations]
              labelsFromPath:
                container: [containerName]
              valueFrom: [lowerBound, memory]
        # for CPU
        - name: "verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound"
          help: "Minimum cpu resources the container can use before the VerticalPodAutoscaler updater evicts it."
          commonLabels:
            unit: "core"
            resource: "cpu"
          each:
            type: Gauge
            gauge:
              path: [status, recommendation, containerRecommendations]
              labelsFromPath:
                container: [containerName]
              valueFrom: [lowerBound, cpu]
"#;
    assert_series(
        &render_document(document, VPA),
        &[
            r#"kube_customresource_verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound{container="consumer",customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",customresource_version="v1",namespace="namespace-example",resource="memory",target_api_version="autoscaling.k8s.io/v1",target_kind="Deployment",target_name="target-name-example",unit="byte",verticalpodautoscaler="vpa-example"} 123456"#,
            r#"kube_customresource_verticalpodautoscaler_status_recommendation_containerrecommendations_lowerbound{container="consumer",customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",customresource_version="v1",namespace="namespace-example",resource="cpu",target_api_version="autoscaling.k8s.io/v1",target_kind="Deployment",target_name="target-name-example",unit="core",verticalpodautoscaler="vpa-example"} 0.1"#,
        ],
    );
}

/// The documentation names the output `kube_customresource_autoscaling_annotations`; its
/// code names it after the metric, `kube_customresource_annotations`. A map gives one value
/// per entry that converts to a number (`foo: "123"`); the others are skipped silently.
#[test]
fn vertical_pod_autoscaler_annotations() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: autoscaling.k8s.io
        kind: "VerticalPodAutoscaler"
        version: "v1"
      labelsFromPath:
        verticalpodautoscaler: [metadata, name]
        namespace: [metadata, namespace]
        target_api_version: [apiVersion]
        target_kind: [spec, targetRef, kind]
        target_name: [spec, targetRef, name]
      metrics:
        - name: "annotations"
          help: "Kubernetes annotations converted to Prometheus labels."
          each:
            type: Gauge
            gauge:
              path: [metadata, annotations]
"#;
    assert_series(
        &render_document(document, VPA),
        &[
            r#"kube_customresource_annotations{customresource_group="autoscaling.k8s.io", customresource_kind="VerticalPodAutoscaler", customresource_version="v1", namespace="namespace-example",target_api_version="autoscaling.k8s.io/v1",target_kind="Deployment",target_name="target-name-example",verticalpodautoscaler="vpa-example"} 123"#,
        ],
    );
}

#[test]
fn all_vertical_pod_autoscaler_metrics() {
    let stdout = stdout_of(&run_render(
        &manifest("tests/fixtures/kube-state-metrics/vpa-config.yaml"),
        &[manifest("tests/fixtures/kube-state-metrics/vpa.yaml")],
    ));
    let common = r#"customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",customresource_version="v1",namespace="namespace-example",target_api_version="apps/v1",target_kind="Deployment",target_name="target-name-example",verticalpodautoscaler="vpa-example""#;
    let line = |name: &str, labels: &str, value: &str| {
        let labels = if labels.is_empty() { String::new() } else { format!(",{labels}") };
        format!("kube_verticalpodautoscaler_{name}{{{common}{labels}}} {value}")
    };
    let lines = [
        line("annotations", r#"annotation_foo="123",annotation_note="not a number",name="vpa-example""#, "1"),
        line("labels", r#"label_team="shop",name="vpa-example""#, "1"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Auto""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Initial""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Off""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Recreate""#, "1"),
        line(
            "spec_resourcepolicy_container_policies_minallowed_memory",
            r#"container="consumer",resource="memory",unit="byte""#,
            "6.7108864e+07",
        ),
        line(
            "spec_resourcepolicy_container_policies_minallowed_cpu",
            r#"container="consumer",resource="cpu",unit="core""#,
            "0.05",
        ),
        line(
            "spec_resourcepolicy_container_policies_maxallowed_memory",
            r#"container="consumer",resource="memory",unit="byte""#,
            "1.073741824e+09",
        ),
        line(
            "spec_resourcepolicy_container_policies_maxallowed_cpu",
            r#"container="consumer",resource="cpu",unit="core""#,
            "2",
        ),
        line(
            "status_recommendation_containerrecommendations_lowerbound_memory",
            r#"container="consumer",resource="memory",unit="byte""#,
            "123456",
        ),
        line(
            "status_recommendation_containerrecommendations_lowerbound_cpu",
            r#"container="consumer",resource="cpu",unit="core""#,
            "0.1",
        ),
        line(
            "status_recommendation_containerrecommendations_target_memory",
            r#"container="consumer",resource="memory",unit="byte""#,
            "2.62144e+08",
        ),
        line(
            "status_recommendation_containerrecommendations_target_cpu",
            r#"container="consumer",resource="cpu",unit="core""#,
            "0.25",
        ),
    ];
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    assert_series(&stdout, &lines);
    // Families whose values the object lacks (upperBound, uncappedTarget) have no series.
    assert!(
        !stdout.contains(
            "kube_verticalpodautoscaler_status_recommendation_containerrecommendations_upperbound_memory{"
        ),
        "{stdout}"
    );
    check::check_accepts(&manifest("tests/fixtures/kube-state-metrics/vpa-config.yaml"));
}

#[test]
fn status_conditions_of_kubernetes_controllers() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
  - groupVersionKind:
      group: myteam.io
      kind: "Foo"
      version: "v1"
    labelsFromPath:
      name:
      - metadata
      - name
      namespace:
      - metadata
      - namespace
    metrics:
    - name: "foo_status"
      help: "status condition "
      each:
        type: Gauge
        gauge:
          path: [status, conditions]
          labelsFromPath:
            type: ["type"]
          valueFrom: ["status"]
"#;
    let objects = r#"
apiVersion: myteam.io/v1
kind: Foo
metadata: {name: foo, namespace: ns}
status:
  conditions:
    - lastTransitionTime: "2019-10-22T16:29:31Z"
      status: "True"
      type: Ready
    - status: "Unknown"
      type: Synced
"#;
    assert_series(
        &render_document(document, objects),
        &[
            r#"kube_customresource_foo_status{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo", namespace="ns", type="Ready"} 1.0"#,
            r#"kube_customresource_foo_status{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo", namespace="ns", type="Synced"} 0"#,
        ],
    );
}

#[test]
fn state_set() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      metrics:
        - name: "status_phase"
          help: "Foo status_phase"
          each:
            type: StateSet
            stateSet:
              labelName: phase
              path: [status, phase]
              list: [Pending, Bar, Baz]
"#;
    assert_series(
        &render_document(document, FOO),
        &[
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Pending"} 1"#,
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Bar"} 0"#,
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Baz"} 0"#,
        ],
    );
}

#[test]
fn info() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: myteam.io
        kind: "Foo"
        version: "v1"
      metrics:
        - name: "version"
          help: "Foo version"
          each:
            type: Info
            info:
              labelsFromPath:
                version: [spec, version]
"#;
    assert_series(
        &render_document(document, FOO),
        &[
            r#"kube_customresource_version{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", version="v1.2.3"} 1"#,
        ],
    );
}

#[test]
fn naming_with_a_prefix_and_without() {
    let document = |prefix: &str| {
        format!(
            "kind: CustomResourceStateMetrics\nspec:\n  resources:\n    - groupVersionKind: {{group: myteam.io, kind: Foo, version: v1}}\n      \
             metricNamePrefix: {prefix}\n      metrics:\n        - name: uptime\n          each: {{type: Gauge, gauge: {{path: [status, uptime]}}}}\n"
        )
    };
    assert_series(
        &render_document(&document("myteam_foos"), FOO),
        &[
            r#"myteam_foos_uptime{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1"} 43.21"#,
        ],
    );
    assert_series(
        &render_document(&document("\"\""), FOO),
        &[
            r#"uptime{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1"} 43.21"#,
        ],
    );
}

#[test]
fn wildcard_version_and_kind_match_every_kind_of_the_group() {
    let document = r#"
kind: CustomResourceStateMetrics
spec:
  resources:
    - groupVersionKind:
        group: "myteam.io"
        version: "*"
        kind: "*"
      metrics:
        - name: "myobject_info"
          help: "Foo Bar Baz"
          each:
            type: Info
            info:
              path: [metadata]
              labelsFromPath:
                object: [name]
                namespace: [namespace]
"#;
    let objects = "apiVersion: myteam.io/v1\nkind: Foo\nmetadata: {name: foo, namespace: ns}\n---\n\
                   apiVersion: myteam.io/v1\nkind: Bar\nmetadata: {name: bar, namespace: ns}\n---\n\
                   apiVersion: otherteam.io/v1\nkind: Foo\nmetadata: {name: other, namespace: ns}\n";
    assert_series(
        &render_document(document, objects),
        &[
            r#"kube_customresource_myobject_info{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1",namespace="ns",object="foo"} 1"#,
            r#"kube_customresource_myobject_info{customresource_group="myteam.io",customresource_kind="Bar",customresource_version="v1",namespace="ns",object="bar"} 1"#,
        ],
    );
}

/// `custom_resource_metrics_test.go`, "cr metric with dynamic metric type": an Info over a
/// map with `labelFromKey`, one series per annotation.
#[test]
fn info_over_a_map_with_label_from_key() {
    let document = r#"
spec:
  resources:
    - groupVersionKind: {group: apps, version: v1, kind: Deployment}
      labelsFromPath:
        name: [metadata, name]
      commonLabels:
        hello: world
      metrics:
        - name: test_metrics
          help: metrics for testing
          each:
            type: info
            info:
              path: [metadata, annotations]
              labelFromKey: test
"#;
    let objects = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  \
                   annotations: {deployment.kubernetes.io/revision: \"3\", team: shop}\n";
    assert_series(
        &render_document(document, objects),
        &[
            r#"kube_customresource_test_metrics{customresource_group="apps",customresource_kind="Deployment",customresource_version="v1",hello="world",name="web",test="deployment.kubernetes.io/revision"} 1"#,
            r#"kube_customresource_test_metrics{customresource_group="apps",customresource_kind="Deployment",customresource_version="v1",hello="world",name="web",test="team"} 1"#,
        ],
    );
}

/// Flux's document, unchanged, over Flux objects: `gotk_resource_info` exactly as Flux's
/// dashboards read it from kube-state-metrics, beside a native resource of the same collector.
#[test]
fn flux_gotk_resource_info() {
    let config = manifest("config/examples/kube-state-metrics/config.yaml");
    let stdout =
        stdout_of(&run_render(&config, &[manifest("config/examples/kube-state-metrics/objects.yaml")]));
    let revision = "main@sha1:5f4a6f0c2d8e1b7a9c3d4e5f60718293a4b5c6d7";
    let flux_system = format!(
        r#"gotk_resource_info{{customresource_group="kustomize.toolkit.fluxcd.io",customresource_kind="Kustomization",customresource_version="v1",exported_namespace="flux-system",name="flux-system",ready="True",revision="{revision}",source_name="flux-system",suspended="false"}} 1"#
    );
    let git = format!(
        r#"gotk_resource_info{{customresource_group="source.toolkit.fluxcd.io",customresource_kind="GitRepository",customresource_version="v1",exported_namespace="flux-system",name="flux-system",ready="True",revision="{revision}",url="ssh://git@github.com/example/fleet"}} 1"#
    );
    let lines = [
        flux_system.as_str(),
        r#"gotk_resource_info{customresource_group="kustomize.toolkit.fluxcd.io",customresource_kind="Kustomization",customresource_version="v1",exported_namespace="flux-system",name="apps",ready="False",source_name="flux-system",suspended="true"} 1"#,
        r#"gotk_resource_info{customresource_group="helm.toolkit.fluxcd.io",customresource_kind="HelmRelease",customresource_version="v2",exported_namespace="apps",name="podinfo",ready="True",revision="6.7.1",chart_name="podinfo",chart_app_version="6.7.1",chart_source_name="podinfo"} 1"#,
        git.as_str(),
        r#"gotk_resource_info{customresource_group="source.toolkit.fluxcd.io",customresource_kind="HelmRepository",customresource_version="v1",exported_namespace="apps",name="podinfo",url="https://stefanprodan.github.io/podinfo"} 1"#,
        r#"gotk_resource_info{customresource_group="notification.toolkit.fluxcd.io",customresource_kind="Alert",customresource_version="v1beta3",exported_namespace="flux-system",name="on-call",suspended="false"} 1"#,
    ];
    assert_series(&stdout, &lines);
    assert!(stdout.contains("# TYPE gotk_resource_info gauge\n"), "{stdout}");
    // The native resource beside it keeps its own naming.
    assert!(
        stdout.lines().any(|l| l.starts_with("flux_kustomization_last_handled_reconcile_seconds{")
            && l.contains(r#"name="flux-system""#)
            && l.ends_with(" 1.7960256e+09")),
        "{stdout}"
    );
    let summary = check::check_accepts(&config);
    assert!(summary.contains("crds/ksm:kustomize.toolkit.fluxcd.io/v1/Kustomization"), "{summary}");
}
