//! The series tables: what collectors write and the export reads. Storage only.
//!
//! A collector keeps only extracted points per object (never whole objects). Every export reads
//! the tables afresh, so a removed object's points are absent from the next export.

mod aggregates;
mod combined;
pub mod encoded;
mod registry;
mod rows;
mod spec;
mod table;

pub use aggregates::{Reducer, Reduction, DISTINCT_VALUE};
pub use registry::{MetricsRegistry, TableHandle};
pub use spec::{Aggregation, InstrumentKind, MetricId, MetricSpec, Point};
pub use table::SeriesTable;
