//! `kube-state-otel render` end to end: the binary over the shipped example configs and
//! objects, checked line by line after the Prometheus translation.

use std::path::PathBuf;
use std::process::Output;

#[path = "support/check.rs"]
mod check;
#[path = "support/render.rs"]
mod render_support;

use render_support::stdout_of;

const SCOPE: &str = r#"instance="kso-0",job="kube-state-otel""#;

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn render(config: &str, objects: &[PathBuf], extra: &[&str]) -> Output {
    render_support::render(&example(config), objects, extra)
}

fn assert_lines(stdout: &str, want: &[String]) {
    for line in want {
        assert!(stdout.lines().any(|l| l == line), "missing line\n{line}\nin\n{stdout}");
    }
}

#[test]
fn kubeblocks_clusters_give_phase_components_conditions_and_counts() {
    let stdout = stdout_of(&render(
        "config/examples/kubeblocks/config.yaml",
        &[example("config/examples/kubeblocks/objects.yaml")],
        &[],
    ));
    let pg = r#"cluster="pg-orders""#;
    let redis = r#"cluster="redis-cache""#;
    assert_lines(
        &stdout,
        &[
            "# HELP sealos_kubeblocks_cluster_phase Cluster phase: 1 for the current phase, 0 for the others"
                .into(),
            "# TYPE sealos_kubeblocks_cluster_phase gauge".into(),
            format!(
                r#"sealos_kubeblocks_cluster_phase{{{pg},{SCOPE},namespace="ns-shop",state="Running"}} 1"#
            ),
        ],
    );
    let full = |s: &str| s.replace("@", r#"instance="kso-0",job="kube-state-otel""#);
    assert_lines(
        &stdout,
        &[
            full(&format!(
                r#"sealos_kubeblocks_cluster_phase{{{redis},@,namespace="ns-shop",state="Abnormal"}} 1"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_phase{{{redis},@,namespace="ns-shop",state="Running"}} 0"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_component_phase{{{redis},component="redis",@,namespace="ns-shop",phase="Abnormal"}} 1"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_component_phase{{{redis},component="redis-sentinel",@,namespace="ns-shop",phase="Running"}} 1"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_condition{{{pg},@,namespace="ns-shop",reason="ClusterReady",status="True",type="Ready"}} 1"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_condition{{{redis},@,namespace="ns-shop",reason="ComponentsNotReady",status="False",type="Ready"}} 0"#
            )),
            full(&format!(
                r#"sealos_kubeblocks_cluster_info{{{pg},cluster_definition="postgresql",cluster_version="postgresql-14.8.0",@,namespace="ns-shop",termination_policy="Delete"}} 1"#
            )),
            full(r#"sealos_kubeblocks_cluster_by_phase{@,phase="Abnormal"} 1"#),
            full(r#"sealos_kubeblocks_cluster_by_phase{@,phase="Running"} 1"#),
        ],
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("sealos_kubeblocks_cluster_phase{")).count(), 16);
    assert!(!stdout.contains("kube_state_otel"), "self-metrics leaked into render:\n{stdout}");
    let target = format!(
        r#"target_info{{instance="kso-0",job="kube-state-otel",service_version="{}",telemetry_sdk_language="rust",telemetry_sdk_name="opentelemetry"}} 1"#,
        env!("CARGO_PKG_VERSION")
    );
    assert_lines(&stdout, &[target]);
}

#[test]
fn cert_manager_certificates_give_readiness_expiry_and_issuer() {
    let stdout = stdout_of(&render(
        "config/examples/cert-manager/config.yaml",
        &[example("config/examples/cert-manager/objects.yaml")],
        &[],
    ));
    let shop = r#"name="shop-example-com",namespace="web""#;
    let api = r#"name="api-internal",namespace="web""#;
    let with = |s: String| s.replace("@", SCOPE);
    assert_lines(
        &stdout,
        &[
            "# TYPE certmanager_certificate_expiration_timestamp_seconds gauge".into(),
            with(format!("certmanager_certificate_expiration_timestamp_seconds{{@,{shop}}} 1.764585709e+09")),
            with(format!("certmanager_certificate_renewal_timestamp_seconds{{@,{shop}}} 1.761907309e+09")),
            with(format!("certmanager_certificate_ready_status{{@,{shop}}} 1")),
            with(format!("certmanager_certificate_ready_status{{@,{api}}} 0")),
            with(format!(r#"certmanager_certificate_condition{{@,{api},reason="DoesNotExist",status="True",type="Issuing"}} 1"#)),
            r#"certmanager_certificate_info{dns_name="shop.example.com",instance="kso-0",issuer_group="cert-manager.io",issuer_kind="ClusterIssuer",issuer_name="letsencrypt-prod",job="kube-state-otel",name="shop-example-com",namespace="web",secret_name="shop-example-com-tls"} 1"#.into(),
        ],
    );
    // A certificate not yet issued has no expiry: no point rather than a wrong one.
    assert!(!stdout.contains(r#"certmanager_certificate_expiration_timestamp_seconds{instance="kso-0",job="kube-state-otel",name="api-internal""#));
}

#[test]
fn argocd_applications_give_sync_and_health_states_and_counts() {
    let stdout =
        stdout_of(&render("config/examples/argocd/config.yaml", &[example("config/examples/argocd")], &[]));
    let with = |s: &str| s.replace("@", SCOPE);
    assert_lines(
        &stdout,
        &[
            with(r#"argocd_app_by_health{health_status="Degraded",@} 1"#),
            with(r#"argocd_app_by_health{health_status="Healthy",@} 2"#),
            with(
                r#"argocd_app_health_status{health_status="Degraded",@,name="payments",namespace="argocd",project="shop"} 1"#,
            ),
            with(
                r#"argocd_app_health_status{health_status="Healthy",@,name="payments",namespace="argocd",project="shop"} 0"#,
            ),
            with(
                r#"argocd_app_sync_status{@,name="payments",namespace="argocd",project="shop",sync_status="OutOfSync"} 1"#,
            ),
            with(
                r#"argocd_app_sync_status{@,name="grafana",namespace="argocd",project="platform",sync_status="Synced"} 1"#,
            ),
        ],
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("argocd_app_health_status{")).count(), 18);
}

/// Cookbook recipe (docs/cookbook.md): Argo CD applications out of sync, per project.
#[test]
fn cookbook_argocd_counts_applications_out_of_sync_per_project() {
    check::check_accepts(&example("config/examples/argocd/config.yaml"));
    let stdout =
        stdout_of(&render("config/examples/argocd/config.yaml", &[example("config/examples/argocd")], &[]));
    let out_of_sync: Vec<&str> = stdout.lines().filter(|l| l.starts_with("argocd_app_out_of_sync")).collect();
    // Only payments (project shop) is OutOfSync: a project with none has no point.
    assert_eq!(out_of_sync, [format!(r#"argocd_app_out_of_sync{{{SCOPE},project="shop"}} 1"#)], "{stdout}");
}

/// Cookbook recipe (docs/cookbook.md): certificate expiry and certificates not Ready.
#[test]
fn cookbook_cert_expiry_gives_expiry_earliest_per_namespace_and_not_ready_counts() {
    check::check_accepts(&example("config/examples/cert-expiry/config.yaml"));
    let out = render(
        "config/examples/cert-expiry/config.yaml",
        &[example("config/examples/cert-expiry/objects.yaml")],
        &[],
    );
    let stdout = stdout_of(&out);
    let aggregated: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.starts_with("certs_certificate_not_ready") || l.starts_with("certs_certificate_earliest")
        })
        .collect();
    assert_eq!(
        aggregated,
        [
            // 2025-12-10T08:03:14Z and 2026-02-28T10:41:49Z; api-internal has no notAfter.
            format!(
                r#"certs_certificate_earliest_not_after_seconds{{{SCOPE},ns="billing"}} 1.765353794e+09"#
            ),
            format!(r#"certs_certificate_earliest_not_after_seconds{{{SCOPE},ns="web"}} 1.772275309e+09"#),
            format!(r#"certs_certificate_not_ready{{{SCOPE},ns="web"}} 1"#),
        ],
        "{stdout}"
    );
    assert_lines(
        &stdout,
        &[
            "# TYPE certs_certificate_not_after_seconds gauge".into(),
            format!(
                r#"certs_certificate_not_after_seconds{{{SCOPE},name="billing-example-com",namespace="billing"}} 1.765353794e+09"#
            ),
            r#"certs_certificate_info{instance="kso-0",issuer="internal-ca",job="kube-state-otel",name="api-internal",namespace="web",ready="False"} 1"#.into(),
        ],
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("certs_certificate_not_after_seconds{")).count(), 2);
}

/// Cookbook recipe (docs/cookbook.md): Deployments with unavailable replicas.
#[test]
fn cookbook_deployments_give_unavailable_ratio_and_degraded_counts_per_namespace() {
    check::check_accepts(&example("config/examples/deployments/config.yaml"));
    let out = render(
        "config/examples/deployments/config.yaml",
        &[example("config/examples/deployments/objects.yaml")],
        &[],
    );
    let stdout = stdout_of(&out);
    let aggregated: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            l.starts_with("workloads_deployment_degraded")
                || l.starts_with("workloads_deployment_unavailable_replicas")
        })
        .collect();
    assert_eq!(
        aggregated,
        [
            format!(r#"workloads_deployment_degraded{{{SCOPE},ns="batch"}} 1"#),
            format!(r#"workloads_deployment_degraded{{{SCOPE},ns="shop"}} 1"#),
            format!(r#"workloads_deployment_unavailable_replicas{{{SCOPE},ns="batch"}} 1"#),
            format!(r#"workloads_deployment_unavailable_replicas{{{SCOPE},ns="shop"}} 2"#),
        ],
        "{stdout}"
    );
    let ratio = |name: &str, ns: &str, value: &str| {
        format!(r#"workloads_deployment_unavailable_ratio{{{SCOPE},name="{name}",namespace="{ns}"}} {value}"#)
    };
    assert_lines(
        &stdout,
        &[
            "# TYPE workloads_deployment_unavailable_ratio gauge".into(),
            ratio("web", "shop", "0"),
            ratio("api", "shop", "0.5"),
            ratio("worker", "batch", "1"),
            // replicas: 0 divides by nothing: the expression gives 0, not NaN.
            ratio("scaled-down", "batch", "0"),
        ],
    );
}

#[test]
fn pvc_fields_computed_fields_and_aggregations_render_as_in_the_spec_example() {
    let out = render("config/examples/pvc/config.yaml", &[example("config/examples/pvc/objects.yaml")], &[]);
    let stdout = stdout_of(&out);
    let series = |name: &str, attributes: &str, value: &str| {
        let attributes = if attributes.is_empty() { String::new() } else { format!(",{attributes}") };
        format!("storage_pvc_{name}{{{SCOPE}{attributes}}} {value}")
    };
    let over = |name: &str, ns: &str, value: &str| {
        series("overprovision", &format!(r#"name="{name}",namespace="{ns}""#), value)
    };
    assert_lines(
        &stdout,
        &[
            "# TYPE storage_pvc_bound_bytes gauge".into(),
            series("bound_bytes", r#"ns="team-a""#, "3.221225472e+09"),
            series("bound_bytes", r#"ns="team-b""#, "2.3622320128e+10"),
            series("claims", "", "5"),
            series("pending", "", "1"),
            // numpy.percentile([1, 2, 3, 4], 95) is 3.8499999999999996 in floating point too.
            series("p95_overprovision", "", "3.8499999999999996"),
            over("data-a", "team-a", "1"),
            over("data-b", "team-a", "2"),
            over("data-c", "team-b", "3"),
            over("data-d", "team-b", "4"),
            series("info", r#"name="data-e",namespace="team-b",phase="Pending""#, "1"),
        ],
    );
    let aggregated: Vec<&str> = stdout
        .lines()
        .filter(|l| {
            ["bound_bytes{", "claims{", "pending{", "p95_overprovision{"].iter().any(|m| l.contains(m))
        })
        .collect();
    assert_eq!(aggregated.len(), 5, "one point per group, no commonLabels:\n{stdout}");
    assert!(!stdout.contains(r#"name="data-e",namespace="team-b"} "#), "data-e has no overprovision");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("data-e") && stderr.contains("computed field overprovision"), "{stderr}");
    check::check_accepts(&example("config/examples/pvc/config.yaml"));
}

#[test]
fn the_main_example_config_renders_the_kubeblocks_objects() {
    let stdout = stdout_of(&render(
        "config/kube-state-otel.yaml",
        &[example("config/examples/kubeblocks/objects.yaml")],
        &[],
    ));
    assert!(stdout.contains("# TYPE sealos_kubeblocks_cluster_phase gauge"), "{stdout}");
    assert!(stdout.contains(r#"k8s_cluster_name="prod-east""#), "{stdout}");
}

#[test]
fn the_main_example_config_renders_nodes_and_pods() {
    let stdout = stdout_of(&render(
        "config/kube-state-otel.yaml",
        &[example("config/examples/nodes/objects.yaml"), example("config/examples/kubeblocks/objects.yaml")],
        &[],
    ));
    let w1 = r#"k8s_node_name="worker-1",k8s_node_uid="5c1f3a8e-0b7d-4d1e-9a53-1f2b3c4d5e61""#;
    let w2 = r#"k8s_node_name="worker-2",k8s_node_uid="7e2d4b9f-1c8e-4e2f-8b64-2a3c4d5e6f72""#;
    assert_lines(
        &stdout,
        &[
            format!("k8s_node_cpu_allocatable{{{SCOPE},{w1}}} 3.8"),
            format!("k8s_node_memory_allocatable_bytes{{{SCOPE},{w1}}} 1.610612736e+10"),
            // api-7d9f: 500m + 100m; the Succeeded pod's 2 cores do not count.
            format!("k8s_node_cpu_request{{{SCOPE},{w1}}} 0.6"),
            format!("k8s_node_memory_request_bytes{{{SCOPE},{w1}}} 6.03979776e+08"),
            format!("k8s_node_cpu_limit{{{SCOPE},{w1}}} 1"),
            format!(r#"k8s_node_pod_count{{{SCOPE},{w1},k8s_pod_status_phase="Succeeded"}} 1"#),
            format!(r#"k8s_node_pod_count{{{SCOPE},{w2},k8s_pod_status_phase="Running"}} 0"#),
            format!("k8s_node_unschedulable_ratio{{{SCOPE},{w2}}} 1"),
            format!(
                r#"k8s_node_condition_status{{{SCOPE},k8s_node_condition_status="unknown",k8s_node_condition_type="Ready",{w2}}} 1"#
            ),
            // The unscheduled Pending pod counts in the cluster totals only.
            format!(r#"k8s_cluster_pod_count{{{SCOPE},k8s_pod_status_phase="Pending"}} 1"#),
            format!(r#"k8s_cluster_node_count{{{SCOPE},ready="unknown"}} 1"#),
        ],
    );
    assert!(stdout.contains("# TYPE sealos_kubeblocks_cluster_phase gauge"), "{stdout}");
}

#[test]
fn objects_without_nodes_give_no_node_series() {
    let stdout = stdout_of(&render(
        "config/kube-state-otel.yaml",
        &[example("config/examples/kubeblocks/objects.yaml")],
        &[],
    ));
    assert!(!stdout.contains("k8s_cluster_pod_count"), "{stdout}");
}

#[test]
fn otlp_json_output_follows_the_otlp_json_mapping() {
    let stdout = stdout_of(&render(
        "config/examples/kubeblocks/config.yaml",
        &[example("config/examples/kubeblocks/objects.yaml")],
        &["--format", "otlp-json"],
    ));
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let metrics = doc["resourceMetrics"][0]["scopeMetrics"][0]["metrics"].as_array().unwrap();
    let phase =
        metrics.iter().find(|m| m["name"] == "sealos.kubeblocks_cluster.phase").expect("phase metric");
    assert_eq!(phase["description"], "Cluster phase: 1 for the current phase, 0 for the others");
    let points = phase["gauge"]["dataPoints"].as_array().unwrap();
    assert_eq!(points.len(), 16);
    assert!(points[0]["timeUnixNano"].is_string(), "{}", points[0]);
    assert!(metrics.iter().all(|m| !m["name"].as_str().unwrap().starts_with("kube_state_otel")));
}

#[test]
fn openmetrics_output_ends_with_eof() {
    let stdout = stdout_of(&render(
        "config/examples/argocd/config.yaml",
        &[example("config/examples/argocd/applications.json")],
        &["--format", "openmetrics"],
    ));
    assert!(stdout.ends_with("# EOF\n"), "{stdout}");
    assert!(stdout.contains(r#"argocd_app_by_health{health_status="Healthy",instance="kso-0""#));
}

#[test]
fn unusable_values_are_warned_about_with_file_object_and_metric() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("certs.yaml");
    std::fs::write(
        &file,
        "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: odd, namespace: web}\nstatus: {notAfter: soon}\n",
    )
    .unwrap();
    let out = render("config/examples/cert-manager/config.yaml", std::slice::from_ref(&file), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let want = format!(
        "warning: {}: Certificate web/odd: metric certmanager.certificate.expiration_timestamp:",
        file.display()
    );
    assert!(stderr.contains(&want), "{stderr}");
}

#[test]
fn unreadable_objects_fail_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: [unclosed\n").unwrap();
    let out = render("config/examples/kubeblocks/config.yaml", std::slice::from_ref(&bad), &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    let missing = dir.path().join("missing.yaml");
    let out = render("config/examples/kubeblocks/config.yaml", std::slice::from_ref(&missing), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&missing.display().to_string()));
}

#[test]
fn a_bad_config_fails_naming_the_file_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yaml");
    std::fs::write(&config, "collectors:\n  crds:\n    enabled: true\n    resources:\n      - name: x\n        gvr: {group: a.io, version: v1, resource: xs}\n        metrics:\n          - {type: nope, name: m, path: status.x}\n").unwrap();
    let out = render_support::render(&config, &[example("config/examples/kubeblocks/objects.yaml")], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}: collectors.crds.resources[0].metrics[0].type", config.display())),
        "{stderr}"
    );
}

const SELECTING: &str = r#"collectors:
  nodes: {enabled: false}
  crds:
    enabled: true
    resources:
      - name: pvc
        gvk: {group: "", version: v1, kind: PersistentVolumeClaim}
        namespaces: ["prod-*", "!prod-test"]
        labelSelector: "app in (db)"
        fieldSelector: metadata.name!=skip
        metrics:
          - {type: gauge, name: requested, path: spec.resources.requests.storage}
      - name: claim
        gvr: {version: v1, resource: persistentvolumeclaims}
        commonLabels: {}
        metrics:
          - {type: info, name: info}
      - name: capped
        gvr: {version: v1, resource: persistentvolumeclaims}
        maxSeries: 1
        metrics:
          - {type: info, name: info}
"#;

fn claim(namespace: &str, name: &str, app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {{name: {name}, namespace: {namespace}, labels: {{app: {app}}}}}\nspec: {{resources: {{requests: {{storage: 1Gi}}}}}}\n"
    )
}

/// Namespaces globs and exclusions, both selectors and the default commonLabels, as `run`
/// would apply them; a resource without identity attributes warns about its collisions, and
/// one over its `maxSeries` about the points dropped.
#[test]
fn render_selects_objects_like_the_watch_and_warns_about_collisions() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, SELECTING).unwrap();
    let objects = dir.path().join("claims.yaml");
    let claims = [
        claim("prod-a", "keep", "db"),
        claim("prod-test", "excluded", "db"),
        claim("dev", "elsewhere", "db"),
        claim("prod-a", "skip", "db"),
        claim("prod-b", "cache", "cache"),
    ];
    std::fs::write(&objects, claims.join("---\n")).unwrap();
    let out = render(config.to_str().unwrap(), std::slice::from_ref(&objects), &[]);
    let stdout = stdout_of(&out);
    let series: Vec<&str> = stdout.lines().filter(|l| l.starts_with("pvc_requested{")).collect();
    assert_eq!(
        series,
        [
            r#"pvc_requested{instance="kso-0",job="kube-state-otel",name="keep",namespace="prod-a"} 1.073741824e+09"#
        ],
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = format!("{}: PersistentVolumeClaim prod-a/keep", objects.display());
    let second = format!("{}: PersistentVolumeClaim prod-test/excluded", objects.display());
    let want = format!("warning: {second}: metric claim.info: collision with {first}");
    assert!(stderr.contains(&want), "{want}\nnot in\n{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("claim_info{")).count(), 1, "{stdout}");
    let dropped = format!(
        "warning: {second}: crds/capped: 1 points dropped beyond maxSeriesPerObject (1000) or maxSeries (1)"
    );
    assert!(stderr.contains(&dropped), "{dropped}\nnot in\n{stderr}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("capped_info{")).count(), 1, "{stdout}");
}

/// A team previews its MetricSource offline: the same names (its namespace first), its own
/// namespace only, and an invalid source's errors with their paths inside `spec`.
#[test]
fn a_metric_source_among_the_objects_is_rendered_as_the_agent_runs_it() {
    let source = example("config/examples/metricsource/source.yaml");
    let objects = example("config/examples/metricsource/objects.yaml");
    let stdout = stdout_of(&render(
        "config/examples/metricsource/config.yaml",
        &[source.clone(), objects.clone()],
        &[],
    ));
    let nightly = |n: u8| format!(r#"{SCOPE},name="nightly-{n}",namespace="shop-payments""#);
    assert_lines(
        &stdout,
        &[
            format!("shop_payments_backup_size_bytes{{{}}} 1.2884901888e+10", nightly(1)),
            format!(r#"shop_payments_backup_phase{{{},state="Failed"}} 1"#, nightly(2)),
            format!("shop_payments_backup_failed{{{SCOPE}}} 1"),
        ],
    );
    assert!(!stdout.contains("weekly-1"), "another team's object was read:\n{stdout}");

    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yaml");
    let text = std::fs::read_to_string(&source)
        .unwrap()
        .replace("path: status.phase, states", "path: status..phase, states");
    std::fs::write(
        &broken,
        text.replace("namespace: shop-payments", "namespace: shop-payments\n  labels: {}")
            .replace("  name: backup\n", "  name: backup\n  namespaces: [shop-orders]\n"),
    )
    .unwrap();
    // No `metricSources` key needed: a config without it (here, without crds) applies the same rules.
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "collectors:\n  nodes: {enabled: false}\n").unwrap();
    let out = render(config.to_str().unwrap(), &[broken, objects], &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let file = dir.path().join("broken.yaml");
    let prefix = format!("{}: MetricSource shop-payments/backups: ", file.display());
    assert!(
        stderr.contains(&format!("{prefix}generation 1 has 2 error(s) and is not applied; nothing runs")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{prefix}spec.namespaces[0]: a MetricSource reads only its own namespace")),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{prefix}spec.metrics[0].path: ")), "{stderr}");
}

#[test]
fn one_select_entry_covers_every_flux_cert_manager_and_crossplane_kind() {
    check::check_accepts(&example("config/examples/operators/config.yaml"));
    let out = render(
        "config/examples/operators/config.yaml",
        &[example("config/examples/operators/objects.yaml")],
        &[],
    );
    let stdout = stdout_of(&out);
    let point = |metric: &str, group: &str, kind: &str, rest: &str, value: u8| {
        format!(
            r#"operators_object_{metric}{{{SCOPE},k8s_resource_group="{group}",k8s_resource_kind="{kind}",{rest}}} {value}"#
        )
    };
    assert_lines(
        &stdout,
        &[
            point(
                "ready",
                "source.toolkit.fluxcd.io",
                "GitRepository",
                r#"name="platform",namespace="flux-system",reason="Succeeded""#,
                1,
            ),
            point(
                "ready",
                "kustomize.toolkit.fluxcd.io",
                "Kustomization",
                r#"name="apps",namespace="flux-system",reason="BuildFailed""#,
                0,
            ),
            point(
                "ready",
                "helm.toolkit.fluxcd.io",
                "HelmRelease",
                r#"name="ingress-nginx",namespace="ingress",reason="InstallSucceeded""#,
                1,
            ),
            point(
                "ready",
                "cert-manager.io",
                "Certificate",
                r#"name="shop-example-com",namespace="web",reason="Ready""#,
                1,
            ),
            format!(
                r#"operators_object_info{{api_version="pkg.crossplane.io/v1",{SCOPE},k8s_resource_group="pkg.crossplane.io",k8s_resource_kind="Provider",name="provider-aws-s3"}} 1"#
            ),
            format!(
                r#"operators_object_info{{api_version="helm.toolkit.fluxcd.io/v2",{SCOPE},k8s_resource_group="helm.toolkit.fluxcd.io",k8s_resource_kind="HelmRelease",name="ingress-nginx",namespace="ingress"}} 1"#
            ),
        ],
    );
    assert_eq!(stdout.lines().filter(|l| l.starts_with("operators_object_info{")).count(), 5, "{stdout}");
    // A Crossplane Provider has no Ready condition: no point rather than a wrong one.
    assert!(!stdout.contains(r#"operators_object_ready{instance="kso-0",job="kube-state-otel",k8s_resource_group="pkg.crossplane.io""#));
    assert!(!stdout.contains("CertificateRequest") && !stdout.contains("Deployment"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("crds/object: select matches 5 types in the given files: cert-manager.io/Certificate, helm.toolkit.fluxcd.io/HelmRelease, kustomize.toolkit.fluxcd.io/Kustomization, pkg.crossplane.io/Provider, source.toolkit.fluxcd.io/GitRepository"),
        "{stderr}"
    );
}
