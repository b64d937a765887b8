//! kube-state-metrics compatibility (SPEC §4.3), golden: every worked example of
//! kube-state-metrics' `docs/metrics/extend/customresourcestate-metrics.md`, a case of its
//! `custom_resource_metrics_test.go`, and Flux's real document, run through `render`. The
//! documents are kube-state-metrics' own, unchanged; the expected lines are kube-state-metrics'
//! series (written as it writes them), compared exactly after the Prometheus translation:
//! same names, labels, label values and values, plus the `instance`/`job` target labels a
//! scrape adds. Where the documentation's sample output is not what its code produces, the
//! code's series are expected and the comment says what differs (docs/kube-state-metrics.md).

use std::path::PathBuf;

#[path = "support/check.rs"]
mod check;
#[path = "support/exposition.rs"]
mod exposition;
#[path = "support/render.rs"]
mod render;

use exposition::{samples, Sample};

/// A file of `tests/fixtures/kube-state-metrics/`.
fn fixture(name: &str) -> String {
    std::fs::read_to_string(manifest(&format!("tests/fixtures/kube-state-metrics/{name}"))).unwrap()
}

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `render` of `objects` with `document` as the kube-state-metrics document (from a file).
fn render_document(document: &str, objects: &str) -> String {
    render::stdout_of(&render_with(document, "", objects))
}

/// Like `render_document`, with `settings` (flow-map entries) beside `configFile`, and the
/// whole output.
fn render_with(document: &str, settings: &str, objects: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let document_path = dir.path().join("custom-resource-state.yaml");
    std::fs::write(&document_path, document).unwrap();
    let config = dir.path().join("config.yaml");
    let source = format!("{{configFile: {}{settings}}}", document_path.display());
    std::fs::write(
        &config,
        format!("collectors:\n  nodes: {{enabled: false}}\n  crds:\n    kubeStateMetrics: {source}\n"),
    )
    .unwrap();
    let objects_path = dir.path().join("objects.yaml");
    std::fs::write(&objects_path, objects).unwrap();
    render::render(&config, &[objects_path], &[])
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
    let document = fixture("docs-single-values.yaml");
    let stdout = render_document(&document, &fixture("foo.yaml"));
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
    let document = fixture("docs-multiple-metrics-kitchen-sink.yaml");
    assert_series(
        &render_document(&document, &fixture("foo.yaml")),
        &[
            r#"kube_customresource_ready_count{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", active="1",custom_metric="yes",foo="bar",name="foo",key_bar="baz",key_qux="quxx",type="type-a",lorem_bar="baz",lorem_qux="quxx",crd_type="foo",} 2"#,
            r#"kube_customresource_ready_count{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", active="3",custom_metric="yes",foo="bar",name="foo",key_bar="baz",key_qux="quxx",type="type-b",lorem_bar="baz",lorem_qux="quxx",crd_type="foo",} 4"#,
        ],
    );
}

#[test]
fn non_map_arrays() {
    let document = fixture("docs-non-map-arrays.yaml");
    assert_series(
        &render_document(&document, &fixture("foo.yaml")),
        &[
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="my_other_foo"} 1"#,
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="foo_2"} 1"#,
            r#"kube_customresource_ref_info{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo",ref="foo_with_extensions"} 1"#,
        ],
    );
}

/// Two entries of one name are one family with the series of both. The documentation's
/// `target_api_version="apps/v1"` cannot come from `[apiVersion]` of a VerticalPodAutoscaler:
/// its code gives the object's own `autoscaling.k8s.io/v1`.
#[test]
fn same_metrics_with_different_labels() {
    let document = fixture("docs-same-metrics-with-different-labels.yaml");
    assert_series(
        &render_document(&document, &fixture("vpa.yaml")),
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
    let document = fixture("docs-vertical-pod-autoscaler-annotations.yaml");
    assert_series(
        &render_document(&document, &fixture("vpa.yaml")),
        &[
            r#"kube_customresource_annotations{customresource_group="autoscaling.k8s.io", customresource_kind="VerticalPodAutoscaler", customresource_version="v1", namespace="namespace-example",target_api_version="autoscaling.k8s.io/v1",target_kind="Deployment",target_name="target-name-example",verticalpodautoscaler="vpa-example"} 123"#,
        ],
    );
}

#[test]
fn all_vertical_pod_autoscaler_metrics() {
    let stdout = render::stdout_of(&render::render(
        &manifest("tests/fixtures/kube-state-metrics/vpa-config.yaml"),
        &[manifest("tests/fixtures/kube-state-metrics/vpa.yaml")],
        &[],
    ));
    let common = r#"customresource_group="autoscaling.k8s.io",customresource_kind="VerticalPodAutoscaler",customresource_version="v1",namespace="namespace-example",target_api_version="apps/v1",target_kind="Deployment",target_name="target-name-example",verticalpodautoscaler="vpa-example""#;
    let line = |name: &str, labels: &str, value: &str| {
        let labels = if labels.is_empty() { String::new() } else { format!(",{labels}") };
        format!("kube_verticalpodautoscaler_{name}{{{common}{labels}}} {value}")
    };
    let memory = r#"container="consumer",resource="memory",unit="byte""#;
    let cpu = r#"container="consumer",resource="cpu",unit="core""#;
    let policy =
        |bound: &str, resource: &str| format!("spec_resourcepolicy_container_policies_{bound}_{resource}");
    let recommended = |bound: &str, resource: &str| {
        format!("status_recommendation_containerrecommendations_{bound}_{resource}")
    };
    let lines = [
        line("annotations", r#"annotation_foo="123",annotation_note="not a number",name="vpa-example""#, "1"),
        line("labels", r#"label_team="shop",name="vpa-example""#, "1"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Auto""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Initial""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Off""#, "0"),
        line("spec_updatepolicy_updatemode", r#"update_mode="Recreate""#, "1"),
        line(&policy("minallowed", "memory"), memory, "6.7108864e+07"),
        line(&policy("minallowed", "cpu"), cpu, "0.05"),
        line(&policy("maxallowed", "memory"), memory, "1.073741824e+09"),
        line(&policy("maxallowed", "cpu"), cpu, "2"),
        line(&recommended("lowerbound", "memory"), memory, "123456"),
        line(&recommended("lowerbound", "cpu"), cpu, "0.1"),
        line(&recommended("target", "memory"), memory, "2.62144e+08"),
        line(&recommended("target", "cpu"), cpu, "0.25"),
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
    let document = fixture("docs-status-conditions-of-kubernetes-controllers.yaml");
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
        &render_document(&document, objects),
        &[
            r#"kube_customresource_foo_status{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo", namespace="ns", type="Ready"} 1.0"#,
            r#"kube_customresource_foo_status{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", name="foo", namespace="ns", type="Synced"} 0"#,
        ],
    );
}

#[test]
fn state_set() {
    let document = fixture("docs-state-set.yaml");
    assert_series(
        &render_document(&document, &fixture("foo.yaml")),
        &[
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Pending"} 1"#,
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Bar"} 0"#,
            r#"kube_customresource_status_phase{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1", phase="Baz"} 0"#,
        ],
    );
}

#[test]
fn info() {
    let document = fixture("docs-info.yaml");
    assert_series(
        &render_document(&document, &fixture("foo.yaml")),
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
        &render_document(&document("myteam_foos"), &fixture("foo.yaml")),
        &[
            r#"myteam_foos_uptime{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1"} 43.21"#,
        ],
    );
    assert_series(
        &render_document(&document("\"\""), &fixture("foo.yaml")),
        &[
            r#"uptime{customresource_group="myteam.io", customresource_kind="Foo", customresource_version="v1"} 43.21"#,
        ],
    );
}

#[test]
fn wildcard_version_and_kind_match_every_kind_of_the_group() {
    let document = fixture("docs-wildcard.yaml");
    let objects = "apiVersion: myteam.io/v1\nkind: Foo\nmetadata: {name: foo, namespace: ns}\n---\n\
                   apiVersion: myteam.io/v1\nkind: Bar\nmetadata: {name: bar, namespace: ns}\n---\n\
                   apiVersion: otherteam.io/v1\nkind: Foo\nmetadata: {name: other, namespace: ns}\n";
    assert_series(
        &render_document(&document, objects),
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
    let document = fixture("docs-info-over-a-map-with-label-from-key.yaml");
    let objects = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\n  \
                   annotations: {deployment.kubernetes.io/revision: \"3\", team: shop}\n";
    assert_series(
        &render_document(&document, objects),
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
    let stdout = render::stdout_of(&render::render(
        &config,
        &[manifest("config/examples/kube-state-metrics/objects.yaml")],
        &[],
    ));
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

/// The guards of native resources hold for the document's: two objects giving one series keep
/// the first (kube-state-metrics would write both lines), and `maxSeriesPerObject` drops the
/// rest of an object's series; `render` says so on stderr.
#[test]
fn collisions_and_series_limits_apply_to_document_series() {
    let two = "apiVersion: myteam.io/v1\nkind: Foo\nmetadata: {name: a}\nstatus: {uptime: 1}\n---\n\
               apiVersion: myteam.io/v1\nkind: Foo\nmetadata: {name: b}\nstatus: {uptime: 2}\n";
    let out = render_with(&fixture("docs-single-values.yaml"), "", two);
    let stdout = render::stdout_of(&out);
    assert_series(
        &stdout,
        &[
            r#"kube_customresource_uptime{customresource_group="myteam.io",customresource_kind="Foo",customresource_version="v1"} 1"#,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("metric kube_customresource_uptime: collision with"), "{stderr}");

    let out =
        render_with(&fixture("docs-non-map-arrays.yaml"), ", maxSeriesPerObject: 2", &fixture("foo.yaml"));
    let stdout = render::stdout_of(&out);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("kube_customresource_ref_info{")).count(),
        2,
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 points dropped beyond maxSeriesPerObject (2)"), "{stderr}");
}
