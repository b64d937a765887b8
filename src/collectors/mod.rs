//! The collectors and the one seam through which the rest of the agent uses them: each
//! collector's folder compiles its config section into a [`CollectorPlan`] (its `seam.rs`), and
//! `check`, `rbac`, `render` and the runtime only ever ask plans. Nothing outside this folder
//! names a collector; `sections.rs` is the one list of them.

pub mod crds;
pub mod etcd;
pub mod nodes;

mod context;
mod declare;
mod plan;
mod relist;
mod sections;
mod shared;
mod status;

pub use context::CollectorContext;
pub use declare::MetricDeclaration;
pub use plan::{need_kubernetes, CollectorPlan, ReadAccess, StatusAccess};
pub use sections::{declared_metrics, CollectorsConfig};
pub use shared::shard::{ordinal, Shard, SHARD_ATTRIBUTE};
pub use status::{CollectorStatus, StatusBoard, StatusSnapshot};
