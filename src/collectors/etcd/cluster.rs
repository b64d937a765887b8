//! What the members' answers say about their cluster: identity, leader, consistency. Pure.

use std::time::Duration;

/// An etcd alarm the collector reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alarm {
    /// The backend database reached its quota; the cluster refuses writes.
    Nospace,
    /// A member's data differs from the others (corruption check).
    Corrupt,
}

impl Alarm {
    pub const ALL: [Alarm; 2] = [Alarm::Nospace, Alarm::Corrupt];

    /// The value of `etcd.alarm.type`, as etcd spells the alarm.
    pub fn name(self) -> &'static str {
        match self {
            Alarm::Nospace => "NOSPACE",
            Alarm::Corrupt => "CORRUPT",
        }
    }
}

/// One member's answer to a poll.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemberSample {
    /// The member's own id (from the response header).
    pub id: u64,
    /// The leader's id as this member sees it; 0 when it knows no leader.
    pub leader: u64,
    pub raft_term: u64,
    pub raft_index: u64,
    pub raft_applied_index: u64,
    pub revision: i64,
    pub db_size: i64,
    pub db_size_in_use: i64,
    pub learner: bool,
    /// Errors the member reports in its Status (no leader, alarms).
    pub errors: Vec<String>,
    /// Alarms raised by this member; `None` when the alarm list did not answer (it goes
    /// through raft, so a member without quorum or a learner cannot answer it).
    pub alarms: Option<Vec<Alarm>>,
    pub poll_duration: Duration,
    /// The member's etcd version, from its Status.
    pub server_version: String,
    /// The cluster version the member runs at, from `/version`; `None` when that failed.
    pub cluster_version: Option<String>,
    /// Number of keys at the cluster's common revision, when it could be counted.
    pub key_count: Option<i64>,
}

/// A row of the member list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMember {
    pub id: u64,
    pub name: String,
    pub client_urls: Vec<String>,
}

/// healthy = answered, knows a leader, reports no error and raised no alarm. etcd lists every
/// active alarm of the cluster among a member's Status errors.
pub fn healthy(sample: &MemberSample) -> bool {
    sample.leader != 0 && sample.errors.is_empty() && sample.alarms.as_ref().is_none_or(|a| a.is_empty())
}

/// Who a member is, as far as the member list tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub id: u64,
    pub name: String,
}

/// The name of the member with this id in the member list (empty for a member not started yet).
pub fn identity_by_id(id: u64, listed: &[ListedMember]) -> Identity {
    let name = listed.iter().find(|m| m.id == id).map(|m| m.name.clone()).unwrap_or_default();
    Identity { id, name }
}

/// The member whose client URLs include `endpoint` (to name a member that does not answer).
pub fn identity_by_endpoint(endpoint: &str, listed: &[ListedMember]) -> Option<Identity> {
    let wanted = endpoint.trim_end_matches('/');
    listed
        .iter()
        .find(|m| m.client_urls.iter().any(|u| u.trim_end_matches('/') == wanted))
        .map(|m| Identity { id: m.id, name: m.name.clone() })
}

/// Cluster-wide figures derived from the members that answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterView {
    /// `(leader id, raft term)` reported by the answering member in the highest term that
    /// knows a leader.
    pub leader: Option<(u64, u64)>,
    pub revision_diff: Option<i64>,
    pub raft_index_diff: Option<i64>,
    pub raft_applied_index_diff: Option<i64>,
    pub key_count_diff: Option<i64>,
}

impl ClusterView {
    pub fn from_samples<'a>(samples: impl IntoIterator<Item = &'a MemberSample>) -> Self {
        let samples = samples.into_iter().collect::<Vec<_>>();
        let leader = samples
            .iter()
            .filter(|s| s.leader != 0)
            .max_by_key(|s| s.raft_term)
            .map(|s| (s.leader, s.raft_term));
        ClusterView {
            leader,
            revision_diff: spread(samples.iter().map(|s| s.revision)),
            raft_index_diff: spread(samples.iter().map(|s| s.raft_index as i64)),
            raft_applied_index_diff: spread(samples.iter().map(|s| s.raft_applied_index as i64)),
            key_count_diff: spread(samples.iter().filter_map(|s| s.key_count)),
        }
    }
}

/// max − min, or `None` when there is no value.
pub fn spread(values: impl IntoIterator<Item = i64>) -> Option<i64> {
    values
        .into_iter()
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
        .map(|(lo, hi)| hi - lo)
}

/// Counts leader changes between polls: a change is a leader in a later term than the last one
/// seen (another member, or the same one re-elected). Several elections between two polls count
/// once; a poll without a leader keeps the last one seen, so leader → none → other counts once.
#[derive(Debug, Clone, Default)]
pub struct LeaderTracker {
    last: Option<(u64, u64)>,
    changes: u64,
}

impl LeaderTracker {
    pub fn observe(&mut self, current: Option<(u64, u64)>) {
        let Some((leader, term)) = current else { return };
        match self.last {
            Some((last_leader, last_term))
                if term < last_term || (term == last_term && leader == last_leader) => {}
            Some(_) => {
                self.changes += 1;
                self.last = Some((leader, term));
            }
            None => self.last = Some((leader, term)),
        }
    }

    pub fn changes(&self) -> u64 {
        self.changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(id: u64, leader: u64, term: u64, revision: i64, index: u64) -> MemberSample {
        MemberSample {
            id,
            leader,
            raft_term: term,
            revision,
            raft_index: index,
            raft_applied_index: index - 1,
            ..MemberSample::default()
        }
    }

    #[test]
    fn spread_is_max_minus_min() {
        assert_eq!(spread([]), None);
        assert_eq!(spread([5]), Some(0));
        assert_eq!(spread([5, 9, 7]), Some(4));
    }

    #[test]
    fn the_view_takes_diffs_over_answering_members_and_the_newest_leader() {
        let mut a = sample(1, 1, 4, 100, 50);
        let mut b = sample(2, 1, 4, 97, 48);
        let c = sample(3, 0, 9, 90, 40);
        a.key_count = Some(10);
        b.key_count = Some(12);
        let view = ClusterView::from_samples([&a, &b, &c]);
        assert_eq!(view.leader, Some((1, 4)), "a member campaigning alone knows no leader");
        assert_eq!(view.revision_diff, Some(10));
        assert_eq!(view.raft_index_diff, Some(10));
        assert_eq!(view.raft_applied_index_diff, Some(10));
        assert_eq!(view.key_count_diff, Some(2));
        assert_eq!(ClusterView::from_samples([&c]).leader, None);
        assert_eq!(ClusterView::from_samples([]), ClusterView::default());
    }

    #[test]
    fn leader_changes_count_new_terms_with_a_leader() {
        let mut t = LeaderTracker::default();
        t.observe(Some((1, 2)));
        t.observe(Some((1, 2)));
        assert_eq!(t.changes(), 0, "the first leader seen is not a change");
        t.observe(None);
        t.observe(Some((2, 3)));
        assert_eq!(t.changes(), 1);
        t.observe(Some((2, 5)));
        assert_eq!(t.changes(), 2, "re-elected in a later term");
        t.observe(Some((1, 2)));
        assert_eq!(t.changes(), 2, "a stale view from a lagging member is ignored");
    }

    #[test]
    fn health_needs_a_leader_and_no_errors_or_alarms() {
        let ok = sample(1, 1, 2, 1, 1);
        assert!(healthy(&ok));
        assert!(!healthy(&MemberSample { leader: 0, ..ok.clone() }));
        assert!(!healthy(&MemberSample { errors: vec!["etcdserver: no leader".into()], ..ok.clone() }));
        assert!(!healthy(&MemberSample { alarms: Some(vec![Alarm::Corrupt]), ..ok }));
    }

    #[test]
    fn members_are_identified_by_id_or_by_client_url() {
        let listed = vec![
            ListedMember { id: 10, name: "a".into(), client_urls: vec!["http://127.0.0.1:1/".into()] },
            ListedMember { id: 11, name: String::new(), client_urls: vec![] },
        ];
        assert_eq!(identity_by_id(10, &listed), Identity { id: 10, name: "a".into() });
        assert_eq!(identity_by_id(12, &listed), Identity { id: 12, name: String::new() });
        assert_eq!(identity_by_endpoint("http://127.0.0.1:1", &listed).map(|i| i.id), Some(10));
        assert_eq!(identity_by_endpoint("http://127.0.0.1:2", &listed), None);
    }
}
