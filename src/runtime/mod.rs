//! The running agent: orchestration, health endpoints, signals.

mod agent;
pub mod health;
mod malloc;
mod shutdown;

pub use agent::{run, RunError, SHUTDOWN_DEADLINE};
pub use malloc::limit_malloc_arenas;
pub use shutdown::on_signal;
