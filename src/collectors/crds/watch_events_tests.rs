//! Watch events against a series table: applies, deletes, and relists that forget objects
//! deleted meanwhile, with one stream or one per namespace.

use std::sync::Arc;
use std::time::Instant;

use kube::api::DynamicObject;
use kube::runtime::watcher::Event;
use serde_json::json;

use super::watch_events::{into_value, object_key, ResourceEvents};
use super::watched::WatchedObject;
use super::{compile_crds, CrdsConfig};
use crate::series::SeriesTable;
use crate::telemetry::SelfMetrics;

fn events(streams: usize) -> (ResourceEvents, Arc<SeriesTable>) {
    events_with("", streams)
}

/// Events of a resource with `extra` fields (one line, indented as a resource field).
fn events_with(extra: &str, streams: usize) -> (ResourceEvents, Arc<SeriesTable>) {
    let yaml = format!("resources:\n  - name: db\n    gvr: {{group: example.com, version: v1, resource: dbs}}\n{extra}    metrics: [{{type: gauge, name: replicas, path: spec.replicas}}]\n");
    let config: CrdsConfig = serde_saphyr::from_str(&yaml).unwrap();
    let resource = Arc::new(compile_crds(&config).unwrap().remove(0));
    let table = Arc::new(SeriesTable::new("crds/db", resource.specs.clone()).awaiting_list());
    (ResourceEvents::new(resource, table.clone(), SelfMetrics::noop(), streams, None), table)
}

fn db_value(ns: &str, name: &str, replicas: u32) -> serde_json::Value {
    json!({
        "apiVersion": "example.com/v1", "kind": "Db",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}")},
        "spec": {"replicas": replicas}
    })
}

fn db(ns: &str, name: &str, replicas: u32) -> WatchedObject {
    WatchedObject::from_value(db_value(ns, name, replicas))
}

fn values(table: &SeriesTable) -> Vec<f64> {
    let mut out = Vec::new();
    table.observe(table.metric_id("db.replicas").unwrap(), |v, _| out.push(v));
    out.sort_by(f64::total_cmp);
    out
}

#[test]
fn apply_replaces_and_delete_removes() {
    let (mut ev, table) = events(1);
    let now = Instant::now();
    ev.handle(0, Event::Apply(db("a", "x", 1)), now);
    ev.handle(0, Event::Apply(db("a", "x", 3)), now);
    assert_eq!(values(&table), [3.0]);
    ev.handle(0, Event::Delete(db("a", "x", 3)), now);
    assert!(values(&table).is_empty());
}

#[test]
fn relist_forgets_objects_not_listed_again() {
    let (mut ev, table) = events(1);
    let now = Instant::now();
    ev.handle(0, Event::Init, now);
    ev.handle(0, Event::InitApply(db("a", "x", 1)), now);
    ev.handle(0, Event::InitApply(db("a", "y", 2)), now);
    assert!(!ev.is_synced());
    ev.handle(0, Event::InitDone, now);
    assert!(ev.is_synced());
    ev.handle(0, Event::Init, now);
    ev.handle(0, Event::InitApply(db("a", "y", 5)), now);
    assert_eq!(values(&table), [1.0, 5.0], "points stay until the relist is complete");
    ev.handle(0, Event::InitDone, now);
    assert_eq!(values(&table), [5.0]);
}

#[test]
fn relist_of_one_namespace_keeps_the_others() {
    let (mut ev, table) = events(2);
    let now = Instant::now();
    for (stream, ns) in [(0, "a"), (1, "b")] {
        ev.handle(stream, Event::Init, now);
        ev.handle(stream, Event::InitApply(db(ns, "x", if ns == "a" { 1 } else { 2 })), now);
        ev.handle(stream, Event::InitDone, now);
    }
    assert_eq!(values(&table), [1.0, 2.0]);
    ev.handle(0, Event::Init, now);
    ev.handle(0, Event::InitDone, now);
    assert_eq!(values(&table), [2.0]);
}

#[test]
fn synced_only_when_every_stream_listed() {
    let (mut ev, _) = events(2);
    let now = Instant::now();
    ev.handle(0, Event::Init, now);
    ev.handle(0, Event::InitDone, now);
    assert!(!ev.is_synced());
    ev.handle(1, Event::Init, now);
    ev.handle(1, Event::InitDone, now);
    assert!(ev.is_synced());
}

#[test]
fn key_is_the_uid_or_namespace_and_name() {
    assert_eq!(object_key(&db("a", "x", 1)), "uid-a-x");
    let mut no_uid = db("a", "x", 1);
    no_uid.metadata.uid = None;
    assert_eq!(object_key(&no_uid), "a/x");
}

#[test]
fn an_object_becomes_the_value_it_serializes_to() {
    let mut object: DynamicObject = serde_json::from_value(db_value("prod", "a", 3)).unwrap();
    object.data["status"] = json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
    object.metadata.labels = Some([("app".to_string(), "db".to_string())].into());
    let want = serde_json::to_value(&object).unwrap();
    assert_eq!(into_value(object).unwrap(), want);
}

/// The table is exported only once every stream has listed all its objects.
#[test]
fn the_table_is_exported_once_every_stream_has_listed() {
    let (mut events, table) = events(2);
    let now = Instant::now();
    for stream in 0..2 {
        events.handle(stream, Event::Init, now);
    }
    events.handle(0, Event::InitApply(db("a", "x", 1)), now);
    events.handle(0, Event::InitDone, now);
    events.handle(1, Event::InitApply(db("b", "y", 2)), now);
    assert!(!table.is_listed(), "namespace b is still listing");
    events.handle(1, Event::InitDone, now);
    assert!(table.is_listed());
    assert_eq!(values(&table), [1.0, 2.0]);
}

#[test]
fn a_cluster_wide_watch_keeps_only_the_selected_namespaces() {
    let (mut ev, table) = events_with("    namespaces: [\"prod-*\", \"!prod-test\"]\n", 1);
    let now = Instant::now();
    for (ns, replicas) in [("prod-a", 1), ("prod-test", 2), ("dev", 3)] {
        ev.handle(0, Event::Apply(db(ns, "x", replicas)), now);
    }
    assert_eq!(values(&table), [1.0]);
    assert_eq!(table.object_count(), 1);
}

#[test]
fn guards_and_identity_follow_updates_and_deletes() {
    let (mut ev, table) = events_with("    commonLabels: {name: metadata.name}\n    maxSeries: 2\n", 1);
    let now = Instant::now();
    ev.handle(0, Event::Apply(db("a", "x", 1)), now);
    ev.handle(0, Event::Apply(db("b", "x", 2)), now);
    assert_eq!(values(&table), [1.0], "b/x collides with a/x, which keeps the series");
    ev.handle(0, Event::Apply(db("a", "y", 3)), now);
    ev.handle(0, Event::Apply(db("a", "z", 4)), now);
    assert_eq!(values(&table), [1.0, 3.0], "maxSeries: 2");
    ev.handle(0, Event::Delete(db("a", "x", 1)), now);
    ev.handle(0, Event::Apply(db("b", "x", 5)), now);
    assert_eq!(values(&table), [3.0, 5.0], "the delete freed both the series and the room");
}
