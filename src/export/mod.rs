//! The export: one snapshot of the series tables plus the agent's own metrics, consumed three
//! ways. The OTLP push encodes it in bounded chunks into a retry queue (`push`, `transport`), on
//! its own timer; a `/metrics` scrape and `render` take it as one request, built directly, for
//! `exposition` to print.

mod chunks;
pub mod compress;
mod cycle;
mod encode;
#[cfg(test)]
mod encode_properties;
mod envelope;
mod exporter;
mod frame;
mod own_metrics;
mod push;
mod reader;
pub mod resource;
mod snapshot;
#[cfg(test)]
mod snapshot_tests;
mod transport;
mod unary;
mod whole;

pub use chunks::MAX_POINTS_PER_REQUEST;
pub use cycle::CycleTime;
pub use envelope::{unix_nano, Envelope, ExportTimes};
pub use exporter::{ExportError, Exporter};
pub use frame::EncodedRequest;
pub use own_metrics::{CollectError, OwnMetrics};
pub use push::{ExportStats, Pusher};
pub use snapshot::{count_points, Snapshot};
pub use transport::{Transport, TransportError};
