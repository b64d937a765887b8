//! Applying a changed config file to the running agent (SPEC §3): the new file is loaded with
//! the same loader and environment as at start; an invalid one is rejected with all its errors
//! and the running config stays; a valid one restarts only the collectors whose section changed
//! and switches the OTLP exporter to the new export settings. What cannot change while running
//! is named in a warning, and the rest is applied.

use std::path::PathBuf;

use super::supervisor::Supervisor;
use tracing::Instrument;

use crate::config::{self, Config, Env, Plan};
use crate::export::{Pusher, Transport};
use crate::telemetry::{ReloadResult, SelfMetrics};

/// Sections read once at start (listeners, clients, the meter provider, logging, the Lease).
pub fn needs_restart(old: &Config, new: &Config) -> Vec<&'static str> {
    let (o, n) = (&old.export, &new.export);
    [
        ("cluster", old.cluster != new.cluster),
        ("kubernetes", old.kubernetes != new.kubernetes),
        ("server", old.server != new.server),
        ("logging", old.logging != new.logging),
        ("leaderElection", old.leader_election != new.leader_election),
        ("sharding", old.sharding != new.sharding),
        ("export.interval", o.interval != n.interval),
        ("export.cardinalityLimit", o.cardinality_limit != n.cardinality_limit),
        ("export.resource", o.resource != n.resource),
        ("export.prometheus", o.prometheus != n.prometheus),
        ("export.otlp.traces", o.otlp.traces != n.otlp.traces),
    ]
    .into_iter()
    .filter_map(|(section, changed)| changed.then_some(section))
    .collect()
}

/// Whether the OTLP metric export itself changed (endpoint, protocol, headers, compression,
/// TLS, buffer, on/off, timeout), which a new transport takes care of.
fn otlp_changed(old: &Config, new: &Config) -> bool {
    let strip = |c: &Config| {
        let mut otlp = c.export.otlp.clone();
        otlp.traces = false;
        (otlp, c.export.timeout)
    };
    strip(old) != strip(new)
}

/// What the agent needs to apply a reload.
pub struct Reloader {
    pub path: PathBuf,
    pub env: Env,
    pub pusher: Pusher,
    pub self_metrics: SelfMetrics,
}

impl Reloader {
    /// Loads the file again and applies it over `current` (in a `config.reload` span).
    pub async fn reload(&self, current: &mut Plan, supervisor: &mut Supervisor) {
        let span = tracing::info_span!("config.reload", path = %self.path.display());
        self.reload_in_span(current, supervisor).instrument(span).await;
    }

    async fn reload_in_span(&self, current: &mut Plan, supervisor: &mut Supervisor) {
        let path = self.path.display().to_string();
        let new = match config::load_file(&self.path, &self.env) {
            Ok(new) => new,
            Err(issues) => {
                tracing::error!(%path, errors = issues.len(), "config change rejected; the running config stays:\n{issues}");
                self.self_metrics.config_reload(ReloadResult::Failure);
                return;
            }
        };
        if new == *current {
            tracing::debug!(%path, "config file touched but unchanged");
            return;
        }
        let export = &new.config.export;
        let transport = if !otlp_changed(&current.config, &new.config) {
            None
        } else if !export.otlp.enabled {
            Some(None)
        } else {
            match Transport::new(&export.otlp, export.timeout.get()) {
                Ok(t) => Some(Some(t)),
                Err(error) => {
                    tracing::error!(%path, %error, "config change rejected; the running config stays");
                    self.self_metrics.config_reload(ReloadResult::Failure);
                    return;
                }
            }
        };
        for section in needs_restart(&current.config, &new.config) {
            tracing::warn!(%path, section, "changed in the config file; takes effect at the next restart");
        }
        let changes = supervisor.apply(new.collectors.clone()).await;
        if let Some(transport) = transport {
            self.pusher.reconfigure(transport, export.timeout.get(), export.otlp.buffer.max_batches);
            tracing::info!(endpoint = %export.otlp.endpoint, enabled = export.otlp.enabled, "OTLP export switched");
        }
        tracing::info!(%path, started = ?changes.started, stopped = ?changes.stopped, "config reloaded");
        self.self_metrics.config_reload(ReloadResult::Success);
        *current = new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_read_at_start_are_named_and_export_settings_are_not() {
        let old = Config::default();
        let mut new = old.clone();
        new.export.otlp.endpoint = "http://elsewhere:4317".into();
        new.export.otlp.headers.insert("x-tenant".into(), "a".into());
        new.collectors.etcd.enabled = Some(true);
        assert!(needs_restart(&old, &new).is_empty());
        assert!(otlp_changed(&old, &new));

        new.server.listen = "0.0.0.0:9999".into();
        new.export.interval = crate::config::Duration::from_secs(5);
        new.leader_election.lease_name = "other".into();
        assert_eq!(needs_restart(&old, &new), ["server", "leaderElection", "export.interval"]);

        let mut traces_only = old.clone();
        traces_only.export.otlp.traces = true;
        assert!(!otlp_changed(&old, &traces_only));
        assert_eq!(needs_restart(&old, &traces_only), ["export.otlp.traces"]);
    }
}
