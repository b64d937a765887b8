//! Talking to the Kubernetes API server: the client, its QPS limit, pruning of objects nested
//! deeper than the JSON parser allows, and the list-then-watch every collector runs.

mod client;
mod depth;
mod depth_blocks;
pub mod list_items;
pub mod list_watch;
mod rate_limit;

pub use client::{client, cluster_uid, ClientError};
pub use depth::guard_text;
pub use list_watch::list_watch;
pub use rate_limit::{RateLimitLayer, TokenBucket};
