//! The running agent: orchestration, health and Prometheus endpoints, signals.

mod agent;
pub mod health;
mod prometheus_endpoint;
mod shutdown;

pub use agent::{run, RunError, SHUTDOWN_DEADLINE};
pub use shutdown::on_signal;
