//! Test support shared by tests, benches and the scale harness; no dependency on the agent crate.

pub mod arbitrary;
mod counted_io;
pub mod fake_apiserver;
pub mod measure;
pub mod otlp_receiver;
mod ports;
pub mod scale;

pub use ports::{free_port, try_free_port};
