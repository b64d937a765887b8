//! The poll loops: one per cluster, at the cluster's interval; each poll asks every member
//! concurrently, then computes the cluster-wide figures. Plus one watch task per watched prefix.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::join_all;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;
use tracing::Instrument;

use super::client::{tls_hint, Access, EtcdError};
use super::cluster::{ClusterView, LeaderTracker, ListedMember, MemberSample};
use super::config::{EtcdClusterConfig, EtcdConfig};
use super::member::{MemberPoller, Outcome};
use super::metrics::EtcdMetric;
use super::points::{cluster_points, key_count_points, member_points};
use super::watch::{self, WatchTarget};
use crate::collectors::{CollectorContext, CollectorStatus};
use crate::series::SeriesTable;

/// Runs the etcd collector until `ctx.cancel` fires.
pub async fn run(config: EtcdConfig, ctx: CollectorContext) {
    let table = ctx.registry.table("etcd", EtcdMetric::specs());
    ctx.status.set_up(true);
    let timeout = config.timeout.get();
    let mut watches = JoinSet::new();
    for cluster in &config.clusters {
        for prefix in &cluster.watch_prefixes {
            let target = WatchTarget {
                cluster: cluster.name.clone(),
                prefix: prefix.clone(),
                endpoints: cluster.endpoints.clone(),
                access: access(cluster),
                timeout,
                table: table.table().clone(),
                status: ctx.status.clone(),
                self_metrics: ctx.self_metrics.clone(),
            };
            watches.spawn(watch::run(target, ctx.cancel.child_token()));
        }
    }
    // Ready once every cluster has been polled once.
    let first_polls_left = AtomicUsize::new(config.clusters.len());
    let loops = config.clusters.into_iter().map(|cluster| {
        let interval = cluster.poll_interval(config.interval);
        let mut poller = ClusterPoller::new(cluster);
        let (table, ctx, first_polls_left) = (&table, &ctx, &first_polls_left);
        async move {
            let mut ticker = tokio::time::interval(interval);
            ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticker.tick().await;
                let started = std::time::Instant::now();
                let span = tracing::info_span!("etcd.poll", cluster = %poller.config.name, members = poller.members.len());
                poller.poll(table, timeout, &ctx.status).instrument(span).await;
                tracing::debug!(cluster = %poller.config.name, elapsed = ?started.elapsed(), "etcd poll done");
                // One observation per cluster poll: clusters are polled on their own schedules.
                ctx.self_metrics.collector_duration(&ctx.name, started.elapsed().as_secs_f64());
                if !poller.polled_once {
                    poller.polled_once = true;
                    if first_polls_left.fetch_sub(1, Ordering::Relaxed) == 1 {
                        ctx.status.set_ready(true);
                    }
                }
            }
        }
    });
    tokio::select! {
        _ = ctx.cancel.cancelled() => {}
        _ = join_all(loops) => {}
    }
    watches.shutdown().await;
    ctx.status.set_ready(false);
    ctx.status.set_up(false);
}

fn access(cluster: &EtcdClusterConfig) -> Access {
    Access { tls: cluster.tls.clone(), auth: cluster.auth.clone() }
}

/// One cluster: its members and what is remembered between polls.
struct ClusterPoller {
    config: EtcdClusterConfig,
    access: Access,
    members: Vec<MemberPoller>,
    leader: LeaderTracker,
    polled_once: bool,
}

impl ClusterPoller {
    fn new(config: EtcdClusterConfig) -> Self {
        let members = config.endpoints.iter().cloned().map(MemberPoller::new).collect();
        ClusterPoller {
            access: access(&config),
            config,
            members,
            leader: LeaderTracker::default(),
            polled_once: false,
        }
    }

    fn detail_part(&self, what: &str) -> String {
        format!("{}/{what}", self.config.name)
    }

    async fn poll(&mut self, table: &SeriesTable, timeout: Duration, status: &CollectorStatus) {
        let access = &self.access;
        let name = &self.config.name;
        // Each member's points are published as soon as it answers (or fails), so a member
        // that hangs until the timeout does not hold back the others' fresh values.
        let outcomes = join_all(self.members.iter_mut().map(|member| async move {
            let outcome = member.poll(access, timeout).await;
            let sample = match &outcome {
                Outcome::Answered { sample, .. } => Some(sample.as_ref()),
                Outcome::Failed(_) | Outcome::Skipped => None,
            };
            let points = member_points(name, &member.endpoint, member.identity(), sample, member.failures());
            table.replace(&member_key(name, &member.endpoint), points);
            outcome
        }))
        .await;
        let mut samples: Vec<Option<MemberSample>> = Vec::with_capacity(outcomes.len());
        let mut listed: Vec<ListedMember> = Vec::new();
        for (member, outcome) in self.members.iter().zip(outcomes) {
            let part = self.detail_part(&member.endpoint);
            match outcome {
                Outcome::Answered { sample, listed: members, problem } => {
                    status.set_detail(&part, problem.map(|p| format!("member {}: {p}", member.endpoint)));
                    if listed.is_empty() {
                        listed = members;
                    }
                    samples.push(Some(*sample));
                }
                Outcome::Failed(e) => {
                    let mut detail = format!("member {} unreachable: {e}", member.endpoint);
                    if let Some(hint) = tls_hint(self.config.tls.as_ref(), &e) {
                        detail = format!("{detail}; {hint}");
                    }
                    status.set_detail(&part, Some(detail));
                    samples.push(None);
                }
                Outcome::Skipped => samples.push(None),
            }
        }
        for member in &mut self.members {
            member.learn_identity(&listed);
        }

        self.count_keys(&mut samples, table, timeout, status).await;

        // Again with the identities learned from the member list (a member that never answered).
        let name = &self.config.name;
        for (member, sample) in self.members.iter().zip(&samples) {
            let points =
                member_points(name, &member.endpoint, member.identity(), sample.as_ref(), member.failures());
            table.replace(&member_key(name, &member.endpoint), points);
        }
        let view = ClusterView::from_samples(samples.iter().flatten());
        self.leader.observe(view.leader);
        table.replace(&format!("cluster/{name}"), cluster_points(name, &view, self.leader.changes()));
    }

    /// Each answering member counts all its keys at the lowest revision they all have (so the
    /// counts of members in sync are equal even under writes), and one member (the leader when
    /// it answered) counts the keys under each configured prefix; each unless switched off.
    async fn count_keys(
        &self,
        samples: &mut [Option<MemberSample>],
        table: &SeriesTable,
        timeout: Duration,
        status: &CollectorStatus,
    ) {
        let Some(revision) = samples.iter().flatten().map(|s| s.revision).min() else {
            table.remove(&format!("keys/{}", self.config.name));
            return;
        };
        let answering = || self.members.iter().zip(samples.iter()).filter(|(_, s)| s.is_some());
        let counter = answering()
            .find(|(_, s)| s.as_ref().is_some_and(|s| s.leader == s.id))
            .or_else(|| answering().next())
            .map(|(m, _)| m);
        let count_totals = self.config.consistency.key_count;
        let prefixes_counted: &[String] =
            if self.config.key_counts { &self.config.key_prefixes } else { &[] };
        let totals = join_all(self.members.iter().zip(samples.iter()).map(|(m, s)| async move {
            if s.is_some() && count_totals {
                Some(m.count_all_keys(revision, timeout).await)
            } else {
                None
            }
        }));
        let prefixes = join_all(prefixes_counted.iter().map(|prefix| async move {
            let count = match counter {
                Some(member) => member.count_prefix(prefix, timeout).await,
                None => Err(EtcdError::NotConnected),
            };
            (prefix.clone(), count)
        }));
        let (totals, prefixes) = tokio::join!(totals, prefixes);

        let mut problems = Vec::new();
        for ((member, sample), total) in self.members.iter().zip(samples.iter_mut()).zip(totals) {
            match (sample, total) {
                (Some(sample), Some(Ok(count))) => sample.key_count = Some(count),
                (_, Some(Err(e))) => problems.push(format!("{}: {e}", member.endpoint)),
                _ => {}
            }
        }
        let mut counts = Vec::new();
        for (prefix, count) in prefixes {
            match count {
                Ok(count) => counts.push((prefix, count)),
                Err(e) => problems.push(format!("prefix {prefix}: {e}")),
            }
        }
        table.replace(&format!("keys/{}", self.config.name), key_count_points(&self.config.name, &counts));
        let detail = (!problems.is_empty()).then(|| format!("key counts: {}", problems.join("; ")));
        status.set_detail(&self.detail_part("keys"), detail);
    }
}

fn member_key(cluster: &str, endpoint: &str) -> String {
    format!("member/{cluster}/{endpoint}")
}
