//! The collectors and the boundary they share.

mod context;
pub mod etcd;
mod status;

pub use context::CollectorContext;
pub use status::{CollectorStatus, StatusSnapshot};
