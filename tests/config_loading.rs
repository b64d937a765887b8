//! Loading the config file: strictness, every error at once with its path and line, defaults,
//! and environment overrides.

use kube_state_otel::config::{load_str, Config, Env, OtlpProtocol};

fn load(text: &str) -> Result<Config, String> {
    load_str(text, &Env::default()).map(|plan| plan.config).map_err(|e| e.to_string())
}

#[test]
fn an_empty_file_gives_the_documented_defaults() {
    let c = load("").unwrap();
    assert_eq!(c.export.interval.get().as_secs(), 30);
    assert_eq!(c.export.otlp.endpoint, "http://otel-collector:4317");
    assert_eq!(c.export.otlp.protocol, OtlpProtocol::Grpc);
    assert_eq!(c.export.otlp.buffer.max_batches, 20);
    assert_eq!(c.server.listen, "0.0.0.0:8080");
    assert!(c.leader_election.enabled);
    assert_eq!(c.leader_election.lease_duration.get().as_secs(), 15);
    assert_eq!(c.kubernetes.qps, 50.0);
}

/// `err` has exactly one line starting with each of `expected`.
fn assert_errors(err: &str, expected: &[&str]) {
    for want in expected {
        assert!(err.lines().any(|l| l.starts_with(want)), "missing {want:?} in:\n{err}");
    }
    assert_eq!(err.lines().count(), expected.len(), "{err}");
}

#[test]
fn every_mistake_is_reported_with_its_path_and_line() {
    let text = "\
cluster:
  name: prod
  nmae: typo
export:
  interval: soon
  otlp:
    protocol: carrier-pigeon
    endpoint: not-a-url
server:
  listen: nowhere
leaderElection:
  renewDeadline: 20s
";
    let expected = [
        "cluster.nmae (line 3, column 3): unknown field `nmae`, expected `name`",
        "export.interval (line 5, column 3): invalid duration \"soon\"",
        "export.otlp.protocol (line 7, column 5): unknown variant `carrier-pigeon`, expected `grpc` or `http/protobuf`",
        "export.otlp.endpoint (line 8, column 5): \"not-a-url\" is not a URL; expected http://host:port",
        "server.listen (line 10, column 3): \"nowhere\" is not an address",
        "leaderElection.renewDeadline (line 12, column 3): must be shorter than leaderElection.leaseDuration",
    ];
    assert_errors(&load(text).unwrap_err(), &expected);
}

#[test]
fn invalid_yaml_is_reported_with_its_location() {
    let err = load("export:\n  interval: [30s\n").unwrap_err();
    assert!(err.contains("not valid YAML"), "{err}");
    assert!(err.contains("line"), "{err}");
}

#[test]
fn environment_overrides_the_file_which_overrides_defaults() {
    let text =
        "export:\n  otlp:\n    endpoint: http://file:4317\n    compression: none\ncluster:\n  name: file\n";
    let env = Env::from_pairs([
        ("KUBE_STATE_OTEL_EXPORT__OTLP__ENDPOINT", "http://env:4317"),
        ("KUBE_STATE_OTEL_CLUSTER__NAME", "from-env"),
        ("KUBE_STATE_OTEL_LEADER_ELECTION__ENABLED", "false"),
        ("OTEL_METRIC_EXPORT_INTERVAL", "1500"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ]);
    let c = load_str(text, &env).unwrap().config;
    assert_eq!(c.export.otlp.endpoint, "http://env:4317");
    assert_eq!(c.cluster.name, "from-env");
    assert!(!c.leader_election.enabled);
    assert_eq!(c.export.interval.get().as_millis(), 1500);
    assert_eq!(c.export.otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(c.export.otlp.compression, kube_state_otel::config::Compression::None);
}

#[test]
fn the_agent_prefix_wins_over_the_standard_variables() {
    let env = Env::from_pairs([
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://standard:4317"),
        ("KUBE_STATE_OTEL_EXPORT__OTLP__ENDPOINT", "http://agent:4317"),
    ]);
    assert_eq!(load_str("", &env).unwrap().config.export.otlp.endpoint, "http://agent:4317");
}

#[test]
fn an_unknown_environment_key_is_an_error_naming_the_key() {
    let env = Env::from_pairs([("KUBE_STATE_OTEL_EXPORT__NOPE", "1")]);
    let err = load_str("", &env).unwrap_err().to_string();
    assert!(err.contains("export.nope") && err.contains("unknown field"), "{err}");
}

#[test]
fn a_renew_deadline_within_the_whole_second_renew_period_is_rejected() {
    let err =
        load("leaderElection: {leaseDuration: 2s, renewDeadline: 900ms, retryPeriod: 300ms}\n").unwrap_err();
    assert!(err.contains("leaderElection.renewDeadline"), "{err}");
    assert!(err.contains("must be longer than 1s"), "{err}");
    load("leaderElection: {leaseDuration: 2s, renewDeadline: 1500ms, retryPeriod: 300ms}\n").unwrap();
}

/// Every section is checked whether its collector runs or not, and unknown keys anywhere do not
/// hide the errors inside collector sections.
#[test]
fn sections_that_are_off_are_checked_and_no_error_hides_another() {
    let off = "\
collectors:
  crds:
    enabled: false
    resources:
      - {name: x, gvr: {group: g, version: v1, resource: xs}, metrics: [{type: nonsense, name: a}]}
";
    let err = load(off).unwrap_err();
    assert!(err.contains("collectors.crds.resources[0].metrics[0].type (line 5,"), "{err}");
    assert!(err.contains("unknown metric type \"nonsense\""), "{err}");

    let mixed = "\
bogus: 1
collectors:
  nodes: {enabled: false, colour: red}
  etcd:
    interval: 0s
    clusters: [{name: main, endpoints: [http://127.0.0.1:2379]}]
  crds:
    resources:
      - {name: x, gvr: {group: g, version: v1, resource: xs}, metrics: [{type: nonsense, name: a}]}
";
    let err = load(mixed).unwrap_err();
    for wanted in [
        "bogus (line 1, column 1): unknown field `bogus`",
        "collectors.nodes.colour (line 3,",
        "collectors.etcd.interval (line 5,",
        "collectors.crds.resources[0].metrics[0].type (line 9,",
    ] {
        assert!(err.contains(wanted), "missing {wanted:?} in\n{err}");
    }
    assert_eq!(err.lines().count(), 4, "{err}");
}

/// A collector with settings of its own and no `enabled` key runs; `enabled: false` keeps it
/// off, and `check` says so.
#[test]
fn configured_sections_run_unless_turned_off() {
    let env = Env::default();
    let plan = |text: &str| load_str(text, &env).unwrap_or_else(|e| panic!("{e}"));
    let section = "  etcd:\n    clusters: [{name: main, endpoints: [http://127.0.0.1:2379]}]\n";
    let on = plan(&format!("collectors:\n{section}"));
    let etcd = on.collectors.iter().find(|c| c.name == "etcd").unwrap();
    assert!(etcd.enabled);
    let off = plan(&format!("collectors:\n{section}    enabled: false\n"));
    let etcd = off.collectors.iter().find(|c| c.name == "etcd").unwrap();
    assert!(!etcd.enabled);
    assert_eq!(etcd.summary(), ["etcd is off (enabled: false): its settings are checked, nothing runs"]);
    let empty = plan("collectors:\n  etcd: {}\n");
    let etcd = empty.collectors.iter().find(|c| c.name == "etcd").unwrap();
    assert!(!etcd.enabled && etcd.summary().is_empty(), "an empty section stays off and unmentioned");
}

/// A YAML 1.1 boolean where text is expected says to quote it; names Kubernetes could never
/// serve and paths holding control characters are config errors, not run-time failures.
#[test]
fn unquoted_booleans_and_impossible_names_are_explained() {
    let err = load("cluster:\n  name: off\nexport:\n  resource:\n    tier: n\n").unwrap_err();
    assert!(err.contains("cluster.name (line 2, column 3): invalid type: boolean `false`"), "{err}");
    assert!(err.contains("quote the text to keep it (\"off\")"), "{err}");
    assert!(err.contains("export.resource.tier (line 5, column 5)"), "{err}");

    let names = "\
collectors:
  crds:
    resources:
      - name: a
        gvr: {group: \"[[[\", version: \"v 1\", resource: \"a_b\"}
        metrics: [{type: gauge, name: x, path: \"spec.\\u0001a\"}]
      - name: b
        gvk: {group: Apps, version: v1, kind: Pod-x}
        metrics: [{type: info, name: i}]
";
    let err = load(names).unwrap_err();
    for wanted in [
        "collectors.crds.resources[0].gvr.group (line 5, column 15): \"[[[\" is not a DNS subdomain",
        "collectors.crds.resources[0].gvr.version (line 5, column 29): \"v 1\" is not a DNS label",
        "collectors.crds.resources[0].gvr.resource (line 5, column 45): \"a_b\" is not a DNS subdomain",
        "collectors.crds.resources[0].metrics[0].path (line 6, column 42): malformed path \"spec.\\u{1}a\": control character",
        "collectors.crds.resources[1].gvk.group (line 8, column 15): \"Apps\" is not a DNS subdomain",
        "collectors.crds.resources[1].gvk.kind (line 8, column 41): \"Pod-x\" is not a kind",
    ] {
        assert!(err.contains(wanted), "missing {wanted:?} in\n{err}");
    }
}

#[test]
fn metrics_tls_and_token_mistakes_are_reported_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("tls.crt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let text = format!(
        "\
export:
  prometheus:
    enabled: true
    listen: 0.0.0.0:8080
    tls: {{certFile: {cert}, keyFile: /nonexistent/tls.key}}
    bearerToken: {{file: /nonexistent/token, env: TOKEN}}
server:
  listen: 0.0.0.0:8080
",
        cert = not_pem.display()
    );
    let expected = [
        "export.prometheus.tls (line 5, column 5): TLS needs the endpoint's own listener",
        "export.prometheus.tls.keyFile (line 5, column 46): cannot read /nonexistent/tls.key",
        "export.prometheus.bearerToken (line 6, column 5): set either file or env, not both",
    ];
    assert_errors(&load(&text).unwrap_err(), &expected);

    std::fs::write(dir.path().join("tls.key"), "not a key\n").unwrap();
    let text = format!(
        "export:\n  prometheus: {{enabled: true, tls: {{certFile: {d}/tls.crt, keyFile: {d}/tls.key}}, bearerToken: {{env: KSO_TEST_UNSET_METRICS_TOKEN}}}}\n",
        d = dir.path().display()
    );
    let err = load(&text).unwrap_err();
    assert!(err.contains(&format!("{}/tls.crt: holds no PEM certificate", dir.path().display())), "{err}");
    let token = err.lines().find(|l| l.starts_with("export.prometheus.bearerToken.env (line 2, "));
    assert!(
        token.is_some_and(
            |l| l.ends_with("the environment variable KSO_TEST_UNSET_METRICS_TOKEN is not set or empty")
        ),
        "{err}"
    );
}

#[test]
fn compression_levels_are_checked_against_the_algorithm() {
    let at = |compression: &str, level: u32, protocol: &str| {
        format!(
            "export:\n  otlp:\n    endpoint: http://c:4318\n    protocol: {protocol}\n    compression: {compression}\n    compressionLevel: {level}\n"
        )
    };
    let path = "export.otlp.compressionLevel (line 6, column 5): ";
    let err = load(&at("gzip", 10, "http/protobuf")).unwrap_err();
    assert_errors(&err, &[&format!("{path}10 is not a gzip level; expected 1 to 9")]);
    let err = load(&at("zstd", 0, "http/protobuf")).unwrap_err();
    assert_errors(&err, &[&format!("{path}0 is not a zstd level; expected 1 to 19")]);
    let err = load(&at("none", 3, "http/protobuf")).unwrap_err();
    assert_errors(&err, &[&format!("{path}has no effect with compression: none")]);
    let c = load(&at("zstd", 9, "grpc")).unwrap();
    assert_eq!(c.export.otlp.effective_compression_level(), 9, "gRPC compresses at any level too");

    let c = load(&at("zstd", 19, "http/protobuf")).unwrap();
    assert_eq!(c.export.otlp.effective_compression_level(), 19);
    let c = load(&at("zstd", 3, "grpc")).unwrap();
    assert_eq!(c.export.otlp.compression, kube_state_otel::config::Compression::Zstd);
    let c = load("export:\n  otlp:\n    compression: gzip\n").unwrap();
    assert_eq!(c.export.otlp.effective_compression_level(), 6);
    let err = load("export:\n  otlp:\n    compression: brotli\n").unwrap_err();
    assert!(err.contains("unknown variant `brotli`, expected one of `none`, `gzip`, `zstd`"), "{err}");
}
