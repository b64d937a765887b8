//! Kubernetes objects read from files, for `kube-state-otel render --objects PATH...`.
//!
//! Files or directories (recursively: `.yaml`, `.yml`, `.json`), multi-document YAML,
//! `kind: List` and typed lists (`kubectl get -o yaml|json`, raw API list responses), JSON.

mod json_kind;
mod kinds;
mod read;
mod sourced;

pub use json_kind::json_kind;
pub use kinds::{is_of_resource, plural_candidates, plural_guess};
pub use read::{read_objects, read_objects_from_str, ObjectsError};
pub use sourced::{read_sourced, SourcedObject};
