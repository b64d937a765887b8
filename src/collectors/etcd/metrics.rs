//! The etcd metrics (SPEC §6): their declaration and attribute keys (`points.rs` builds the
//! points of a poll).

use crate::collectors::declare::declare_metrics;

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

#[cfg(test)]
mod tests {
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
}
