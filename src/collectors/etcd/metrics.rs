//! Names, units and attributes of the etcd metrics (SPEC §6), and the points built from a poll.

use opentelemetry::KeyValue;

use super::cluster::{healthy, Alarm, ClusterView, MemberSample};
use crate::series::{MetricSpec, Point};

pub const CLUSTER_NAME: &str = "etcd.cluster.name";
pub const MEMBER_NAME: &str = "etcd.member.name";
pub const MEMBER_ID: &str = "etcd.member.id";
pub const SERVER_ADDRESS: &str = "server.address";
pub const ALARM_TYPE: &str = "etcd.alarm.type";
pub const KEY_PREFIX: &str = "etcd.key.prefix";
pub const EVENT_TYPE: &str = "etcd.event.type";

/// Every attribute key an etcd point can carry (for dashboards and docs checks).
pub const ATTRIBUTE_KEYS: [&str; 7] =
    [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS, ALARM_TYPE, KEY_PREFIX, EVENT_TYPE];

/// Index of each metric in [`specs`]; `ids_match_the_spec_order` keeps them aligned.
pub mod id {
    use crate::series::MetricId;
    pub const UP: MetricId = MetricId(0);
    pub const HEALTHY: MetricId = MetricId(1);
    pub const LEADER: MetricId = MetricId(2);
    pub const LEARNER: MetricId = MetricId(3);
    pub const DB_SIZE: MetricId = MetricId(4);
    pub const DB_SIZE_IN_USE: MetricId = MetricId(5);
    pub const RAFT_TERM: MetricId = MetricId(6);
    pub const RAFT_INDEX: MetricId = MetricId(7);
    pub const RAFT_APPLIED_INDEX: MetricId = MetricId(8);
    pub const REVISION: MetricId = MetricId(9);
    pub const ALARM: MetricId = MetricId(10);
    pub const POLL_DURATION: MetricId = MetricId(11);
    pub const HAS_LEADER: MetricId = MetricId(12);
    pub const LEADER_CHANGES: MetricId = MetricId(13);
    pub const REVISION_DIFF: MetricId = MetricId(14);
    pub const RAFT_INDEX_DIFF: MetricId = MetricId(15);
    pub const RAFT_APPLIED_INDEX_DIFF: MetricId = MetricId(16);
    pub const KEY_COUNT_DIFF: MetricId = MetricId(17);
    pub const KEYS_COUNT: MetricId = MetricId(18);
    pub const WATCH_EVENTS: MetricId = MetricId(19);
}

/// The metrics of the etcd table, in the order of [`id`].
pub fn specs() -> Vec<MetricSpec> {
    let g = MetricSpec::gauge;
    vec![
        g("etcd.member.up", "1", "1 when the member answered Status within the timeout"),
        g(
            "etcd.member.healthy",
            "1",
            "1 when the member answered, has a leader and reports no errors or alarms",
        ),
        g("etcd.member.leader", "1", "1 on the member that is the raft leader"),
        g("etcd.member.learner", "1", "1 when the member is a raft learner (non-voting)"),
        g("etcd.member.db.size", "By", "Physical size of the member's backend database"),
        g("etcd.member.db.size_in_use", "By", "Logical size in use of the member's backend database"),
        g("etcd.member.raft.term", "1", "Raft term the member is in"),
        g("etcd.member.raft.index", "1", "Raft index of the member's last committed entry"),
        g("etcd.member.raft.applied_index", "1", "Raft index of the member's last applied entry"),
        g("etcd.member.revision", "1", "Revision of the member's key-value store"),
        g("etcd.member.alarm", "1", "1 while the alarm of this type raised by the member is active"),
        g("etcd.member.poll.duration", "s", "Time the member took to answer this poll"),
        g("etcd.cluster.has_leader", "1", "1 when an answering member reports a leader"),
        MetricSpec::counter("etcd.cluster.leader.changes", "{change}", "Leader changes seen between polls"),
        g("etcd.cluster.consistency.revision.diff", "1", "Max - min revision across answering members"),
        g("etcd.cluster.consistency.raft_index.diff", "1", "Max - min raft index across answering members"),
        g(
            "etcd.cluster.consistency.raft_applied_index.diff",
            "1",
            "Max - min raft applied index across answering members",
        ),
        g(
            "etcd.cluster.consistency.key_count.diff",
            "1",
            "Max - min number of keys across answering members, counted at one common revision",
        ),
        g("etcd.keys.count", "{key}", "Number of keys under the prefix"),
        MetricSpec::counter("etcd.watch.events", "{event}", "Watch events seen under the prefix, by type"),
    ]
}

/// Who a member is, as far as the member list tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: u64,
    pub name: String,
}

/// The attributes that name a member; id and name are left out until the member is known.
pub fn member_attributes(cluster: &str, endpoint: &str, identity: Option<&Identity>) -> Vec<KeyValue> {
    let mut attrs = vec![KeyValue::new(CLUSTER_NAME, cluster.to_owned())];
    if let Some(identity) = identity {
        attrs.push(KeyValue::new(MEMBER_NAME, identity.name.clone()));
        attrs.push(KeyValue::new(MEMBER_ID, format!("{:x}", identity.id)));
    }
    attrs.push(KeyValue::new(SERVER_ADDRESS, endpoint.to_owned()));
    attrs
}

/// The points of one member: `up` alone when it did not answer.
pub fn member_points(
    cluster: &str,
    endpoint: &str,
    identity: Option<&Identity>,
    sample: Option<&MemberSample>,
) -> Vec<Point> {
    let attrs = member_attributes(cluster, endpoint, identity);
    let Some(s) = sample else {
        return vec![Point::new(id::UP, attrs, 0.0)];
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let mut points: Vec<Point> = [
        (id::UP, 1.0),
        (id::HEALTHY, flag(healthy(s))),
        (id::LEADER, flag(s.leader != 0 && s.leader == s.id)),
        (id::LEARNER, flag(s.learner)),
        (id::DB_SIZE, s.db_size as f64),
        (id::DB_SIZE_IN_USE, s.db_size_in_use as f64),
        (id::RAFT_TERM, s.raft_term as f64),
        (id::RAFT_INDEX, s.raft_index as f64),
        (id::RAFT_APPLIED_INDEX, s.raft_applied_index as f64),
        (id::REVISION, s.revision as f64),
        (id::POLL_DURATION, s.poll_duration.as_secs_f64()),
    ]
    .into_iter()
    .map(|(metric, value)| Point::new(metric, attrs.clone(), value))
    .collect();
    for alarm in s.alarms.iter().flat_map(|raised| Alarm::ALL.map(|a| (a, raised.contains(&a)))) {
        let mut with_type = attrs.clone();
        with_type.push(KeyValue::new(ALARM_TYPE, alarm.0.name()));
        points.push(Point::new(id::ALARM, with_type, flag(alarm.1)));
    }
    points
}

/// The cluster-wide points: leader presence, leader changes and consistency diffs.
pub fn cluster_points(cluster: &str, view: &ClusterView, leader_changes: u64) -> Vec<Point> {
    let attrs = vec![KeyValue::new(CLUSTER_NAME, cluster.to_owned())];
    let mut points = vec![
        Point::new(id::HAS_LEADER, attrs.clone(), if view.leader.is_some() { 1.0 } else { 0.0 }),
        Point::new(id::LEADER_CHANGES, attrs.clone(), leader_changes as f64),
    ];
    for (metric, diff) in [
        (id::REVISION_DIFF, view.revision_diff),
        (id::RAFT_INDEX_DIFF, view.raft_index_diff),
        (id::RAFT_APPLIED_INDEX_DIFF, view.raft_applied_index_diff),
        (id::KEY_COUNT_DIFF, view.key_count_diff),
    ] {
        if let Some(diff) = diff {
            points.push(Point::new(metric, attrs.clone(), diff as f64));
        }
    }
    points
}

/// `etcd.keys.count` for the prefixes counted this poll.
pub fn key_count_points(cluster: &str, counts: &[(String, i64)]) -> Vec<Point> {
    counts
        .iter()
        .map(|(prefix, count)| {
            let attrs = vec![
                KeyValue::new(CLUSTER_NAME, cluster.to_owned()),
                KeyValue::new(KEY_PREFIX, prefix.clone()),
            ];
            Point::new(id::KEYS_COUNT, attrs, *count as f64)
        })
        .collect()
}

/// `etcd.watch.events` of one watched prefix, both event types.
pub fn watch_points(cluster: &str, prefix: &str, puts: u64, deletes: u64) -> Vec<Point> {
    [("put", puts), ("delete", deletes)]
        .into_iter()
        .map(|(kind, count)| {
            let attrs = vec![
                KeyValue::new(CLUSTER_NAME, cluster.to_owned()),
                KeyValue::new(KEY_PREFIX, prefix.to_owned()),
                KeyValue::new(EVENT_TYPE, kind),
            ];
            Point::new(id::WATCH_EVENTS, attrs, count as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::series::{InstrumentKind, MetricId};

    #[test]
    fn ids_match_the_spec_order() {
        let specs = specs();
        let named = [
            (id::UP, "etcd.member.up"),
            (id::DB_SIZE_IN_USE, "etcd.member.db.size_in_use"),
            (id::ALARM, "etcd.member.alarm"),
            (id::POLL_DURATION, "etcd.member.poll.duration"),
            (id::LEADER_CHANGES, "etcd.cluster.leader.changes"),
            (id::KEY_COUNT_DIFF, "etcd.cluster.consistency.key_count.diff"),
            (id::KEYS_COUNT, "etcd.keys.count"),
            (id::WATCH_EVENTS, "etcd.watch.events"),
        ];
        for (metric, name) in named {
            assert_eq!(specs[metric.0 as usize].name, name);
        }
        assert_eq!(specs.len(), id::WATCH_EVENTS.0 as usize + 1);
        let counters: Vec<&str> =
            specs.iter().filter(|s| s.kind == InstrumentKind::Counter).map(|s| s.name.as_str()).collect();
        assert_eq!(counters, ["etcd.cluster.leader.changes", "etcd.watch.events"]);
        assert_eq!(specs[id::POLL_DURATION.0 as usize].unit, "s");
    }

    #[test]
    fn a_silent_member_has_only_up_zero() {
        let identity = Identity { id: 0x8e9e05c52164694d, name: "m1".into() };
        let points = member_points("main", "http://h:2379", Some(&identity), None);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].value, 0.0);
        let attrs: Vec<String> =
            points[0].attributes.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect();
        assert_eq!(
            attrs,
            [
                "etcd.cluster.name=main",
                "etcd.member.name=m1",
                "etcd.member.id=8e9e05c52164694d",
                "server.address=http://h:2379"
            ]
        );
    }

    #[test]
    fn an_answering_member_reports_every_member_metric() {
        let sample = MemberSample {
            id: 7,
            leader: 7,
            alarms: Some(vec![Alarm::Nospace]),
            poll_duration: Duration::from_millis(1500),
            ..MemberSample::default()
        };
        let points = member_points("main", "http://h:2379", None, Some(&sample));
        let value = |metric: MetricId| points.iter().find(|p| p.metric == metric).unwrap().value;
        assert_eq!(points.len(), 13);
        assert_eq!(value(id::UP), 1.0);
        assert_eq!(value(id::LEADER), 1.0);
        assert_eq!(value(id::HEALTHY), 0.0, "an active alarm is unhealthy");
        assert_eq!(value(id::POLL_DURATION), 1.5);
        let alarms: Vec<(String, f64)> = points
            .iter()
            .filter(|p| p.metric == id::ALARM)
            .map(|p| (p.attributes.last().unwrap().value.to_string(), p.value))
            .collect();
        assert_eq!(alarms, [("NOSPACE".to_owned(), 1.0), ("CORRUPT".to_owned(), 0.0)]);
    }

    #[test]
    fn diffs_are_absent_when_unknown() {
        let view = ClusterView { revision_diff: Some(3), ..ClusterView::default() };
        let points = cluster_points("main", &view, 2);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].value, 0.0);
        assert_eq!(points[1].value, 2.0);
        assert_eq!((points[2].metric, points[2].value), (id::REVISION_DIFF, 3.0));
    }
}
