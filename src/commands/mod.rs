//! The subcommands other than `run` (which is `runtime::run`).

mod check;

pub use check::{check, summary};
