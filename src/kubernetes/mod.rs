//! Talking to the Kubernetes API server: the client, its QPS limit, and pruning of objects
//! nested deeper than the JSON parser allows.

mod client;
mod depth;
mod rate_limit;

pub use client::{client, cluster_uid, ClientError};
pub use rate_limit::{RateLimitLayer, TokenBucket};
