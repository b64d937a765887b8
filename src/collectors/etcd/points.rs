//! The points of one poll: a member's, the cluster's, the key counts and the watch counters.

use opentelemetry::KeyValue;

use super::cluster::{healthy, Alarm, ClusterView, Identity, MemberSample};
use super::failure::FailureCounts;
use super::metrics::{
    EtcdMetric, ALARM_TYPE, CLUSTER_NAME, CLUSTER_VERSION, ERROR_TYPE, EVENT_TYPE, KEY_PREFIX, MEMBER_ID,
    MEMBER_NAME, SERVER_ADDRESS, SERVER_VERSION,
};
use crate::series::Point;

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
