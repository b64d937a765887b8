//! Owns the running collectors: one task and one cancellation token per collector name. Starts
//! leader-only collectors when the Lease is acquired and cancels them as soon as it is lost;
//! on reload, restarts only the collectors whose plan changed.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::collectors::{CollectorContext, CollectorPlan, CollectorStatus, StatusBoard};

/// How long a cancelled collector gets to return before its task is aborted. Either way its
/// series tables are dropped, which takes its series out of the next export.
const STOP_GRACE: Duration = Duration::from_secs(2);

struct Entry {
    plan: CollectorPlan,
    status: CollectorStatus,
    running: Option<Running>,
}

struct Running {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// What a call changed, by collector name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub started: Vec<&'static str>,
    pub stopped: Vec<&'static str>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.started.is_empty() && self.stopped.is_empty()
    }
}

/// The collectors of the current config.
pub struct Supervisor {
    /// Cloned for each start; its `cancel` is the parent of every collector's token.
    base: CollectorContext,
    board: StatusBoard,
    leader: bool,
    entries: Vec<Entry>,
}

impl Supervisor {
    /// An empty supervisor; `leader` says whether leader-only collectors may run.
    pub fn new(base: CollectorContext, board: StatusBoard, leader: bool) -> Self {
        Supervisor { base, board, leader, entries: Vec::new() }
    }

    /// Names of the collectors running now.
    #[cfg(test)]
    pub fn running(&self) -> Vec<&'static str> {
        self.entries.iter().filter(|e| e.running.is_some()).map(|e| e.plan.name).collect()
    }

    /// Replaces the plans: collectors no longer planned stop, new ones start, changed ones
    /// restart (the old run has stopped before the new one starts), equal ones keep running.
    /// Plans that are off count as not planned, and so do collectors that sharding does not
    /// split on a shard other than 0.
    pub async fn apply(&mut self, plans: Vec<CollectorPlan>) -> Changes {
        let mut changes = Changes::default();
        let mut old: Vec<Entry> = std::mem::take(&mut self.entries);
        let mut to_stop = Vec::new();
        let on_this_shard = |p: &CollectorPlan| match self.base.shard {
            Some(shard) if shard.index != 0 && !p.splits_objects() => {
                tracing::info!(
                    collector = p.name,
                    shard = shard.index,
                    "not split by sharding: runs on shard 0 only"
                );
                false
            }
            _ => true,
        };
        let plans: Vec<CollectorPlan> = plans.into_iter().filter(|p| p.enabled && on_this_shard(p)).collect();
        for plan in plans {
            match old.iter().position(|e| e.plan.name == plan.name) {
                Some(i) if old[i].plan == plan => self.entries.push(old.remove(i)),
                Some(i) => {
                    let mut entry = old.remove(i);
                    if let Some(running) = entry.running.take() {
                        to_stop.push((entry.plan.name, running));
                    }
                    entry.plan = plan;
                    self.entries.push(entry);
                }
                None => self.entries.push(Entry { plan, status: CollectorStatus::default(), running: None }),
            }
        }
        to_stop.extend(old.into_iter().filter_map(|mut e| e.running.take().map(|r| (e.plan.name, r))));
        changes.stopped = stop_all(to_stop).await;
        changes.started = self.start_allowed();
        self.publish();
        changes
    }

    /// Leadership changed: leader-only collectors start on the holder and stop elsewhere.
    pub async fn set_leader(&mut self, leader: bool) -> Changes {
        self.leader = leader;
        let mut to_stop = Vec::new();
        for entry in self.entries.iter_mut().filter(|e| e.plan.leader_only && !leader) {
            if let Some(running) = entry.running.take() {
                to_stop.push((entry.plan.name, running));
            }
        }
        let stopped = stop_all(to_stop).await;
        let started = self.start_allowed();
        self.publish();
        Changes { started, stopped }
    }

    /// Stops every collector (shutdown).
    pub async fn stop(&mut self) {
        let running = self.entries.iter_mut().filter_map(|e| e.running.take().map(|r| (e.plan.name, r)));
        stop_all(running.collect()).await;
    }

    /// Starts every entry that may run here and is not running; marks the others standby.
    fn start_allowed(&mut self) -> Vec<&'static str> {
        let mut started = Vec::new();
        for entry in &mut self.entries {
            let allowed = self.leader || !entry.plan.leader_only;
            if entry.running.is_some() {
                continue;
            }
            // A fresh status per run: no details or readiness left over from the last one.
            entry.status = CollectorStatus::default();
            if !allowed {
                entry.status.set_standby(true);
                continue;
            }
            let cancel = self.base.cancel.child_token();
            let ctx = CollectorContext {
                name: entry.plan.name.to_owned(),
                cancel: cancel.clone(),
                status: entry.status.clone(),
                ..self.base.clone()
            };
            entry.status.mark_started();
            let task = entry.plan.spawn(ctx);
            entry.running = Some(Running { cancel, task });
            started.push(entry.plan.name);
        }
        started
    }

    /// Shows the current entries on the status board (health endpoints, self-metrics).
    fn publish(&self) {
        *self.board.write() =
            self.entries.iter().map(|e| (e.plan.name.to_owned(), e.status.clone())).collect();
    }
}

/// Cancels every collector at once, then waits for each (aborting after `STOP_GRACE`).
async fn stop_all(running: Vec<(&'static str, Running)>) -> Vec<&'static str> {
    for (_, r) in &running {
        r.cancel.cancel();
    }
    let waits = running.into_iter().map(|(name, mut r)| async move {
        if tokio::time::timeout(STOP_GRACE, &mut r.task).await.is_err() {
            tracing::warn!(collector = name, "collector did not stop in time; aborted");
            r.task.abort();
            let _ = r.task.await;
        }
        name
    });
    futures::future::join_all(waits).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::CollectorsConfig;
    use crate::series::MetricsRegistry;
    use crate::telemetry::SelfMetrics;

    fn supervisor(leader: bool) -> (Supervisor, StatusBoard) {
        let base = CollectorContext {
            name: String::new(),
            cancel: CancellationToken::new(),
            registry: MetricsRegistry::new(),
            status: CollectorStatus::default(),
            self_metrics: SelfMetrics::noop(),
            kube: None,
            shard: None,
        };
        let board = StatusBoard::default();
        (Supervisor::new(base, board.clone(), leader), board)
    }

    fn plans(config: &CollectorsConfig) -> Vec<CollectorPlan> {
        let mut issues = crate::config::ConfigIssues::new();
        let plans = config.compile("collectors", &mut issues);
        assert!(issues.is_empty(), "{issues}");
        plans
    }

    /// An etcd section pointing at a closed port: the collector runs (polls fail) until cancelled.
    fn config(etcd_leader_only: bool, interval_secs: u64) -> CollectorsConfig {
        let yaml = format!(
            "nodes: {{enabled: false}}\netcd:\n  enabled: true\n  leaderElection: {etcd_leader_only}\n  interval: {interval_secs}s\n  timeout: 100ms\n  clusters: [{{name: c, endpoints: [\"http://127.0.0.1:1\"]}}]\n"
        );
        serde_saphyr::from_str(&yaml).unwrap()
    }

    #[tokio::test]
    async fn leader_only_collectors_follow_the_lease() {
        let (mut sup, board) = supervisor(false);
        let changes = sup.apply(plans(&config(true, 30))).await;
        assert!(changes.is_empty(), "{changes:?}");
        assert!(board.read()[0].1.is_standby());

        let changes = sup.set_leader(true).await;
        assert_eq!(changes.started, ["etcd"]);
        assert_eq!(sup.running(), ["etcd"]);
        assert!(!board.read()[0].1.is_standby());

        let changes = sup.set_leader(false).await;
        assert_eq!(changes.stopped, ["etcd"]);
        assert!(sup.running().is_empty());
        assert!(board.read()[0].1.is_standby());
    }

    #[tokio::test]
    async fn collectors_for_every_replica_run_without_the_lease() {
        let (mut sup, _) = supervisor(false);
        let changes = sup.apply(plans(&config(false, 30))).await;
        assert_eq!(changes.started, ["etcd"]);
        assert!(sup.set_leader(true).await.is_empty());
        sup.stop().await;
        assert!(sup.running().is_empty());
    }

    #[tokio::test]
    async fn a_reload_restarts_only_what_changed() {
        let (mut sup, board) = supervisor(true);
        sup.apply(plans(&config(true, 30))).await;
        board.read()[0].1.set_detail("marker", Some("first run".into()));
        assert!(sup.apply(plans(&config(true, 30))).await.is_empty());

        let changes = sup.apply(plans(&config(true, 10))).await;
        assert_eq!(changes, Changes { started: vec!["etcd"], stopped: vec!["etcd"] });
        assert!(board.read()[0].1.snapshot().details.is_empty(), "a restart gets a fresh status");

        let none: CollectorsConfig = serde_saphyr::from_str("nodes: {enabled: false}").unwrap();
        let changes = sup.apply(plans(&none)).await;
        assert_eq!(changes.stopped, ["etcd"]);
        assert!(board.read().is_empty());
    }
}
