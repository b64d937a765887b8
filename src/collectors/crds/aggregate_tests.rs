//! Fields, computed fields and aggregations end to end inside the crate: config → compile →
//! extract → series table → the values an export reads.

use serde_json::{json, Value};

use super::{compile_crds, extract, CompiledResource, CrdsConfig};
use crate::series::SeriesTable;

const HEAD: &str = "resources:\n  - name: pvc\n    gvr: {group: '', version: v1, resource: persistentvolumeclaims}\n    commonLabels: {name: metadata.name}\n";

const FIELDS: &str = "    fields:
      - {name: provisioned, path: status.capacity.storage, type: quantity}
      - {name: requested, path: spec.resources.requests.storage, type: quantity, default: 0}
      - {name: phase, path: status.phase, type: string}
      - {name: ns, path: metadata.namespace, type: string}
";

fn compile(rest: &str) -> Result<CompiledResource, Vec<String>> {
    let yaml = format!("{HEAD}{rest}");
    let config: CrdsConfig = serde_saphyr::from_str(&yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"));
    compile_crds(&config)
        .map(|mut r| r.remove(0))
        .map_err(|issues| issues.iter().map(|i| format!("{}: {}", i.path, i.message)).collect())
}

fn pvc(name: &str, ns: &str, requested: &str, provisioned: Option<&str>, phase: &str) -> Value {
    let mut status = json!({"phase": phase});
    if let Some(p) = provisioned {
        status["capacity"] = json!({"storage": p});
    }
    json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"resources": {"requests": {"storage": requested}}},
        "status": status
    })
}

/// Every series of `resource`'s table after `objects` were extracted into it, as
/// `name{k=v} value`, sorted; and the extraction errors.
fn read(
    resource: &CompiledResource,
    table: &SeriesTable,
    objects: &[(&str, Value)],
) -> (Vec<String>, Vec<String>) {
    let mut errors = Vec::new();
    for (key, object) in objects {
        let extracted = extract(resource, object);
        errors.extend(extracted.errors.iter().map(|e| format!("{}: {}", e.metric, e.reason)));
        table.replace(key, extracted.points);
    }
    let mut lines = Vec::new();
    for (i, spec) in resource.specs.iter().enumerate() {
        table.observe(crate::series::MetricId(i as u32), |value, attributes| {
            let attrs: Vec<String> = attributes.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect();
            lines.push(format!("{}{{{}}} {value}", spec.name, attrs.join(",")));
        });
    }
    lines.sort();
    (lines, errors)
}

#[test]
fn spec_pvc_example_computes_fields_metrics_and_aggregations() {
    let resource = compile(&format!(
        "{FIELDS}    computed:
      - {{name: overprovision, expression: \"requested > 0.0 ? provisioned / requested : 0.0\"}}
    metrics:
      - {{type: gauge, name: overprovision, field: overprovision, labels: {{phase: 'field:phase'}}}}
    aggregations:
      - {{name: bound_bytes, function: sum, field: provisioned, filter: \"phase == 'Bound'\", groupBy: [ns]}}
      - {{name: claims, function: count}}
      - {{name: pending, function: count, filter: {{field: phase, operator: equals, value: Pending}}}}
      - {{name: p95_overprovision, function: percentile, percentile: 95, field: overprovision}}
      - {{name: phases, function: distinct, field: phase}}
"
    ))
    .unwrap();
    let table = SeriesTable::new("t", resource.specs.clone());
    let objects = [
        ("a", pvc("a", "team-a", "1Gi", Some("1Gi"), "Bound")),
        ("b", pvc("b", "team-a", "1Gi", Some("2Gi"), "Bound")),
        ("c", pvc("c", "team-b", "2Gi", Some("6Gi"), "Bound")),
        ("d", pvc("d", "team-b", "4Gi", Some("16Gi"), "Bound")),
        ("e", pvc("e", "team-b", "1Gi", None, "Pending")),
    ];
    let (lines, errors) = read(&resource, &table, &objects);
    assert_eq!(
        lines,
        [
            "pvc.bound_bytes{ns=team-a} 3221225472",
            "pvc.bound_bytes{ns=team-b} 23622320128",
            "pvc.claims{} 5",
            "pvc.overprovision{name=a,phase=Bound} 1",
            "pvc.overprovision{name=b,phase=Bound} 2",
            "pvc.overprovision{name=c,phase=Bound} 3",
            "pvc.overprovision{name=d,phase=Bound} 4",
            // numpy.percentile([1, 2, 3, 4], 95) prints 3.8499999999999996 too (rank 0.95 * 3 in
            // floating point); e has no provisioned size: left out.
            "pvc.p95_overprovision{} 3.8499999999999996",
            "pvc.pending{} 1",
            "pvc.phases{} 2",
        ]
    );
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].starts_with("pvc: computed field overprovision: CEL"), "{errors:?}");

    // team-a's claims go: its group disappears; the others are updated.
    table.remove("a");
    table.remove("b");
    let (lines, _) = read(&resource, &table, &[]);
    assert!(lines.contains(&"pvc.bound_bytes{ns=team-b} 23622320128".to_owned()));
    assert!(!lines.iter().any(|l| l.contains("team-a")), "{lines:?}");
    assert!(lines.contains(&"pvc.claims{} 3".to_owned()));
    table.clear();
    let (lines, _) = read(&resource, &table, &[]);
    assert_eq!(lines, ["pvc.claims{} 0", "pvc.pending{} 0", "pvc.phases{} 0"], "empty-set rules");
}

#[test]
fn computed_fields_chain_and_fail_or_yield_null_per_object() {
    let resource = compile(&format!(
        "{FIELDS}    computed:
      - {{name: ratio, expression: \"provisioned / requested\"}}
      - {{name: doubled, expression: \"ratio * 2.0\"}}
      - {{name: nothing, expression: \"phase == 'Lost' ? null : phase\"}}
    metrics:
      - {{type: gauge, name: doubled, field: doubled}}
      - {{type: info, name: info, labels: {{nothing: 'field:nothing'}}}}
"
    ))
    .unwrap();
    let table = SeriesTable::new("t", resource.specs.clone());
    let (lines, errors) = read(
        &resource,
        &table,
        &[("a", pvc("a", "n", "1Gi", Some("3Gi"), "Bound")), ("b", pvc("b", "n", "1Gi", None, "Lost"))],
    );
    assert_eq!(
        lines,
        ["pvc.doubled{name=a} 6", "pvc.info{name=a,nothing=Bound} 1", "pvc.info{name=b} 1"],
        "b: provisioned is null, so ratio fails and doubled too; nothing is null"
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].starts_with("pvc: computed field ratio: CEL"), "{errors:?}");
    assert!(errors[1].starts_with("pvc: computed field doubled: CEL"), "{errors:?}");
    assert_eq!(errors[2], "pvc: computed field nothing: yields null");
}

#[test]
fn conversion_errors_are_counted_and_defaults_apply() {
    let resource = compile(
        "    fields:
      - {name: size, path: spec.size, type: quantity, default: 1Ki}
      - {name: count, path: spec.count, type: integer}
      - {name: kind, path: kind, type: string}
    metrics:
      - {type: gauge, name: size, field: size}
      - {type: gauge, name: count, field: count, nilIsZero: true}
      - {type: gauge, name: kind, field: kind}
",
    )
    .unwrap();
    let table = SeriesTable::new("t", resource.specs.clone());
    let object =
        json!({"kind": "Claim", "metadata": {"name": "x"}, "spec": {"size": "lots", "count": "many"}});
    let (lines, errors) = read(&resource, &table, &[("x", object)]);
    assert_eq!(lines, ["pvc.count{name=x} 0", "pvc.size{name=x} 1024"]);
    assert_eq!(
        errors,
        [
            "pvc: field size (path spec.size): expected a quantity such as \"250m\" or \"5Gi\", found \"lots\"",
            "pvc: field count (path spec.count): expected an integer, found \"many\"",
            "pvc.kind: field value \"Claim\" is not a number",
        ]
    );
}

#[test]
fn cel_cost_limit_stops_costly_evaluations() {
    let resource = compile(
        "    celCostLimit: 100
    computed:
      - {name: big, expression: \"object.spec.items.all(i, i > 0)\"}
      - {name: small, expression: \"1 + 1\"}
    metrics:
      - {type: gauge, name: small, field: small}
",
    )
    .unwrap();
    let table = SeriesTable::new("t", resource.specs.clone());
    let object = json!({"metadata": {"name": "x"}, "spec": {"items": [1, 2, 3, 4, 5, 6, 7, 8]}});
    let (lines, errors) = read(&resource, &table, &[("x", object)]);
    assert_eq!(lines, ["pvc.small{name=x} 2"]);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("exceeds celCostLimit 100"), "{errors:?}");
}

#[test]
fn compile_errors_have_paths_and_cel_columns() {
    let at = "collectors.crds.resources[0]";
    let cases: &[(&str, &str)] = &[
        ("    fields: [{name: namespace, path: a, type: string}]\n", "fields[0].name: \"namespace\" is a reserved word"),
        ("    fields: [{name: in, path: a, type: string}]\n", "fields[0].name: \"in\" is a reserved word"),
        (
            "    fields: [{name: a, path: a, type: string}, {name: a, path: b, type: string}]\n",
            "fields[1].name: duplicate field name \"a\"",
        ),
        (
            "    fields: [{name: a, path: a, type: string}]\n    computed: [{name: a, expression: '1'}]\n",
            "computed[0].name: duplicate field name \"a\"",
        ),
        ("    fields: [{name: a, path: a, type: text}]\n", "fields[0].type: unknown field type \"text\""),
        ("    fields: [{name: a, path: a, type: integer, default: x}]\n", "fields[0].default: expected an integer"),
        ("    computed: [{name: a, expression: '1 + '}]\n", "computed[0].expression: CEL syntax error at column 5"),
        ("    computed: [{name: a, expression: 'nope + 1'}]\n", "computed[0].expression: undeclared reference to \"nope\""),
        (
            "    fields: [{name: phase, path: a, type: string}]\n    computed: [{name: a, expression: 'phase + 1'}]\n",
            "computed[0].expression: type error",
        ),
        (
            "    computed: [{name: a, expression: 'b + 1'}, {name: b, expression: '1'}]\n",
            "computed[0].expression: undeclared reference to \"b\"",
        ),
        ("    aggregations: [{name: x, function: mode, field: a}]\n", "aggregations[0].function: unknown function \"mode\"; expected one of count, sum, avg, min, max, median, percentile, distinct"),
        ("    aggregations: [{name: x, function: sum}]\n", "aggregations[0].field: required for the sum function"),
        ("    aggregations: [{name: x, function: sum, field: nope}]\n", "aggregations[0].field: unknown field \"nope\""),
        ("    aggregations: [{name: x, function: count, groupBy: [nope]}]\n", "aggregations[0].groupBy[0]: unknown field \"nope\""),
        ("    aggregations: [{name: x, function: count, groupBy: nope}]\n", "aggregations[0].groupBy: unknown field \"nope\""),
        ("    aggregations: [{name: x, function: percentile, percentile: 101, field: a}]\n", "aggregations[0].percentile: expected 0 to 100"),
        ("    aggregations: [{name: x, function: count, filter: 'nope'}]\n", "aggregations[0].filter: undeclared reference to \"nope\""),
        ("    aggregations: [{name: x, function: count, filter: {field: nope, operator: equals, value: 1}}]\n", "aggregations[0].filter.field: unknown field \"nope\""),
        (
            "    metrics: [{type: info, name: x}]\n    aggregations: [{name: x, function: count}]\n",
            "aggregations[0].name: \"pvc.x\" is already the name of a metric",
        ),
        ("    metrics: [{type: gauge, name: x, field: nope}]\n", "metrics[0].field: unknown field \"nope\""),
        ("    metrics: [{type: state, name: x, field: nope}]\n", "metrics[0].field: only gauge metrics take field:"),
        ("    metrics: [{type: info, name: x, labels: {a: 'field:nope'}}]\n", "metrics[0].labels.a: unknown field \"nope\""),
    ];
    for (yaml, want) in cases {
        let got = compile(yaml).err().unwrap_or_default();
        let want = format!("{at}.{want}");
        assert!(got.iter().any(|g| g.starts_with(&want)), "{yaml}\nwant {want}\ngot {got:#?}");
    }
}
