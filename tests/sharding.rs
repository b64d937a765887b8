//! Sharding (SPEC §8): three shards of the custom-resource collector against one fake API
//! server with 3,000 objects, beside one unsharded collector. The shards' per-object series are
//! exactly the unsharded ones, each on one shard only; their aggregate points carry the shard
//! and add up to the unsharded ones; a restarted shard picks up exactly its objects again.

use std::collections::BTreeMap;
use std::time::Duration;

use kube_state_otel::collectors::{Shard, SHARD_ATTRIBUTE};
use kube_state_otel_testkit::fake_apiserver::FakeApiServer;
use kube_state_otel_testkit::otlp_receiver::{attributes, OtlpReceiver};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use serde_json::json;

#[path = "support/exporter.rs"]
mod exporter_support;
#[path = "support/crds_harness.rs"]
mod harness;

use harness::{config, database, databases, Running};

const OBJECTS: usize = 3000;
const TOTAL: u32 = 3;
/// Export interval: four collectors of 3,000 objects each export about 20,000 points.
const EVERY: Duration = Duration::from_secs(1);

/// Metrics whose points combine objects.
const AGGREGATES: [&str; 3] = ["test.db.by_engine", "test.db.objects", "test.db.most_replicas"];

/// One point: metric name and sorted `key=value` attributes, with its value.
type Series = BTreeMap<(String, Vec<String>), f64>;

/// The `test.*` points of the newest complete export: a big export is sent in several
/// requests, in order, so the export before the newest one seen has arrived whole.
fn series(receiver: &OtlpReceiver) -> Series {
    let received = receiver.received();
    let metrics = received
        .iter()
        .flat_map(|r| &r.request.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name.starts_with("test."));
    let mut points = Vec::new();
    for metric in metrics {
        let data = match &metric.data {
            Some(Data::Gauge(g)) => &g.data_points,
            Some(Data::Sum(s)) => &s.data_points,
            _ => continue,
        };
        points.extend(data.iter().map(|p| (metric.name.clone(), p)));
    }
    let times: std::collections::BTreeSet<u64> = points.iter().map(|(_, p)| p.time_unix_nano).collect();
    let newest = times.iter().rev().nth(1).copied().unwrap_or_default();
    let mut out = Series::new();
    for (name, p) in points.into_iter().filter(|(_, p)| p.time_unix_nano == newest) {
        let mut attrs: Vec<String> =
            attributes(&p.attributes).into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        attrs.sort();
        let value = match p.value {
            Some(Value::AsDouble(v)) => v,
            Some(Value::AsInt(i)) => i as f64,
            None => f64::NAN,
        };
        out.insert((name, attrs), value);
    }
    out
}

fn per_object(series: &Series) -> Series {
    series
        .iter()
        .filter(|((name, _), _)| !AGGREGATES.contains(&name.as_str()))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// Objects (by name) with a replicas point.
fn objects_in(series: &Series) -> usize {
    series.keys().filter(|(name, _)| name == "test.db.replicas").count()
}

/// Requests kept per receiver: the newest export's (two or three) and a few before.
const KEPT: usize = 8;

/// Longest wait for a list of 3,000 objects by four collectors at once on a busy machine.
const LIST_WAIT: Duration = Duration::from_secs(120);

/// Waits until `check` holds for the number of objects in the newest export.
async fn wait_for_objects(receiver: &OtlpReceiver, what: &str, check: impl Fn(usize) -> bool) {
    let deadline = tokio::time::Instant::now() + LIST_WAIT;
    loop {
        let objects = objects_in(&series(receiver));
        if check(objects) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: the newest export has {objects} objects");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

fn shard_of(attrs: &[String]) -> Option<String> {
    attrs.iter().find_map(|a| a.strip_prefix(&format!("{SHARD_ATTRIBUTE}=")).map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_split_the_objects_exactly_and_their_aggregates_add_up() {
    let server = FakeApiServer::start().await;
    server.register_resource(databases());
    let engines = ["postgres", "mysql", "redis"];
    for i in 0..OBJECTS {
        let db = database("prod", &format!("db-{i:04}"), engines[i % 3], json!(i % 7), "Running");
        server.apply(db).unwrap();
    }
    let plan = config(
        "    fields:\n      - {name: replicas, path: spec.replicas, type: float}\n    aggregations:\n      - {name: objects, help: Objects, function: count}\n      - {name: most_replicas, help: Most replicas, function: max, field: replicas}\n",
    );
    let whole = Running::start(server.client(), &plan, None, EVERY).await;
    let mut shards = Vec::new();
    for index in 0..TOTAL {
        shards.push(Running::start(server.client(), &plan, Some(Shard { index, total: TOTAL }), EVERY).await);
    }
    for running in shards.iter().chain([&whole]) {
        running.receiver.keep_only_last(KEPT);
    }
    wait_for_objects(&whole.receiver, "every object unsharded", |n| n == OBJECTS).await;
    let deadline = tokio::time::Instant::now() + LIST_WAIT;
    loop {
        let listed: Vec<usize> = shards.iter().map(|s| objects_in(&series(&s.receiver))).collect();
        if listed.iter().sum::<usize>() == OBJECTS {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "every object on some shard; the shards have {listed:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let unsharded = series(&whole.receiver);
    assert!(
        unsharded.keys().all(|(_, attrs)| shard_of(attrs).is_none()),
        "an unsharded agent adds no shard attribute"
    );
    let on_shards: Vec<Series> = shards.iter().map(|s| series(&s.receiver)).collect();

    // Per-object series: the union is exactly the unsharded set, and no series is on two shards.
    let mut union = Series::new();
    for (i, shard) in on_shards.iter().enumerate() {
        let objects = objects_in(shard);
        assert!((700..1300).contains(&objects), "shard {i} holds {objects} of {OBJECTS} objects");
        for (key, value) in per_object(shard) {
            assert_eq!(shard_of(&key.1), None, "per-object points carry no shard: {key:?}");
            assert!(union.insert(key.clone(), value).is_none(), "{key:?} is on two shards");
        }
    }
    assert_eq!(union, per_object(&unsharded), "the shards' per-object series are the unsharded ones");

    // Aggregates carry their shard; counts add up, maxima combine with max.
    let mut counted: BTreeMap<Vec<String>, f64> = BTreeMap::new();
    let mut most: f64 = f64::MIN;
    for (i, shard) in on_shards.iter().enumerate() {
        for ((name, attrs), value) in shard.iter().filter(|((n, _), _)| AGGREGATES.contains(&n.as_str())) {
            assert_eq!(shard_of(attrs), Some(i.to_string()), "{name} {attrs:?} carries its shard");
            let unsharded_attrs: Vec<String> =
                attrs.iter().filter(|a| shard_of(&[a.to_string()]).is_none()).cloned().collect();
            match name.as_str() {
                "test.db.most_replicas" => most = most.max(*value),
                _ => *counted.entry([vec![name.clone()], unsharded_attrs].concat()).or_default() += value,
            }
        }
    }
    let mut expected: BTreeMap<Vec<String>, f64> = BTreeMap::new();
    for ((name, attrs), value) in unsharded.iter().filter(|((n, _), _)| AGGREGATES.contains(&n.as_str())) {
        match name.as_str() {
            "test.db.most_replicas" => assert_eq!(*value, most, "max of the shards' maxima"),
            _ => {
                expected.insert([vec![name.clone()], attrs.clone()].concat(), *value);
            }
        }
    }
    assert_eq!(counted, expected, "summed counts across shards equal the unsharded counts");
    assert_eq!(expected.get(&vec!["test.db.objects".to_string()]), Some(&(OBJECTS as f64)));

    // A restarted shard picks up exactly its objects again.
    let before = per_object(&on_shards[1]);
    let restarted = shards.remove(1);
    restarted.stop().await;
    let again = Running::start(server.client(), &plan, Some(Shard { index: 1, total: TOTAL }), EVERY).await;
    again.receiver.keep_only_last(KEPT);
    let objects = objects_in(&before);
    wait_for_objects(&again.receiver, "the restarted shard's objects", |n| n == objects).await;
    assert_eq!(per_object(&series(&again.receiver)), before);

    for running in shards.into_iter().chain([again, whole]) {
        running.stop().await;
    }
}
