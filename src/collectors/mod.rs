//! The collectors and the one seam through which the rest of the agent uses them: each
//! collector's folder compiles its config section into a [`CollectorPlan`] (its `seam.rs`), and
//! `check`, `rbac`, `render` and the runtime only ever ask plans. Nothing outside this folder
//! names a collector; `sections.rs` is the one list of them.

pub mod crds;
pub mod etcd;
pub mod nodes;

mod context;
mod plan;
mod sections;
mod shared;
mod status;

pub use context::CollectorContext;
pub use plan::{need_kubernetes, CollectorPlan, ReadAccess};
pub use sections::CollectorsConfig;
pub use status::{CollectorStatus, StatusBoard, StatusSnapshot};
