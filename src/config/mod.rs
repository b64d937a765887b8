//! The configuration file: model, loading, environment overrides and validation.

mod collectors;
mod duration;
mod env;
mod export;
mod issues;
mod load;
mod locations;
mod model;
mod validate;

pub use collectors::CollectorsConfig;
pub use duration::Duration;
pub use env::Env;
pub use export::{
    BufferConfig, Compression, ExportConfig, OtlpConfig, OtlpProtocol, PrometheusConfig, TlsConfig,
};
pub use issues::{index, join, ConfigIssue, ConfigIssues};
pub use load::{load_file, load_str};
pub use model::{
    ClusterConfig, Config, KubernetesConfig, LeaderElectionConfig, LogFormat, LoggingConfig, ServerConfig,
};
