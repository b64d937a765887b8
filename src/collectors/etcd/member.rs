//! One member endpoint: its own connection, its poll, and the backoff that keeps a dead member
//! from costing a full timeout on every poll.

use std::time::{Duration, Instant};

use etcd_client::{AlarmAction, AlarmType, Client, GetOptions};

use super::client::{call, connect, Access, EtcdError, Purpose};
use super::cluster::{identity_by_endpoint, identity_by_id, Alarm, Identity, ListedMember, MemberSample};
use super::failure::{FailureCounts, FailureReason};
use super::resolve::Resolved;
use super::version::VersionClient;
use crate::backoff::{Attempts, Backoff};

/// The agent's backoff counted in poll intervals rather than time (one second stands for one
/// interval): after consecutive failures the next attempt comes 1, 2, then 4 intervals later,
/// i.e. 0, 1, then 3 polls are skipped, so a member that comes back is seen within 4 intervals.
const POLL_BACKOFF: Backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(4));

/// Skipping of polls for an endpoint that keeps failing, after [`POLL_BACKOFF`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollSkips {
    failures: Attempts,
    skip: u32,
}

impl PollSkips {
    /// Whether to try this poll; a skipped poll counts down the wait.
    pub fn should_poll(&mut self) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
            false
        } else {
            true
        }
    }

    /// A poll failed: the next one waits one more step of [`POLL_BACKOFF`].
    pub fn failed(&mut self) {
        self.skip = self.failures.next_factor(&POLL_BACKOFF) - 1;
    }

    /// A poll answered: the next failure starts the backoff over.
    pub fn succeeded(&mut self) {
        *self = PollSkips::default();
    }
}

/// The outcome of one member poll.
#[derive(Debug)]
pub enum Outcome {
    /// Status answered; `problem` is a secondary request that failed (alarm list, member list
    /// or version).
    Answered {
        sample: Box<MemberSample>,
        listed: Vec<ListedMember>,
        problem: Option<EtcdError>,
    },
    Failed(EtcdError),
    /// Not tried this time because of the backoff; the last error still stands.
    Skipped,
}

/// One member endpoint and what is known about it.
pub struct MemberPoller {
    pub endpoint: String,
    /// The endpoint's host name and last addresses, when it is a name.
    resolved: Option<Resolved>,
    client: Option<(Client, VersionClient)>,
    backoff: PollSkips,
    identity: Option<Identity>,
    failures: FailureCounts,
}

impl MemberPoller {
    pub fn new(endpoint: String) -> Self {
        MemberPoller {
            resolved: Resolved::for_endpoint(&endpoint),
            endpoint,
            client: None,
            backoff: PollSkips::default(),
            identity: None,
            failures: FailureCounts::default(),
        }
    }

    /// Failed polls so far, by reason.
    pub fn failures(&self) -> &FailureCounts {
        &self.failures
    }

    /// Who the member is, as last seen (or as named by another member's list).
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }

    /// Names a member that never answered from the member list another member gave.
    pub fn learn_identity(&mut self, listed: &[ListedMember]) {
        if self.identity.is_none() {
            self.identity = identity_by_endpoint(&self.endpoint, listed);
        }
    }

    /// Status, alarm list, member list and version, concurrently, each under `timeout`.
    pub async fn poll(&mut self, access: &Access, timeout: Duration) -> Outcome {
        if !self.backoff.should_poll() {
            return Outcome::Skipped;
        }
        let started = Instant::now();
        let result = match self.client(access, timeout).await {
            Ok((client, versions)) => query(client, versions, timeout).await,
            Err(e) => Err(e),
        };
        match result {
            Ok((mut sample, alarms, listed, version_problem)) => {
                self.backoff.succeeded();
                sample.poll_duration = started.elapsed();
                let mut problem = None;
                match alarms {
                    Ok(alarms) => sample.alarms = Some(alarms_of(sample.id, &alarms)),
                    Err(e) => problem = Some(e),
                }
                let listed = listed.unwrap_or_else(|e| {
                    problem.get_or_insert(e);
                    Vec::new()
                });
                if let Some(e) = version_problem {
                    problem.get_or_insert(e);
                }
                let mut identity = identity_by_id(sample.id, &listed);
                if identity.name.is_empty() {
                    if let Some(known) = self.identity.as_ref().filter(|known| known.id == sample.id) {
                        identity.name = known.name.clone();
                    }
                }
                self.identity = Some(identity);
                Outcome::Answered { sample: Box::new(sample), listed, problem }
            }
            Err(e) => {
                self.failures.count(FailureReason::of(&e, access.tls.as_ref()));
                self.backoff.failed();
                // A fresh client next time: re-reads TLS files and drops a broken channel.
                self.client = None;
                Outcome::Failed(e)
            }
        }
    }

    /// Counts every key as this member holds it at `revision` (a serializable, count-only
    /// range: local data, nothing is transferred but the count).
    pub async fn count_all_keys(&self, revision: i64, timeout: Duration) -> Result<i64, EtcdError> {
        let options =
            GetOptions::new().with_all_keys().with_count_only().with_serializable().with_revision(revision);
        self.count("key count", "", options, timeout).await
    }

    /// Counts the keys under `prefix` (linearizable, count-only).
    pub async fn count_prefix(&self, prefix: &str, timeout: Duration) -> Result<i64, EtcdError> {
        self.count("prefix key count", prefix, GetOptions::new().with_prefix().with_count_only(), timeout)
            .await
    }

    async fn count(
        &self,
        what: &'static str,
        key: &str,
        options: GetOptions,
        timeout: Duration,
    ) -> Result<i64, EtcdError> {
        let Some((client, _)) = self.client.clone() else {
            return Err(EtcdError::NotConnected);
        };
        let mut kv = client.kv_client();
        call(what, timeout, kv.get(key, Some(options))).await.map(|r| r.count())
    }

    /// The member's clients: kept between polls, except that an endpoint named by DNS is
    /// resolved again first and a name that now has other addresses gets fresh clients.
    async fn client(
        &mut self,
        access: &Access,
        timeout: Duration,
    ) -> Result<(Client, VersionClient), EtcdError> {
        if let Some(resolved) = &mut self.resolved {
            if resolved.refresh(timeout).await? {
                tracing::info!(endpoint = %self.endpoint, "etcd endpoint resolves to new addresses; reconnecting");
                self.client = None;
            }
        }
        if let Some(clients) = &self.client {
            return Ok(clients.clone());
        }
        let versions = VersionClient::new(&self.endpoint, access.tls.as_ref(), timeout)?;
        let client = connect(&self.endpoint, access, timeout, Purpose::Poll).await?;
        self.client = Some((client.clone(), versions.clone()));
        Ok((client, versions))
    }
}

/// Status, then the alarm list and member list, then why the version could not be read.
type Answers = (
    MemberSample,
    Result<Vec<(u64, Alarm)>, EtcdError>,
    Result<Vec<ListedMember>, EtcdError>,
    Option<EtcdError>,
);

async fn query(client: Client, versions: VersionClient, timeout: Duration) -> Result<Answers, EtcdError> {
    let mut maintenance = client.maintenance_client();
    let mut alarm_client = client.maintenance_client();
    let mut cluster = client.cluster_client();
    let (status, alarms, members, cluster_version) = tokio::join!(
        call("status", timeout, maintenance.status()),
        call("alarm list", timeout, alarm_client.alarm(AlarmAction::Get, AlarmType::None, None)),
        call("member list", timeout, cluster.member_list()),
        versions.cluster_version(),
    );
    let status = status?;
    let header = status.header();
    let sample = MemberSample {
        id: header.map(|h| h.member_id()).unwrap_or_default(),
        leader: status.leader(),
        raft_term: status.raft_term(),
        raft_index: status.raft_index(),
        raft_applied_index: status.raft_applied_index(),
        revision: header.map(|h| h.revision()).unwrap_or_default(),
        db_size: status.db_size(),
        db_size_in_use: status.raft_used_db_size(),
        learner: status.is_learner(),
        errors: status.errors().to_vec(),
        server_version: status.version().to_owned(),
        cluster_version: cluster_version.as_ref().ok().cloned(),
        ..MemberSample::default()
    };
    let alarms = alarms.map(|r| {
        r.alarms()
            .iter()
            .filter_map(|a| {
                let alarm = match a.alarm() {
                    AlarmType::Nospace => Alarm::Nospace,
                    AlarmType::Corrupt => Alarm::Corrupt,
                    AlarmType::None => return None,
                };
                Some((a.member_id(), alarm))
            })
            .collect()
    });
    let members = members.map(|r| {
        r.members()
            .iter()
            .map(|m| ListedMember {
                id: m.id(),
                name: m.name().to_owned(),
                client_urls: m.client_urls().to_vec(),
            })
            .collect()
    });
    Ok((sample, alarms, members, cluster_version.err()))
}

fn alarms_of(member: u64, alarms: &[(u64, Alarm)]) -> Vec<Alarm> {
    alarms.iter().filter(|(id, _)| *id == member).map(|(_, alarm)| *alarm).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(backoff: &mut PollSkips, failures: usize, polls: usize) -> String {
        let mut out = String::new();
        let mut failed = 0;
        for _ in 0..polls {
            if backoff.should_poll() {
                out.push('x');
                if failed < failures {
                    backoff.failed();
                    failed += 1;
                } else {
                    backoff.succeeded();
                }
            } else {
                out.push('.');
            }
        }
        out
    }

    #[test]
    fn backoff_skips_exponentially_up_to_three_polls() {
        let mut backoff = PollSkips::default();
        assert_eq!(pattern(&mut backoff, usize::MAX, 16), "xx.x...x...x...x");
    }

    #[test]
    fn success_resets_the_backoff() {
        let mut backoff = PollSkips::default();
        assert_eq!(pattern(&mut backoff, 3, 12), "xx.x...xxxxx");
        assert_eq!(backoff, PollSkips::default());
    }

    #[test]
    fn alarms_are_attributed_to_the_member_that_raised_them() {
        let alarms = [(1, Alarm::Nospace), (2, Alarm::Corrupt), (1, Alarm::Corrupt)];
        assert_eq!(alarms_of(1, &alarms), vec![Alarm::Nospace, Alarm::Corrupt]);
        assert!(alarms_of(3, &alarms).is_empty());
    }
}
