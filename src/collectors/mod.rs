//! The collectors and the boundary they share.

pub mod crds;
pub mod etcd;
pub mod nodes;

mod context;
mod declare;
mod relist;
mod spawn;
mod status;

pub use context::CollectorContext;
pub use declare::MetricDeclaration;
pub use spawn::{need_kubernetes, plans, CollectorPlan};
pub use status::{CollectorStatus, StatusBoard, StatusSnapshot};

/// The metrics each collector declares, by collector name. The crds collector declares none:
/// its metrics are the ones the configuration describes.
pub fn declared_metrics() -> Vec<(&'static str, &'static [MetricDeclaration])> {
    vec![("nodes", nodes::NodeMetric::DECLARATIONS), ("etcd", etcd::EtcdMetric::DECLARATIONS)]
}
