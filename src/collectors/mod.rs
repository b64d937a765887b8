//! The collectors and the boundary they share.

pub mod crds;

mod context;
mod status;

pub use context::CollectorContext;
pub use status::{CollectorStatus, StatusSnapshot};
