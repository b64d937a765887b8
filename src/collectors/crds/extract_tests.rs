//! Table-driven tests of `extract` over fixture objects, one table per metric type.

use serde_json::{json, Value};

use super::{compile_crds, extract, CompiledResource, CrdsConfig};

/// A resource with `namespace`/`name` commonLabels and the metrics in `metrics_yaml` (a flow list).
fn resource(metrics_yaml: &str) -> CompiledResource {
    let yaml = format!(
        "metricsNamespace: sealos\nresources:\n  - name: kb-cluster\n    gvr: {{group: apps.kubeblocks.io, version: v1alpha1, resource: clusters}}\n    commonLabels: {{namespace: metadata.namespace, name: metadata.name}}\n    metrics: {metrics_yaml}\n"
    );
    let config: CrdsConfig = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"));
    compile_crds(&config).unwrap_or_else(|e| panic!("{e}")).remove(0)
}

/// Points as `name{k=v,...} value`, sorted, and errors as `metric: reason`.
fn run(resource: &CompiledResource, object: &Value) -> (Vec<String>, Vec<String>) {
    let got = extract(resource, object);
    let mut points: Vec<String> = got
        .points
        .iter()
        .map(|p| {
            let attrs: Vec<String> =
                p.attributes.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            format!("{}{{{}}} {}", resource.metrics[p.metric.0 as usize].name, attrs.join(","), p.value)
        })
        .collect();
    points.sort();
    let errors = got.errors.iter().map(|e| format!("{}: {}", e.metric, e.reason)).collect();
    (points, errors)
}

fn object(status: Value) -> Value {
    json!({
        "apiVersion": "apps.kubeblocks.io/v1alpha1",
        "kind": "Cluster",
        "metadata": {"name": "db", "namespace": "prod", "labels": {"app.kubernetes.io/name": "pg", "tier": "data"}},
        "spec": {"replicas": 3, "memory": "5Gi", "paused": false, "version": 14},
        "status": status
    })
}

/// Runs `metrics_yaml` over each `(status, points, errors)` row; `errors` are substrings.
fn check(metrics_yaml: &str, rows: &[(Value, &[&str], &[&str])]) {
    let resource = resource(metrics_yaml);
    for (status, want_points, want_errors) in rows {
        let (points, errors) = run(&resource, &object(status.clone()));
        assert_eq!(points, *want_points, "{metrics_yaml} over status {status}");
        assert_eq!(errors.len(), want_errors.len(), "{metrics_yaml} over {status}: {errors:?}");
        for (got, want) in errors.iter().zip(want_errors.iter()) {
            assert!(got.contains(want), "{got:?} should contain {want:?}");
        }
    }
}

#[test]
fn info_has_common_and_own_labels() {
    check(
        r#"[{type: info, name: info, labels: {app: 'metadata.labels["app.kubernetes.io/name"]', version: spec.version, gone: spec.nothing}}]"#,
        &[(json!({}), &["sealos.kb_cluster.info{namespace=prod,name=db,app=pg,version=14} 1"], &[])],
    );
    check(
        "[{type: info, name: info, labels: {bad: spec}}]",
        &[(json!({}), &["sealos.kb_cluster.info{namespace=prod,name=db} 1"], &["sealos.kb_cluster.info: label bad (path spec): expected a string, number or boolean, found an object"])],
    );
}

#[test]
fn state_with_and_without_states() {
    check(
        "[{type: state, name: phase, path: status.phase}]",
        &[
            (json!({"phase": "Running"}), &["sealos.kb_cluster.phase{namespace=prod,name=db,state=Running} 1"], &[]),
            (json!({"phase": 2}), &["sealos.kb_cluster.phase{namespace=prod,name=db,state=2} 1"], &[]),
            (json!({}), &[], &[]),
            (json!({"phase": null}), &[], &[]),
            (json!({"phase": ["x"]}), &[], &["sealos.kb_cluster.phase: path status.phase: expected a string, number or boolean, found a list"]),
        ],
    );
    check(
        "[{type: string_state, name: phase, path: status.phase, valueLabel: phase, states: [Running, Failed]}]",
        &[
            (
                json!({"phase": "Failed"}),
                &[
                    "sealos.kb_cluster.phase{namespace=prod,name=db,phase=Failed} 1",
                    "sealos.kb_cluster.phase{namespace=prod,name=db,phase=Running} 0",
                ],
                &[],
            ),
            (
                json!({"phase": "Creating"}),
                &[
                    "sealos.kb_cluster.phase{namespace=prod,name=db,phase=Failed} 0",
                    "sealos.kb_cluster.phase{namespace=prod,name=db,phase=Running} 0",
                ],
                &[],
            ),
            (json!({}), &[], &[]),
        ],
    );
}

#[test]
fn gauge_converts_values_and_follows_nil_is_zero() {
    let rows: &[(Value, &[&str], &[&str])] = &[
        (json!({"v": 7}), &["sealos.kb_cluster.v{namespace=prod,name=db} 7"], &[]),
        (json!({"v": "250m"}), &["sealos.kb_cluster.v{namespace=prod,name=db} 0.25"], &[]),
        (json!({"v": "28%"}), &["sealos.kb_cluster.v{namespace=prod,name=db} 0.28"], &[]),
        (json!({"v": true}), &["sealos.kb_cluster.v{namespace=prod,name=db} 1"], &[]),
        (json!({"v": "Unknown"}), &["sealos.kb_cluster.v{namespace=prod,name=db} 0"], &[]),
        (json!({"v": "1970-01-01T00:01:00Z"}), &["sealos.kb_cluster.v{namespace=prod,name=db} 60"], &[]),
        (json!({}), &[], &[]),
        (json!({"v": null}), &[], &[]),
        (json!({"v": "lots"}), &[], &["sealos.kb_cluster.v: path status.v: cannot convert \"lots\""]),
        (
            json!({"v": {"a": 1}}),
            &[],
            &["sealos.kb_cluster.v: path status.v: expected a number, found an object"],
        ),
        (json!("not an object"), &[], &[]),
    ];
    check("[{type: gauge, name: v, path: status.v}]", rows);
    check(
        "[{type: gauge, name: v, path: status.v, nilIsZero: true}]",
        &[
            (json!({}), &["sealos.kb_cluster.v{namespace=prod,name=db} 0"], &[]),
            (json!({"v": null}), &["sealos.kb_cluster.v{namespace=prod,name=db} 0"], &[]),
            (json!({"v": "x"}), &[], &["cannot convert \"x\""]),
        ],
    );
    check(
        "[{type: gauge, name: memory, path: spec.memory, unit: By}]",
        &[(json!({}), &["sealos.kb_cluster.memory{namespace=prod,name=db} 5368709120"], &[])],
    );
}

#[test]
fn count_carries_only_its_value_label() {
    check(
        "[{type: count, name: by_phase, path: status.phase}]",
        &[
            (json!({"phase": "Running"}), &["sealos.kb_cluster.by_phase{value=Running} 1"], &[]),
            (json!({}), &[], &[]),
            (json!({"phase": {}}), &[], &["expected a string, number or boolean, found an object"]),
        ],
    );
    check(
        "[{type: count, name: by_version, path: spec.version, valueLabel: version}]",
        &[(json!({}), &["sealos.kb_cluster.by_version{version=14} 1"], &[])],
    );
    let r = resource("[{type: count, name: n, path: status.phase}]");
    assert_eq!(r.specs[0].aggregation, crate::series::Aggregation::SumAcrossObjects);
}

#[test]
fn map_state_over_maps_and_lists() {
    check(
        "[{type: map_state, name: features, path: status.features}]",
        &[
            (
                json!({"features": {"caching": "enabled", "logging": "disabled", "n": 1, "gone": null}}),
                &[
                    "sealos.kb_cluster.features{namespace=prod,name=db,key=caching,state=enabled} 1",
                    "sealos.kb_cluster.features{namespace=prod,name=db,key=logging,state=disabled} 1",
                    "sealos.kb_cluster.features{namespace=prod,name=db,key=n,state=1} 1",
                ],
                &[],
            ),
            (
                json!({"features": ["a", "b"]}),
                &[
                    "sealos.kb_cluster.features{namespace=prod,name=db,key=0,state=a} 1",
                    "sealos.kb_cluster.features{namespace=prod,name=db,key=1,state=b} 1",
                ],
                &[],
            ),
            (
                json!({"features": {"x": {"deep": 1}}}),
                &[],
                &["path status.features, entry \"x\": expected a string, number or boolean, found an object"],
            ),
            (
                json!({"features": "flat"}),
                &[],
                &["path status.features: expected a map or a list, found a string"],
            ),
            (json!({}), &[], &[]),
        ],
    );
    check(
        "[{type: map_state, name: members, path: status.members, keyPath: name, valuePath: role, keyLabel: member, valueLabel: role}]",
        &[(
            json!({"members": [{"name": "m0", "role": "leader"}, {"name": "m1", "role": "follower"}, {"name": "m2"}, {"role": "x"}]}),
            &[
                "sealos.kb_cluster.members{namespace=prod,name=db,member=m0,role=leader} 1",
                "sealos.kb_cluster.members{namespace=prod,name=db,member=m1,role=follower} 1",
            ],
            &["path status.members[3]: no key at name"],
        )],
    );
}

#[test]
fn map_gauge_over_entries_and_value_paths() {
    check(
        "[{type: map_gauge, name: usage, path: status.usage}]",
        &[(
            json!({"usage": {"cpu": "500m", "memory": "1Gi", "disk": 5000, "bad": "much"}}),
            &[
                "sealos.kb_cluster.usage{namespace=prod,name=db,key=cpu} 0.5",
                "sealos.kb_cluster.usage{namespace=prod,name=db,key=disk} 5000",
                "sealos.kb_cluster.usage{namespace=prod,name=db,key=memory} 1073741824",
            ],
            &["path status.usage, entry \"bad\": cannot convert \"much\""],
        )],
    );
    check(
        "[{type: map_gauge, name: lag, path: status.replicas, valuePath: lag, keyLabel: replica, nilIsZero: true}]",
        &[(
            json!({"replicas": {"r0": {"lag": 3}, "r1": {}}}),
            &[
                "sealos.kb_cluster.lag{namespace=prod,name=db,replica=r0} 3",
                "sealos.kb_cluster.lag{namespace=prod,name=db,replica=r1} 0",
            ],
            &[],
        )],
    );
}

#[test]
fn conditions_one_point_each() {
    check(
        "[{type: conditions, name: condition, path: status.conditions}]",
        &[
            (
                json!({"conditions": [
                    {"type": "Ready", "status": "True", "reason": "AllGood"},
                    {"type": "Synced", "status": "false"},
                    {"type": "Healthy", "status": "TRUE"},
                    {"type": "Odd", "status": "Unknown", "reason": "Waiting"},
                    {"status": "True"},
                    "junk"
                ]}),
                &[
                    "sealos.kb_cluster.condition{namespace=prod,name=db,type=Healthy,status=TRUE} 1",
                    "sealos.kb_cluster.condition{namespace=prod,name=db,type=Odd,status=Unknown,reason=Waiting} 0",
                    "sealos.kb_cluster.condition{namespace=prod,name=db,type=Ready,status=True,reason=AllGood} 1",
                    "sealos.kb_cluster.condition{namespace=prod,name=db,type=Synced,status=false} 0",
                ],
                &["path status.conditions[4]: a condition needs a type and a status", "path status.conditions[5]"],
            ),
            (json!({"conditions": {"Ready": "True"}}), &[], &["expected a list of conditions, found an object"]),
            (json!({}), &[], &[]),
        ],
    );
    check(
        "[{type: conditions, name: c, path: status.conditions, typeLabel: condition, statusLabel: s, reasonLabel: why}]",
        &[(
            json!({"conditions": [{"type": "Ready", "status": "True", "reason": "Ok"}]}),
            &["sealos.kb_cluster.c{namespace=prod,name=db,condition=Ready,s=True,why=Ok} 1"],
            &[],
        )],
    );
}

#[test]
fn common_labels_are_optional_and_errors_are_reported_once() {
    let r =
        resource("[{type: gauge, name: v, path: spec.replicas}, {type: count, name: n, path: spec.version}]");
    let odd = json!({"metadata": {"name": ["a"]}, "spec": {"replicas": 1, "version": "x"}});
    let (points, errors) = run(&r, &odd);
    assert_eq!(points, ["sealos.kb_cluster.n{value=x} 1", "sealos.kb_cluster.v{} 1"]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("sealos.kb_cluster: label name (path metadata.name)"), "{errors:?}");
}

#[test]
fn odd_objects_never_panic() {
    let all = "[{type: info, name: i}, {type: state, name: s, path: status.a, states: [A]}, {type: gauge, name: g, path: 'status.a[0]'}, {type: count, name: c, path: status.a}, {type: map_state, name: ms, path: status.a, keyPath: k}, {type: map_gauge, name: mg, path: status.a, valuePath: v}, {type: conditions, name: co, path: status.a}]";
    let r = resource(all);
    let odd = [
        json!(null),
        json!(1),
        json!("x"),
        json!([1, 2]),
        json!({"metadata": 5, "status": {"a": [null, 1, "x", [], {}]}}),
        json!({"status": {"a": {"k": null}}}),
        json!({"status": {"a": true}}),
        json!({"status": {"a": 1e300}}),
    ];
    for object in odd {
        let _ = extract(&r, &object);
    }
}
