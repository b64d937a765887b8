//! Checks that need more than the types: addresses, URLs, files, timing relations. Each
//! collector checks its own section when it is compiled (`collectors::CollectorsConfig`).

use std::net::SocketAddr;

use super::export::{OtlpConfig, OtlpProtocol};
use super::{Config, ConfigIssues};

/// Records every semantic problem of `config`.
pub fn validate(config: &Config, issues: &mut ConfigIssues) {
    validate_export(config, issues);
    if let Some(sharding) = &config.sharding {
        sharding.validate(issues);
    }
    validate_listen(&config.server.listen, "server.listen", issues);
    if tracing_subscriber::EnvFilter::try_new(&config.logging.level).is_err() {
        issues.push(
            "logging.level",
            format!(
                "{:?} is not a log level; expected error, warn, info, debug, trace or a filter like \"info,kube=warn\"",
                config.logging.level
            ),
        );
    }
    if config.kubernetes.qps.is_nan() || config.kubernetes.qps <= 0.0 {
        issues.push("kubernetes.qps", "must be greater than 0");
    }
    if config.kubernetes.burst == 0 {
        issues.push("kubernetes.burst", "must be at least 1");
    }
    let le = &config.leader_election;
    if le.enabled {
        if le.lease_name.is_empty() {
            issues.push("leaderElection.leaseName", "must not be empty");
        }
        if le.renew_deadline >= le.lease_duration {
            issues.push("leaderElection.renewDeadline", "must be shorter than leaderElection.leaseDuration");
        }
        if le.retry_period >= le.renew_deadline {
            issues.push("leaderElection.retryPeriod", "must be shorter than leaderElection.renewDeadline");
        } else if le.renew_deadline.get().as_secs_f64() <= le.renew_seconds() as f64 {
            issues.push(
                "leaderElection.renewDeadline",
                format!(
                    "must be longer than {}s: the holder renews the Lease every retryPeriod rounded up to whole seconds",
                    le.renew_seconds()
                ),
            );
        }
    }
}

fn validate_export(config: &Config, issues: &mut ConfigIssues) {
    let export = &config.export;
    if export.interval.get().is_zero() {
        issues.push("export.interval", "must be greater than 0");
    }
    if export.timeout.get().is_zero() {
        issues.push("export.timeout", "must be greater than 0");
    }
    if export.cardinality_limit == 0 {
        issues.push("export.cardinalityLimit", "must be greater than 0");
    }
    for key in export.resource.keys().filter(|k| k.trim().is_empty()) {
        issues.push(format!("export.resource.{key}"), "attribute names must not be empty");
    }
    if export.prometheus.enabled {
        validate_prometheus(config, issues);
    }
    let otlp = &export.otlp;
    if !otlp.enabled {
        return;
    }
    match url_scheme(&otlp.endpoint) {
        Some("http") | Some("https") => {}
        _ => issues.push(
            "export.otlp.endpoint",
            format!("{:?} is not a URL; expected http://host:port or https://host:port", otlp.endpoint),
        ),
    }
    if otlp.protocol == OtlpProtocol::Grpc && otlp.endpoint.trim_end_matches('/').ends_with("/v1/metrics") {
        issues.push(
            "export.otlp.endpoint",
            "a gRPC endpoint has no path; remove /v1/metrics or use http/protobuf",
        );
    }
    validate_compression_level(otlp, issues);
    let tls = &otlp.tls;
    for (file, key) in [(&tls.ca_file, "caFile"), (&tls.cert_file, "certFile"), (&tls.key_file, "keyFile")] {
        if !file.is_empty() {
            if let Err(e) = std::fs::metadata(file) {
                issues.push(format!("export.otlp.tls.{key}"), format!("cannot read {file}: {e}"));
            }
        }
    }
    if tls.cert_file.is_empty() != tls.key_file.is_empty() {
        issues.push("export.otlp.tls", "certFile and keyFile must be given together");
    }
    for name in otlp.headers.keys() {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            issues.push(format!("export.otlp.headers.{name}"), "not a valid HTTP header name");
        }
    }
}

fn validate_compression_level(otlp: &OtlpConfig, issues: &mut ConfigIssues) {
    let Some(level) = otlp.compression_level else { return };
    let path = "export.otlp.compressionLevel";
    let Some(levels) = otlp.compression.levels() else {
        issues.push(path, "has no effect with compression: none; remove it or choose gzip or zstd");
        return;
    };
    let name = format!("{:?}", otlp.compression).to_lowercase();
    if !levels.contains(&level) {
        issues.push(
            path,
            format!("{level} is not a {name} level; expected {} to {}", levels.start(), levels.end()),
        );
    }
}

fn validate_prometheus(config: &Config, issues: &mut ConfigIssues) {
    let prometheus = &config.export.prometheus;
    validate_listen(&prometheus.listen, "export.prometheus.listen", issues);
    if let Some(tls) = &prometheus.tls {
        if prometheus.shares_address_with(&config.server.listen) {
            issues.push(
                "export.prometheus.tls",
                "TLS needs the endpoint's own listener; export.prometheus.listen is server.listen (plain HTTP for the probes)",
            );
        }
        let mut readable = true;
        for (file, key) in [(&tls.cert_file, "certFile"), (&tls.key_file, "keyFile")] {
            if let Err(e) = std::fs::metadata(file) {
                issues.push(format!("export.prometheus.tls.{key}"), format!("cannot read {file}: {e}"));
                readable = false;
            }
        }
        if readable {
            if let Err(e) = crate::certificates::load_certified_key(&tls.cert_file, &tls.key_file) {
                issues.push("export.prometheus.tls", e);
            }
        }
    }
    if let Some(token) = &prometheus.bearer_token {
        token.validate("export.prometheus.bearerToken", issues);
    }
}

fn validate_listen(listen: &str, path: &str, issues: &mut ConfigIssues) {
    if listen.parse::<SocketAddr>().is_err() {
        issues.push(path, format!("{listen:?} is not an address; expected ip:port such as 0.0.0.0:8080"));
    }
}

fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', ':']).next().unwrap_or("");
    (!host.is_empty()).then_some(scheme)
}
