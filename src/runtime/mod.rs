//! The running agent: orchestration, health and Prometheus endpoints, signals.

mod agent;
mod config_watch;
mod election;
pub mod health;
mod lease_client;
mod logging;
mod metrics_auth;
mod metrics_tls;
mod observed;
mod prometheus_endpoint;
mod reload;
mod shutdown;
mod supervisor;

pub use crate::malloc::tune_malloc;
pub use agent::{run, run_watching, RunError, SHUTDOWN_DEADLINE};
pub use logging::{init as init_logging, Logging};
pub use shutdown::on_signal;
