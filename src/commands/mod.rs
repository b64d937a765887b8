//! The subcommands other than `run` (which is `runtime::run`).

mod check;
mod rbac;

pub use check::{check, summary};
pub use rbac::{cluster_role, lease_role, rbac};
