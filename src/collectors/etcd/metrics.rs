//! The etcd metrics (SPEC §6): their declaration, and the points built from a poll.

use opentelemetry::KeyValue;

use super::cluster::{healthy, Alarm, ClusterView, Identity, MemberSample};
use super::failure::FailureCounts;
use crate::collectors::declare::declare_metrics;
use crate::series::Point;

/// The cluster's `name` in the configuration.
pub const CLUSTER_NAME: &str = "etcd.cluster.name";
/// The member's `--name`, from the member list.
pub const MEMBER_NAME: &str = "etcd.member.name";
/// The member's id in lower-case hex.
pub const MEMBER_ID: &str = "etcd.member.id";
/// The member's endpoint as configured.
pub const SERVER_ADDRESS: &str = "server.address";
/// `NOSPACE` or `CORRUPT`.
pub const ALARM_TYPE: &str = "etcd.alarm.type";
/// A counted or watched key prefix.
pub const KEY_PREFIX: &str = "etcd.key.prefix";
/// `put` or `delete`, the etcd watch event type.
pub const EVENT_TYPE: &str = "etcd.event.type";
/// The member's etcd version (`3.4.30`).
pub const SERVER_VERSION: &str = "etcd.server.version";
/// The version the cluster runs at (`3.4.0`), as the member reports it.
pub const CLUSTER_VERSION: &str = "etcd.cluster.version";
/// Why a poll failed: `timeout`, `refused`, `tls`, `auth`, `dns` or `other`.
pub const ERROR_TYPE: &str = "error.type";

declare_metrics! {
    /// Every metric of the etcd table; the discriminant indexes the table's specs.
    pub enum EtcdMetric {
        Up {
            name: "etcd.member.up",
            unit: "1",
            instrument: Gauge,
            description: "1 when the member answered Status within the timeout",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Healthy {
            name: "etcd.member.healthy",
            unit: "1",
            instrument: Gauge,
            description: "1 when the member answered, has a leader and reports no errors or alarms",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Leader {
            name: "etcd.member.leader",
            unit: "1",
            instrument: Gauge,
            description: "1 on the member that is the raft leader",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Learner {
            name: "etcd.member.learner",
            unit: "1",
            instrument: Gauge,
            description: "1 when the member is a raft learner (non-voting)",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        DbSize {
            name: "etcd.member.db.size",
            unit: "By",
            instrument: Gauge,
            description: "Physical size of the member's backend database",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        DbSizeInUse {
            name: "etcd.member.db.size_in_use",
            unit: "By",
            instrument: Gauge,
            description: "Logical size in use of the member's backend database",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        RaftTerm {
            name: "etcd.member.raft.term",
            unit: "1",
            instrument: Gauge,
            description: "Raft term the member is in",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        RaftIndex {
            name: "etcd.member.raft.index",
            unit: "1",
            instrument: Gauge,
            description: "Raft index of the member's last committed entry",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        RaftAppliedIndex {
            name: "etcd.member.raft.applied_index",
            unit: "1",
            instrument: Gauge,
            description: "Raft index of the member's last applied entry",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Revision {
            name: "etcd.member.revision",
            unit: "1",
            instrument: Gauge,
            description: "Revision of the member's key-value store",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Alarm {
            name: "etcd.member.alarm",
            unit: "1",
            instrument: Gauge,
            description: "1 while the alarm of this type raised by the member is active",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS, ALARM_TYPE],
        },
        PollDuration {
            name: "etcd.member.poll.duration",
            unit: "s",
            instrument: Gauge,
            description: "Time the member took to answer this poll",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS],
        },
        Info {
            name: "etcd.member.info",
            unit: "1",
            instrument: Gauge,
            description: "1 for each answering member, with its server and cluster version",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS, SERVER_VERSION, CLUSTER_VERSION],
        },
        PollFailures {
            name: "etcd.member.poll.failures",
            unit: "{failure}",
            instrument: Counter,
            description: "Polls of the member that failed, by reason",
            attributes: [CLUSTER_NAME, MEMBER_NAME, MEMBER_ID, SERVER_ADDRESS, ERROR_TYPE],
        },
        HasLeader {
            name: "etcd.cluster.has_leader",
            unit: "1",
            instrument: Gauge,
            description: "1 when an answering member reports a leader",
            attributes: [CLUSTER_NAME],
        },
        LeaderChanges {
            name: "etcd.cluster.leader.changes",
            unit: "{change}",
            instrument: Counter,
            description: "Leader changes seen between polls",
            attributes: [CLUSTER_NAME],
        },
        RevisionDiff {
            name: "etcd.cluster.consistency.revision.diff",
            unit: "1",
            instrument: Gauge,
            description: "Max - min revision across answering members",
            attributes: [CLUSTER_NAME],
        },
        RaftIndexDiff {
            name: "etcd.cluster.consistency.raft_index.diff",
            unit: "1",
            instrument: Gauge,
            description: "Max - min raft index across answering members",
            attributes: [CLUSTER_NAME],
        },
        RaftAppliedIndexDiff {
            name: "etcd.cluster.consistency.raft_applied_index.diff",
            unit: "1",
            instrument: Gauge,
            description: "Max - min raft applied index across answering members",
            attributes: [CLUSTER_NAME],
        },
        KeyCountDiff {
            name: "etcd.cluster.consistency.key_count.diff",
            unit: "1",
            instrument: Gauge,
            description: "Max - min number of keys across answering members, counted at one common revision",
            attributes: [CLUSTER_NAME],
        },
        KeysCount {
            name: "etcd.keys.count",
            unit: "{key}",
            instrument: Gauge,
            description: "Number of keys under the prefix",
            attributes: [CLUSTER_NAME, KEY_PREFIX],
        },
        WatchEvents {
            name: "etcd.watch.events",
            unit: "{event}",
            instrument: Counter,
            description: "Watch events seen under the prefix, by type",
            attributes: [CLUSTER_NAME, KEY_PREFIX, EVENT_TYPE],
        },
    }
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

/// The points of one member: `up` and the failure counts alone when it did not answer.
pub fn member_points(
    cluster: &str,
    endpoint: &str,
    identity: Option<&Identity>,
    sample: Option<&MemberSample>,
    failures: &FailureCounts,
) -> Vec<Point> {
    let attrs = member_attributes(cluster, endpoint, identity);
    let failure_points: Vec<Point> = failures
        .all()
        .map(|(reason, count)| {
            let mut with_reason = attrs.clone();
            with_reason.push(KeyValue::new(ERROR_TYPE, reason.name()));
            Point::new(EtcdMetric::PollFailures, with_reason, count as f64)
        })
        .collect();
    let Some(s) = sample else {
        let mut points = vec![Point::new(EtcdMetric::Up, attrs, 0.0)];
        points.extend(failure_points);
        return points;
    };
    let flag = |b: bool| if b { 1.0 } else { 0.0 };
    let mut points: Vec<Point> = [
        (EtcdMetric::Up, 1.0),
        (EtcdMetric::Healthy, flag(healthy(s))),
        (EtcdMetric::Leader, flag(s.leader != 0 && s.leader == s.id)),
        (EtcdMetric::Learner, flag(s.learner)),
        (EtcdMetric::DbSize, s.db_size as f64),
        (EtcdMetric::DbSizeInUse, s.db_size_in_use as f64),
        (EtcdMetric::RaftTerm, s.raft_term as f64),
        (EtcdMetric::RaftIndex, s.raft_index as f64),
        (EtcdMetric::RaftAppliedIndex, s.raft_applied_index as f64),
        (EtcdMetric::Revision, s.revision as f64),
        (EtcdMetric::PollDuration, s.poll_duration.as_secs_f64()),
    ]
    .into_iter()
    .map(|(metric, value)| Point::new(metric, attrs.clone(), value))
    .collect();
    points.extend(failure_points);
    let mut info = attrs.clone();
    info.push(KeyValue::new(SERVER_VERSION, s.server_version.clone()));
    if let Some(version) = &s.cluster_version {
        info.push(KeyValue::new(CLUSTER_VERSION, version.clone()));
    }
    points.push(Point::new(EtcdMetric::Info, info, 1.0));
    for alarm in s.alarms.iter().flat_map(|raised| Alarm::ALL.map(|a| (a, raised.contains(&a)))) {
        let mut with_type = attrs.clone();
        with_type.push(KeyValue::new(ALARM_TYPE, alarm.0.name()));
        points.push(Point::new(EtcdMetric::Alarm, with_type, flag(alarm.1)));
    }
    points
}

/// The cluster-wide points: leader presence, leader changes and consistency diffs.
pub fn cluster_points(cluster: &str, view: &ClusterView, leader_changes: u64) -> Vec<Point> {
    let attrs = vec![KeyValue::new(CLUSTER_NAME, cluster.to_owned())];
    let mut points = vec![
        Point::new(EtcdMetric::HasLeader, attrs.clone(), if view.leader.is_some() { 1.0 } else { 0.0 }),
        Point::new(EtcdMetric::LeaderChanges, attrs.clone(), leader_changes as f64),
    ];
    for (metric, diff) in [
        (EtcdMetric::RevisionDiff, view.revision_diff),
        (EtcdMetric::RaftIndexDiff, view.raft_index_diff),
        (EtcdMetric::RaftAppliedIndexDiff, view.raft_applied_index_diff),
        (EtcdMetric::KeyCountDiff, view.key_count_diff),
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
            Point::new(EtcdMetric::KeysCount, attrs, *count as f64)
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
            Point::new(EtcdMetric::WatchEvents, attrs, count as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::series::InstrumentKind;

    #[test]
    fn names_kinds_and_units_stay_as_documented() {
        let specs = EtcdMetric::specs();
        let named = [
            (EtcdMetric::Up, "etcd.member.up"),
            (EtcdMetric::DbSizeInUse, "etcd.member.db.size_in_use"),
            (EtcdMetric::Alarm, "etcd.member.alarm"),
            (EtcdMetric::PollDuration, "etcd.member.poll.duration"),
            (EtcdMetric::LeaderChanges, "etcd.cluster.leader.changes"),
            (EtcdMetric::KeyCountDiff, "etcd.cluster.consistency.key_count.diff"),
            (EtcdMetric::KeysCount, "etcd.keys.count"),
            (EtcdMetric::WatchEvents, "etcd.watch.events"),
        ];
        for (metric, name) in named {
            assert_eq!(specs[metric.id().0 as usize].name, name);
        }
        assert_eq!(specs.len(), EtcdMetric::ALL.len());
        let counters: Vec<&str> =
            specs.iter().filter(|s| s.kind == InstrumentKind::Counter).map(|s| s.name.as_str()).collect();
        assert_eq!(
            counters,
            ["etcd.member.poll.failures", "etcd.cluster.leader.changes", "etcd.watch.events"]
        );
        assert_eq!(specs[EtcdMetric::PollDuration.id().0 as usize].unit, "s");
    }

    #[test]
    fn a_silent_member_has_only_up_zero_and_its_failures() {
        let identity = Identity { id: 0x8e9e05c52164694d, name: "m1".into() };
        let mut failures = FailureCounts::default();
        failures.count(super::super::failure::FailureReason::Refused);
        let points = member_points("main", "http://h:2379", Some(&identity), None, &failures);
        assert_eq!(points.len(), 7);
        assert_eq!(points[0].value, 0.0);
        let refused = points
            .iter()
            .find(|p| {
                p.metric == EtcdMetric::PollFailures.id() && p.attributes[4].value.as_str() == "refused"
            })
            .unwrap();
        assert_eq!(refused.value, 1.0);
        assert_eq!(points.iter().filter(|p| p.metric == EtcdMetric::PollFailures.id()).count(), 6);
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
            server_version: "3.4.30".into(),
            cluster_version: Some("3.4.0".into()),
            ..MemberSample::default()
        };
        let points = member_points("main", "http://h:2379", None, Some(&sample), &FailureCounts::default());
        let value = |metric: EtcdMetric| points.iter().find(|p| p.metric == metric.id()).unwrap().value;
        assert_eq!(points.len(), 11 + 6 + 1 + 2);
        let info = points.iter().find(|p| p.metric == EtcdMetric::Info.id()).unwrap();
        let info_attrs: Vec<String> =
            info.attributes.iter().map(|kv| format!("{}={}", kv.key, kv.value)).collect();
        assert_eq!(
            info_attrs,
            [
                "etcd.cluster.name=main",
                "server.address=http://h:2379",
                "etcd.server.version=3.4.30",
                "etcd.cluster.version=3.4.0"
            ]
        );
        assert_eq!(info.value, 1.0);
        assert_eq!(value(EtcdMetric::Up), 1.0);
        assert_eq!(value(EtcdMetric::Leader), 1.0);
        assert_eq!(value(EtcdMetric::Healthy), 0.0, "an active alarm is unhealthy");
        assert_eq!(value(EtcdMetric::PollDuration), 1.5);
        let alarms: Vec<(String, f64)> = points
            .iter()
            .filter(|p| p.metric == EtcdMetric::Alarm.id())
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
        assert_eq!((points[2].metric, points[2].value), (EtcdMetric::RevisionDiff.id(), 3.0));
    }
}
