//! The `collectors.etcd` section: which clusters to poll, how often, and how to reach them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::auth::EtcdAuthConfig;
use crate::config_parts::{default_true, index, join, ConfigIssues, Duration};

/// Polls etcd clusters member by member (SPEC §6).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdConfig {
    /// Whether the etcd collector runs. Default: on when `clusters` lists any, off otherwise.
    /// The section is checked either way.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Whether only the replica holding the leader Lease polls (one set of series for the
    /// fleet); `false` makes every replica poll.
    #[serde(default = "default_leader_election")]
    pub leader_election: bool,
    /// Time between two polls of every member (a cluster's own `interval` overrides it).
    #[serde(default = "default_interval")]
    pub interval: Duration,
    /// Limit for each request to a member; a member that does not answer within it is down
    /// for this poll.
    #[serde(default = "default_timeout")]
    pub timeout: Duration,
    /// The clusters to poll.
    #[serde(default)]
    pub clusters: Vec<EtcdClusterConfig>,
}

/// One etcd cluster.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdClusterConfig {
    /// Name of the cluster, exported as `etcd.cluster.name`; unique among the clusters.
    pub name: String,
    /// Client URL of every member (`https://10.0.0.1:2379`); each is polled on its own
    /// connection and exported as `server.address`.
    pub endpoints: Vec<String>,
    /// Time between two polls of this cluster's members; default: the collector's `interval`.
    #[serde(default)]
    pub interval: Option<Duration>,
    /// TLS settings, required when the endpoints are `https`.
    #[serde(default)]
    pub tls: Option<EtcdTlsConfig>,
    /// etcd's own authentication (`etcdctl user add`, `etcdctl auth enable`): a user and where
    /// its password is read from.
    #[serde(default)]
    pub auth: Option<EtcdAuthConfig>,
    /// Key prefixes whose keys are counted each poll (`etcd.keys.count`).
    #[serde(default)]
    pub key_prefixes: Vec<String>,
    /// Whether the `keyPrefixes` are counted; `false` stops the counts without removing the list.
    #[serde(default = "default_true")]
    pub key_counts: bool,
    /// The cross-member consistency checks.
    #[serde(default)]
    pub consistency: EtcdConsistencyConfig,
    /// Key prefixes watched for changes (`etcd.watch.events`).
    #[serde(default)]
    pub watch_prefixes: Vec<String>,
}

/// Which consistency checks run. The revision and raft index diffs come from the Status every
/// poll asks anyway; only the key count costs the members extra work.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdConsistencyConfig {
    /// Whether each member counts all its keys every poll for
    /// `etcd.cluster.consistency.key_count.diff` (etcd walks its whole index: turn it off, or
    /// poll the cluster less often, with millions of keys).
    #[serde(default = "default_true")]
    pub key_count: bool,
}

impl Default for EtcdConsistencyConfig {
    fn default() -> Self {
        EtcdConsistencyConfig { key_count: true }
    }
}

/// TLS files for one cluster, PEM encoded.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EtcdTlsConfig {
    /// CA certificate that signed the members' serving certificates.
    pub ca_file: PathBuf,
    /// Client certificate presented to the members (with `keyFile`).
    #[serde(default)]
    pub cert_file: Option<PathBuf>,
    /// Private key of the client certificate (with `certFile`).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
}

fn default_leader_election() -> bool {
    true
}

fn default_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_timeout() -> Duration {
    Duration::from_secs(5)
}

impl Default for EtcdConfig {
    fn default() -> Self {
        EtcdConfig {
            enabled: None,
            leader_election: default_leader_election(),
            interval: default_interval(),
            timeout: default_timeout(),
            clusters: Vec::new(),
        }
    }
}

impl EtcdConfig {
    /// Whether it runs: as `enabled` says, or when it lists clusters.
    pub fn is_enabled(&self) -> bool {
        self.enabled.unwrap_or(!self.clusters.is_empty())
    }

    /// Records every problem of this section; `path` is where it sits (`collectors.etcd`).
    pub fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        if self.interval.get().is_zero() {
            issues.push(join(path, "interval"), "must be greater than zero");
        }
        if self.timeout.get().is_zero() {
            issues.push(join(path, "timeout"), "must be greater than zero");
        }
        if self.enabled == Some(true) && self.clusters.is_empty() {
            issues.push(join(path, "clusters"), "the etcd collector is enabled but lists no cluster");
        }
        let mut names = HashSet::new();
        for (i, cluster) in self.clusters.iter().enumerate() {
            let at = index(&join(path, "clusters"), i);
            if cluster.name.trim().is_empty() {
                issues.push(join(&at, "name"), "must not be empty");
            } else if !names.insert(cluster.name.as_str()) {
                issues.push(join(&at, "name"), format!("duplicate cluster name {:?}", cluster.name));
            }
            cluster.validate(&at, issues);
        }
    }
}

impl EtcdClusterConfig {
    /// The time between two polls of this cluster.
    pub fn poll_interval(&self, collector: Duration) -> std::time::Duration {
        self.interval.unwrap_or(collector).get()
    }

    fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        if self.interval.is_some_and(|i| i.get().is_zero()) {
            issues.push(join(path, "interval"), "must be greater than zero");
        }
        if let Some(auth) = &self.auth {
            auth.validate(&join(path, "auth"), issues);
        }
        let endpoints_path = join(path, "endpoints");
        if self.endpoints.is_empty() {
            issues.push(&endpoints_path, "must list at least one endpoint");
        }
        let mut seen = HashSet::new();
        let mut https = false;
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            let at = index(&endpoints_path, i);
            match check_endpoint(endpoint) {
                Ok(scheme) => {
                    https |= scheme == Scheme::Https;
                    if scheme == Scheme::Http && self.tls.is_some() {
                        issues.push(
                            &at,
                            format!("{endpoint:?} is plain http but tls is configured; use https"),
                        );
                    }
                }
                Err(message) => issues.push(&at, message),
            }
            if !seen.insert(endpoint.as_str()) {
                issues.push(&at, format!("duplicate endpoint {endpoint:?}"));
            }
        }
        match &self.tls {
            None if https => issues.push(join(path, "tls"), "https endpoints need tls.caFile"),
            None => {}
            Some(tls) => tls.validate(&join(path, "tls"), issues),
        }
        for (field, prefixes) in
            [("keyPrefixes", &self.key_prefixes), ("watchPrefixes", &self.watch_prefixes)]
        {
            for (i, prefix) in prefixes.iter().enumerate() {
                if prefix.is_empty() {
                    issues.push(index(&join(path, field), i), "must not be empty");
                }
            }
        }
    }
}

impl EtcdTlsConfig {
    fn validate(&self, path: &str, issues: &mut ConfigIssues) {
        check_readable(&self.ca_file, &join(path, "caFile"), issues);
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                check_readable(cert, &join(path, "certFile"), issues);
                check_readable(key, &join(path, "keyFile"), issues);
            }
            (Some(_), None) => issues.push(join(path, "keyFile"), "certFile is set, keyFile is missing"),
            (None, Some(_)) => issues.push(join(path, "certFile"), "keyFile is set, certFile is missing"),
            (None, None) => {}
        }
    }
}

fn check_readable(file: &Path, path: &str, issues: &mut ConfigIssues) {
    if let Err(e) = std::fs::File::open(file) {
        issues.push(path, format!("cannot read {}: {e}", file.display()));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Http,
    Https,
}

/// Checks that an endpoint is `http(s)://host:port` with nothing else.
fn check_endpoint(endpoint: &str) -> Result<Scheme, String> {
    let (scheme, rest) = match endpoint.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        Some((other, _)) => return Err(format!("{endpoint:?}: scheme {other:?} is not http or https")),
        None => return Err(format!("{endpoint:?}: expected a URL like https://10.0.0.1:2379")),
    };
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains('/') || authority.contains('?') || authority.contains('@') {
        return Err(format!("{endpoint:?}: expected only scheme, host and port"));
    }
    let uri: http::Uri = endpoint.parse().map_err(|e| format!("{endpoint:?}: {e}"))?;
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(format!("{endpoint:?}: the host is missing"));
    }
    match uri.port_u16() {
        Some(0) => Err(format!("{endpoint:?}: port 0 is not a valid port")),
        Some(_) => Ok(scheme),
        None => Err(format!("{endpoint:?}: the port is missing (etcd clients usually use 2379)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> EtcdConfig {
        serde_saphyr::from_str(yaml).unwrap()
    }

    fn messages(config: &EtcdConfig) -> Vec<String> {
        let mut issues = ConfigIssues::new();
        config.validate("collectors.etcd", &mut issues);
        issues.iter().map(|i| i.to_string()).collect()
    }

    #[test]
    fn defaults_follow_the_spec() {
        let config = parse("{}");
        assert_eq!(config, EtcdConfig::default());
        assert!(!config.is_enabled() && config.leader_election);
        assert_eq!(config.interval, Duration::from_secs(30));
        assert_eq!(config.timeout, Duration::from_secs(5));
        assert!(messages(&config).is_empty());
    }

    #[test]
    fn a_full_cluster_parses_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["ca.crt", "c.crt", "c.key"] {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        let d = dir.path().display();
        let config = parse(&format!(
            "enabled: true\ninterval: 10s\ntimeout: 2s\nclusters:\n- name: main\n  endpoints: [https://10.0.0.1:2379, 'https://[::1]:2379/']\n  tls: {{caFile: {d}/ca.crt, certFile: {d}/c.crt, keyFile: {d}/c.key}}\n  keyPrefixes: [/registry/pods]\n  watchPrefixes: [/registry/pods]\n"
        ));
        assert_eq!(config.clusters[0].key_prefixes, vec!["/registry/pods"]);
        assert_eq!(messages(&config), Vec::<String>::new());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_saphyr::from_str::<EtcdConfig>("clusters: [{name: a, endpoints: [], tsl: {}}]");
        assert!(err.unwrap_err().to_string().contains("tsl"));
    }

    #[test]
    fn bad_endpoints_are_reported_with_their_path() {
        let config = parse(
            "clusters:\n- name: a\n  endpoints: [ftp://h:1, 'http://:2379', http://h, http://h:2379/x, h:2379, http://h:0, http://h:1, http://h:1]\n",
        );
        let got = messages(&config);
        let expect = [
            "collectors.etcd.clusters[0].endpoints[0]: \"ftp://h:1\": scheme \"ftp\" is not http or https",
            "collectors.etcd.clusters[0].endpoints[1]: \"http://:2379\":",
            "collectors.etcd.clusters[0].endpoints[2]: \"http://h\": the port is missing",
            "collectors.etcd.clusters[0].endpoints[3]: \"http://h:2379/x\": expected only scheme, host and port",
            "collectors.etcd.clusters[0].endpoints[4]: \"h:2379\": expected a URL like",
            "collectors.etcd.clusters[0].endpoints[5]: \"http://h:0\": port 0",
            "collectors.etcd.clusters[0].endpoints[7]: duplicate endpoint \"http://h:1\"",
        ];
        assert_eq!(got.len(), expect.len(), "{got:#?}");
        for (g, e) in got.iter().zip(expect) {
            assert!(g.starts_with(e), "{g:?} should start with {e:?}");
        }
    }

    #[test]
    fn names_and_endpoint_lists_are_checked() {
        let config = parse(
            "enabled: true\nclusters:\n- {name: a, endpoints: [http://h:1]}\n- {name: a, endpoints: [http://h:1]}\n- {name: ' ', endpoints: [], keyPrefixes: ['']}\n",
        );
        assert_eq!(
            messages(&config),
            vec![
                "collectors.etcd.clusters[1].name: duplicate cluster name \"a\"",
                "collectors.etcd.clusters[2].name: must not be empty",
                "collectors.etcd.clusters[2].endpoints: must list at least one endpoint",
                "collectors.etcd.clusters[2].keyPrefixes[0]: must not be empty",
            ]
        );
        assert_eq!(
            messages(&parse("enabled: true\ninterval: 0s")),
            vec![
                "collectors.etcd.interval: must be greater than zero",
                "collectors.etcd.clusters: the etcd collector is enabled but lists no cluster",
            ]
        );
    }

    #[test]
    fn per_cluster_interval_auth_and_switches_are_read_and_checked() {
        let config = parse(
            "interval: 30s\nclusters:\n- {name: a, endpoints: [http://h:1], interval: 0s, auth: {username: u, password: {}}}\n- {name: b, endpoints: [http://h:1], interval: 2m, keyCounts: false, consistency: {keyCount: false}}\n- {name: c, endpoints: [http://h:1]}\n",
        );
        assert_eq!(
            messages(&config),
            [
                "collectors.etcd.clusters[0].interval: must be greater than zero",
                "collectors.etcd.clusters[0].auth.password: set file (a file holding the secret) or env (a variable holding it)",
            ]
        );
        let (b, c) = (&config.clusters[1], &config.clusters[2]);
        assert_eq!(b.poll_interval(config.interval), std::time::Duration::from_secs(120));
        assert_eq!(c.poll_interval(config.interval), std::time::Duration::from_secs(30));
        assert!(!b.key_counts && !b.consistency.key_count);
        assert!(c.key_counts && c.consistency.key_count, "both counts are on by default");
    }

    #[test]
    fn tls_needs_readable_files_and_matching_schemes() {
        let config = parse(
            "clusters:\n- {name: a, endpoints: [https://h:1]}\n- {name: b, endpoints: [http://h:1], tls: {caFile: /nonexistent/ca.crt, certFile: /nonexistent/c.crt}}\n",
        );
        let got = messages(&config);
        assert_eq!(got.len(), 4, "{got:#?}");
        assert_eq!(got[0], "collectors.etcd.clusters[0].tls: https endpoints need tls.caFile");
        assert!(
            got[1].contains("clusters[1].endpoints[0]: \"http://h:1\" is plain http but tls is configured")
        );
        assert!(
            got[2].starts_with(
                "collectors.etcd.clusters[1].tls.caFile: cannot read /nonexistent/ca.crt: No such file"
            ),
            "{}",
            got[2]
        );
        assert_eq!(got[3], "collectors.etcd.clusters[1].tls.keyFile: certFile is set, keyFile is missing");
    }
}
