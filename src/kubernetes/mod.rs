//! Talking to the Kubernetes API server.

mod client;
mod rate_limit;

pub use client::{client, cluster_uid, ClientError};
pub use rate_limit::{RateLimitLayer, TokenBucket};
