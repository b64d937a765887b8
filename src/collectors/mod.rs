//! The collectors and the boundary they share.

mod context;
mod spawn;
mod status;

pub use context::CollectorContext;
pub use spawn::{need_kubernetes, spawn_all};
pub use status::{CollectorStatus, StatusSnapshot};
