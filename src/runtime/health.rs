//! `GET /healthz` and `GET /readyz` (SPEC §7), both JSON with per-collector state.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::collectors::StatusBoard;

/// What the endpoints report from.
#[derive(Clone)]
pub struct Health {
    pub board: StatusBoard,
    /// True on the Lease holder (or when leader election is off).
    pub leader: Arc<AtomicBool>,
    /// False when leader election is off: every replica runs everything.
    pub election: bool,
    /// Set at the start of shutdown; `/healthz` then fails.
    pub shutting_down: Arc<AtomicBool>,
}

impl Health {
    fn collectors(&self) -> Value {
        let board = self.board.read();
        Value::Object(board.iter().map(|(name, s)| (name.clone(), json!(s.snapshot()))).collect())
    }

    /// Ready when every collector this replica runs has synced; leader-only collectors waiting
    /// for the Lease do not count, so a standby is ready.
    pub fn readiness(&self) -> (bool, Value) {
        let leader = self.leader.load(Ordering::Relaxed);
        let standby = self.election && !leader;
        let ready = self.board.read().iter().all(|(_, s)| s.is_ready() || s.is_standby());
        let body = json!({
            "status": if ready { "ready" } else { "not ready" },
            "role": if standby { "standby" } else if self.election { "leader" } else { "active" },
            "collectors": self.collectors(),
        });
        (ready, body)
    }

    fn liveness(&self) -> (bool, Value) {
        let alive = !self.shutting_down.load(Ordering::Relaxed);
        (
            alive,
            json!({"status": if alive { "ok" } else { "shutting down" }, "collectors": self.collectors()}),
        )
    }
}

async fn healthz(State(h): State<Health>) -> (StatusCode, Json<Value>) {
    respond(h.liveness())
}

async fn readyz(State(h): State<Health>) -> (StatusCode, Json<Value>) {
    respond(h.readiness())
}

fn respond((ok, body): (bool, Value)) -> (StatusCode, Json<Value>) {
    (if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

/// Binds `listen` and serves until `stop` fires, with `extra` routes beside the health ones;
/// returns the bound address.
pub async fn serve(
    listen: &str,
    health: Health,
    extra: Router,
    stop: CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(health)
        .merge(extra);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(stop.cancelled_owned()).await;
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collectors::CollectorStatus;

    fn health(election: bool, leader: bool) -> (Health, CollectorStatus) {
        let status = CollectorStatus::default();
        let board: StatusBoard = Arc::default();
        board.write().push(("etcd".into(), status.clone()));
        let h = Health {
            board,
            leader: Arc::new(AtomicBool::new(leader)),
            election,
            shutting_down: Arc::default(),
        };
        (h, status)
    }

    #[test]
    fn ready_only_when_every_collector_has_synced_or_on_a_standby() {
        let (h, status) = health(true, true);
        assert!(!h.readiness().0);
        status.set_ready(true);
        let (ready, body) = h.readiness();
        assert!(ready);
        assert_eq!(body["role"], "leader");
        assert_eq!(body["collectors"]["etcd"]["ready"], true);

        let (standby, status) = health(true, false);
        status.set_standby(true);
        let (ready, body) = standby.readiness();
        assert!(ready);
        assert_eq!(body["role"], "standby");
        assert_eq!(body["collectors"]["etcd"]["standby"], true);
    }

    #[test]
    fn a_standby_still_waits_for_the_collectors_it_runs_on_every_replica() {
        let (h, status) = health(true, false);
        let (ready, body) = h.readiness();
        assert!(!ready, "{body}");
        status.set_ready(true);
        assert!(h.readiness().0);
    }

    #[test]
    fn liveness_fails_once_shutdown_starts() {
        let (h, _) = health(false, true);
        assert!(h.liveness().0);
        h.shutting_down.store(true, Ordering::Relaxed);
        assert_eq!(h.liveness().1["status"], "shutting down");
    }
}
