//! The collectors and the boundary they share.

pub mod crds;
pub mod etcd;
pub mod nodes;

mod context;
mod spawn;
mod status;

pub use context::CollectorContext;
pub use spawn::{need_kubernetes, plans, CollectorPlan};
pub use status::{CollectorStatus, StatusBoard, StatusSnapshot};
