//! The running agent: orchestration, health endpoints, signals.

mod agent;
mod election;
pub mod health;
mod lease_client;
mod shutdown;
mod supervisor;

pub use agent::{run, RunError, SHUTDOWN_DEADLINE};
pub use shutdown::on_signal;
