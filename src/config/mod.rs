//! The configuration file: model, loading, environment overrides, validation, and the plan it
//! compiles into.

mod env;
mod export;
mod load;
mod locations;
mod model;
mod plan;
mod validate;

pub use crate::collectors::CollectorsConfig;
pub use crate::config_parts::{index, join, ConfigIssue, ConfigIssues, Duration};
pub use env::Env;
pub use export::{
    BufferConfig, Compression, ExportConfig, OtlpConfig, OtlpProtocol, OtlpTlsConfig, PrometheusConfig,
};
pub use load::{load_file, load_str};
pub use model::{
    ClusterConfig, Config, KubernetesConfig, LeaderElectionConfig, LogFormat, LoggingConfig, ServerConfig,
};
pub use plan::Plan;
