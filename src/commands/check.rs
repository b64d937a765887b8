//! `kube-state-otel check`: validate a config and say what would run.

use std::fmt::{self, Write};
use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigIssues, Env, Plan};

/// A config file that does not load: every problem in it, each printed after the file name,
/// then their count.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CheckError {
    pub path: PathBuf,
    pub issues: ConfigIssues,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for issue in self.issues.iter() {
            writeln!(f, "{}: {issue}", self.path.display())?;
        }
        write!(f, "{} error(s) in {}", self.issues.len(), self.path.display())
    }
}

/// Loads `path`; on success returns the plan and its summary, on failure every error.
pub fn check(path: &Path, env: &Env) -> Result<(Plan, String), CheckError> {
    let plan = config::load_file(path, env).map_err(|issues| CheckError { path: path.to_owned(), issues })?;
    let summary = summary(&plan);
    Ok((plan, summary))
}

/// A human summary of what `run` would do with this plan.
pub fn summary(plan: &Plan) -> String {
    let config: &Config = &plan.config;
    let mut s = String::new();
    let export = &config.export;
    let cluster = if config.cluster.name.is_empty() { "(unnamed)" } else { &config.cluster.name };
    let _ = writeln!(s, "config OK");
    let _ = writeln!(s, "cluster: {cluster}");
    if export.otlp.enabled {
        let _ = writeln!(
            s,
            "export: OTLP {:?} to {} every {} (timeout {}, compression {}, buffer {} exports)",
            export.otlp.protocol,
            export.otlp.endpoint,
            export.interval,
            export.timeout,
            compression(&export.otlp),
            export.otlp.buffer.max_batches
        );
    } else {
        let _ = writeln!(s, "export: OTLP disabled");
    }
    if export.prometheus.enabled {
        let prometheus = &export.prometheus;
        let scheme = if prometheus.tls.is_some() { "https" } else { "http" };
        let token = if prometheus.bearer_token.is_some() { " (bearer token required)" } else { "" };
        let _ = writeln!(s, "prometheus: GET {scheme}://{}/metrics{token}", prometheus.listen);
    }
    let le = &config.leader_election;
    if le.enabled {
        let _ = writeln!(
            s,
            "leader election: Lease {}/{} (duration {})",
            le.namespace, le.lease_name, le.lease_duration
        );
    } else {
        let _ = writeln!(s, "leader election: off (every replica runs every collector)");
    }
    if let Some(sharding) = config.sharding.as_ref().filter(|s| s.total_shards.unwrap_or(1) > 1) {
        let total = sharding.total_shards.unwrap_or(1);
        let which = match (sharding.auto, sharding.shard) {
            (true, _) => "the ordinal of the pod name".to_owned(),
            (false, shard) => shard.unwrap_or(0).to_string(),
        };
        let _ = writeln!(
            s,
            "sharding: shard {which} of {total} (custom resources split by UID; nodes and etcd on shard 0)"
        );
    }
    let _ = writeln!(s, "health: http://{}/healthz, /readyz", config.server.listen);
    let collectors: Vec<String> = plan.collectors.iter().flat_map(|c| c.summary()).collect();
    if collectors.is_empty() {
        let _ = writeln!(s, "collectors: none enabled");
    } else {
        let _ = writeln!(s, "collectors:");
        for line in collectors {
            let _ = writeln!(s, "  {line}");
        }
    }
    s
}

/// `check --cluster`: the summary's counterpart in the cluster the config reaches, one line per
/// unit of work that has something to say (which types a `select` entry matches now, a
/// configured type that is missing or cannot be watched).
pub async fn cluster_preview(plan: &Plan) -> Result<String, crate::kubernetes::ClientError> {
    let client = crate::kubernetes::client(&plan.config.kubernetes).await?;
    let mut s = String::from("in the cluster:\n");
    for collector in &plan.collectors {
        for line in collector.preview(client.clone()).await {
            let _ = writeln!(s, "  {line}");
        }
    }
    Ok(s)
}

/// `none`, or the algorithm and the level in effect, e.g. `zstd level 3`.
fn compression(otlp: &crate::config::OtlpConfig) -> String {
    match otlp.compression {
        crate::config::Compression::None => "none".into(),
        c => format!("{} level {}", format!("{c:?}").to_lowercase(), otlp.effective_compression_level()),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{load_str, Env};

    fn export_line(yaml: &str) -> String {
        let plan = load_str(yaml, &Env::default()).expect("loads");
        super::summary(&plan).lines().find(|l| l.starts_with("export: ")).expect("export line").to_owned()
    }

    #[test]
    fn the_summary_names_the_compression_and_its_level() {
        assert!(export_line("").contains("compression zstd level 3,"), "{}", export_line(""));
        let gzip = "export:\n  otlp: {compression: gzip}\n";
        assert!(export_line(gzip).contains("compression gzip level 6,"), "{}", export_line(gzip));
        let zstd = "export:\n  otlp: {endpoint: 'http://c:4318', protocol: http/protobuf, compression: zstd, compressionLevel: 9}\n";
        assert!(export_line(zstd).contains("compression zstd level 9,"), "{}", export_line(zstd));
        let none = "export:\n  otlp: {compression: none}\n";
        assert!(export_line(none).contains("compression none,"), "{}", export_line(none));
    }
}
