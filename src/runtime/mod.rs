//! The running agent: orchestration, health endpoints, signals.

mod agent;
pub mod health;
mod shutdown;

pub use agent::{run, RunError, SHUTDOWN_DEADLINE};
pub use shutdown::on_signal;
