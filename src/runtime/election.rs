//! Leader election on a `coordination.k8s.io/v1` Lease, kept with kube-lease-manager.
//!
//! Timing (SPEC §3 `leaderElection`): the Lease is valid for `leaseDuration` (whole seconds);
//! the holder renews it every `retryPeriod` (rounded up to whole seconds) and counts as leader
//! only while its last successful write is younger than `renewDeadline`, so it gives up before
//! any other replica may take the Lease over (`renewDeadline < leaseDuration`). A replica that
//! is told by the library that another identity holds the Lease gives up at once. A standby
//! checks the Lease when it would expire and takes it over then. On shutdown the holder
//! releases the Lease, so a standby does not wait for it to expire.

use std::time::Duration;

use kube_lease_manager::{LeaseCreateMode, LeaseManager, LeaseParams};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::lease_client::{self, RenewClock};
use crate::config::{Env, LeaderElectionConfig};

/// The running election: leadership is published on `leader`.
pub struct Election {
    pub leader: watch::Receiver<bool>,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Election {
    /// Starts campaigning for the Lease as `identity`.
    pub fn start(client: &kube::Client, config: &LeaderElectionConfig, identity: String, env: &Env) -> Self {
        let renew_deadline = config.renew_deadline.get();
        let (client, clock) = lease_client::tracked(client, renew_deadline);
        let namespace = if !config.namespace.is_empty() {
            config.namespace.clone()
        } else {
            env.get("POD_NAMESPACE").unwrap_or(client.default_namespace()).to_owned()
        };
        let lease = config.lease_seconds();
        let params = LeaseParams::new(identity.clone(), lease, lease - config.renew_seconds());
        let campaign = Campaign {
            client,
            clock,
            namespace,
            lease_name: config.lease_name.clone(),
            identity,
            params,
            retry: config.retry_period.get(),
            renew_deadline,
        };
        let (tx, leader) = watch::channel(false);
        let stop = CancellationToken::new();
        let task = tokio::spawn(campaign.run(tx, stop.clone()));
        Election { leader, stop, task }
    }

    /// Stops campaigning; a holder releases the Lease first (bounded by the request deadline).
    pub async fn release(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

struct Campaign {
    client: kube::Client,
    clock: RenewClock,
    namespace: String,
    lease_name: String,
    identity: String,
    params: LeaseParams,
    retry: Duration,
    renew_deadline: Duration,
}

impl Campaign {
    /// Publishes leadership while the current manager holds the Lease and its last write
    /// (acquisition or renewal) is younger than `renewDeadline`. After a failed request the
    /// manager is rebuilt; until the new one confirms the Lease, leadership lasts only as long
    /// as the last confirmed write allows.
    async fn run(self, tx: watch::Sender<bool>, stop: CancellationToken) {
        tracing::info!(
            lease = %self.lease_name, namespace = %self.namespace, identity = %self.identity,
            "leader election started"
        );
        let mut writes = self.clock.subscribe();
        let mut manager: Option<LeaseManager> = None;
        let mut next_attempt = Instant::now();
        let mut state = Leadership::default();
        loop {
            // The manager's future lives across renewals: dropping it mid-renewal would lose
            // what it had just learned about the Lease.
            let outcome = {
                let step = self.step(&mut manager, next_attempt);
                tokio::pin!(step);
                loop {
                    let valid_until = state.publish(&self, &tx);
                    tokio::select! {
                        _ = stop.cancelled() => break None,
                        _ = sleep_until(valid_until) => {}
                        _ = writes.changed() => {}
                        result = &mut step => break Some(result),
                    }
                }
            };
            match outcome {
                None => break,
                Some(Ok(is_holder)) => {
                    state.holder = is_holder;
                    state.keeping = false;
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, retry_in = ?self.retry, "Lease request failed");
                    state.keeping |= state.holder;
                    state.holder = false;
                    manager = None;
                    next_attempt = Instant::now() + self.retry;
                }
            }
        }
        tx.send_replace(false);
        if state.holder || state.keeping {
            self.release(manager).await;
        }
    }

    /// Waits for the next change of holder, building the manager first (not before
    /// `not_before`) when there is none.
    async fn step(
        &self,
        manager: &mut Option<LeaseManager>,
        not_before: Instant,
    ) -> kube_lease_manager::Result<bool> {
        let manager = match manager {
            Some(m) => m,
            None => {
                tokio::time::sleep_until(not_before).await;
                manager.insert(self.manager(LeaseCreateMode::AutoCreate).await?)
            }
        };
        manager.changed().await
    }

    /// A manager starts out not holding the Lease, and reads it before it claims anything.
    async fn manager(&self, mode: LeaseCreateMode) -> kube_lease_manager::Result<LeaseManager> {
        LeaseManager::new(self.client.clone(), &self.lease_name, &self.namespace, self.params.clone(), mode)
            .await
    }

    async fn release(&self, manager: Option<LeaseManager>) {
        let manager = match manager {
            Some(m) => Ok(m),
            None => self.manager(LeaseCreateMode::UseExistent).await,
        };
        match manager {
            Ok(m) => match m.release().await {
                Ok(()) => tracing::info!(lease = %self.lease_name, "Lease released"),
                Err(error) => tracing::warn!(%error, "cannot release the Lease; it expires on its own"),
            },
            Err(error) => tracing::warn!(%error, "cannot release the Lease; it expires on its own"),
        }
    }
}

/// What the campaign knows about its hold on the Lease.
#[derive(Default)]
struct Leadership {
    /// The current manager reported us as holder.
    holder: bool,
    /// We were holder when the manager failed; a new one has not confirmed yet.
    keeping: bool,
    /// The last write made while the manager held the Lease.
    confirmed: Option<Instant>,
}

impl Leadership {
    /// Publishes whether we lead now; returns until when, while we do.
    fn publish(&mut self, campaign: &Campaign, tx: &watch::Sender<bool>) -> Option<Instant> {
        if self.holder {
            self.confirmed = campaign.clock.last_write();
        }
        let until =
            self.confirmed.map(|t| t + campaign.renew_deadline).filter(|_| self.holder || self.keeping);
        let leader = until.is_some_and(|until| Instant::now() < until);
        if tx.send_replace(leader) != leader {
            tracing::info!(identity = %campaign.identity, leader, "leadership changed");
        }
        if !leader && self.keeping {
            tracing::warn!(
                deadline = ?campaign.renew_deadline,
                "the Lease was not renewed within renewDeadline; gave up leadership"
            );
            self.keeping = false;
        }
        until.filter(|_| leader)
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
