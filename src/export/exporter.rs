//! The export side of the running agent: a snapshot of the series tables and the agent's own
//! metrics, taken on the export's own timer and pushed over OTLP, or on demand for a scrape.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::cycle::Cycle;
use super::envelope::{unix_nano, Envelope, ExportTimes};
use super::own_metrics::{CollectError, OwnMetrics};
use super::push::Pusher;
use super::snapshot::Snapshot;
use super::transport::TransportError;
use crate::series::MetricsRegistry;

/// Why an export did not reach the Collector.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Collect(#[from] CollectError),
    #[error(transparent)]
    Send(#[from] TransportError),
}

/// Reads what the collectors wrote and sends it. Cheap to clone.
#[derive(Clone)]
pub struct Exporter {
    registry: MetricsRegistry,
    own: OwnMetrics,
    envelope: Arc<Envelope>,
    pusher: Pusher,
    /// Start of the cumulative series: the agent's start.
    started_unix_nano: u64,
}

impl Exporter {
    /// Exports `registry`'s tables with `own`'s metrics under `envelope`, through `pusher`;
    /// adds the `kube_state_otel.export.duration` self-metric.
    pub fn new(registry: MetricsRegistry, own: OwnMetrics, envelope: Envelope, pusher: Pusher) -> Self {
        let stats = pusher.stats();
        own.meter()
            .f64_observable_gauge("kube_state_otel.export.duration")
            .with_unit("s")
            .with_description("Time the previous export took to read and encode, by clock (wall, cpu)")
            .with_callback(move |o| {
                let last = stats.cycle.last();
                let (wall, cpu) = last.map_or((0.0, 0.0), |c| (c.wall.as_secs_f64(), c.cpu.as_secs_f64()));
                o.observe(wall, &[KeyValue::new("clock", "wall")]);
                o.observe(cpu, &[KeyValue::new("clock", "cpu")]);
            })
            .build();
        Exporter {
            registry,
            own,
            envelope: Arc::new(envelope),
            pusher,
            started_unix_nano: unix_nano(SystemTime::now()),
        }
    }

    /// The tables this exporter reads.
    pub fn registry(&self) -> &MetricsRegistry {
        &self.registry
    }

    pub fn pusher(&self) -> &Pusher {
        &self.pusher
    }

    pub fn own_metrics(&self) -> &OwnMetrics {
        &self.own
    }

    /// The agent's own metrics and the tables as of now.
    pub fn snapshot(&self) -> Result<Snapshot, CollectError> {
        let own = self.own.collect()?;
        let times = ExportTimes::now(self.started_unix_nano);
        Ok(Snapshot::new(&self.registry, Some(own), self.envelope.clone(), times))
    }

    /// Everything as of now in one request (a `/metrics` scrape).
    pub fn scrape(&self) -> Result<ExportMetricsServiceRequest, CollectError> {
        Ok(self.snapshot()?.into_request())
    }

    /// One export now, pushed to the Collector (a no-op while OTLP is off). A failed export
    /// stays queued and is retried in the background.
    pub async fn export_once(&self) -> Result<(), ExportError> {
        if !self.pusher.is_sending() {
            return Ok(());
        }
        let mut cycle = Cycle::default();
        let snapshot = cycle.measure(|| self.snapshot())?;
        Ok(self.pusher.push(snapshot, cycle).await?)
    }

    /// Exports every `interval` (the first one interval from now) until `stop` fires.
    pub async fn run(&self, interval: Duration, stop: CancellationToken) {
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            // Failures are logged and counted where they happen; the data stays queued.
            let _ = self.export_once().instrument(tracing::info_span!("export")).await;
        }
    }
}
