//! The subcommands other than `run` (which is `runtime::run`).

mod check;
mod rbac;
mod render;

pub use check::{check, cluster_preview, summary, CheckError};
pub use rbac::{cluster_role, lease_role, rbac};
pub use render::{load_for_render, render, RenderError, RenderFormat, Rendered};
