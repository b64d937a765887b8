//! Environment overrides (SPEC §3): `KUBE_STATE_OTEL_<PATH>` with `__` between levels, and the
//! standard OpenTelemetry variables, applied to the parsed file before it is checked.

use serde_json::{Map, Value};

use super::ConfigIssues;

/// Prefix of the agent's own overrides.
pub const PREFIX: &str = "KUBE_STATE_OTEL_";

/// A snapshot of the environment, so loading is testable without touching the process's.
#[derive(Debug, Clone, Default)]
pub struct Env(Vec<(String, String)>);

impl Env {
    pub fn from_process() -> Self {
        Env(std::env::vars().collect())
    }

    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Env(pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).filter(|v| !v.is_empty())
    }

    fn with_prefix(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().filter_map(|(k, v)| k.strip_prefix(PREFIX).map(|rest| (rest, v.as_str())))
    }
}

/// Applies every override to `doc`; `defaults` (the serialized default config) supplies the
/// spelling of keys the file does not mention. Unusable values are recorded in `issues`.
pub fn apply(doc: &mut Value, defaults: &Value, env: &Env, issues: &mut ConfigIssues) {
    apply_standard_otel(doc, env, issues);
    for (rest, raw) in env.with_prefix() {
        let segments: Vec<&str> = rest.split("__").collect();
        if segments.iter().any(|s| s.is_empty()) {
            issues
                .push(format!("(environment) {PREFIX}{rest}"), "empty path segment; use `__` between levels");
            continue;
        }
        set_path(doc, defaults, &segments, scalar(raw));
    }
}

/// Env values are YAML scalars or flow collections (`true`, `50`, `[a, b]`, `{k: v}`).
fn scalar(raw: &str) -> Value {
    serde_saphyr::from_str::<Value>(raw).unwrap_or_else(|_| Value::String(raw.to_owned()))
}

fn normalize(s: &str) -> String {
    s.chars().filter(|c| *c != '_' && *c != '-').flat_map(char::to_lowercase).collect()
}

fn set_path(doc: &mut Value, defaults: &Value, segments: &[&str], value: Value) {
    if !doc.is_object() {
        *doc = Value::Object(Map::new());
    }
    let Value::Object(map) = doc else { return };
    let wanted = normalize(segments[0]);
    let key = map
        .keys()
        .chain(defaults.as_object().into_iter().flat_map(|m| m.keys()))
        .find(|k| normalize(k) == wanted)
        .cloned()
        .unwrap_or_else(|| segments[0].to_lowercase());
    let child_defaults = defaults.get(&key).cloned().unwrap_or(Value::Null);
    if segments.len() == 1 {
        map.insert(key, value);
    } else {
        let child = map.entry(key).or_insert(Value::Null);
        set_path(child, &child_defaults, &segments[1..], value);
    }
}

fn set(doc: &mut Value, path: &[&str], value: Value) {
    set_path(doc, &Value::Null, path, value);
}

/// The OpenTelemetry exporter variables keep their standard meaning; the metrics-specific
/// variant wins over the generic one.
fn apply_standard_otel(doc: &mut Value, env: &Env, issues: &mut ConfigIssues) {
    let otel = |name: &str| {
        env.get(&format!("OTEL_EXPORTER_OTLP_METRICS_{name}"))
            .or_else(|| env.get(&format!("OTEL_EXPORTER_OTLP_{name}")))
    };
    if let Some(endpoint) = otel("ENDPOINT") {
        set(doc, &["export", "otlp", "endpoint"], Value::String(endpoint.to_owned()));
    }
    if let Some(protocol) = otel("PROTOCOL") {
        set(doc, &["export", "otlp", "protocol"], Value::String(protocol.to_owned()));
    }
    if let Some(compression) = otel("COMPRESSION") {
        set(doc, &["export", "otlp", "compression"], Value::String(compression.to_owned()));
    }
    if let Some(headers) = otel("HEADERS") {
        let mut map = Map::new();
        for pair in headers.split(',').filter(|p| !p.trim().is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) => {
                    map.insert(percent_decode(k.trim()), Value::String(percent_decode(v.trim())));
                }
                None => issues.push(
                    "(environment) OTEL_EXPORTER_OTLP_HEADERS",
                    format!("{pair:?} is not key=value; expected a comma-separated list of key=value"),
                ),
            }
        }
        set(doc, &["export", "otlp", "headers"], Value::Object(map));
    }
    for (name, key) in
        [("CERTIFICATE", "caFile"), ("CLIENT_CERTIFICATE", "certFile"), ("CLIENT_KEY", "keyFile")]
    {
        if let Some(file) = otel(name) {
            set(doc, &["export", "otlp", "tls", key], Value::String(file.to_owned()));
        }
    }
    if let Some(insecure) = otel("INSECURE") {
        set(doc, &["export", "otlp", "tls", "insecure"], Value::Bool(insecure.eq_ignore_ascii_case("true")));
    }
    millis(doc, env, issues, "OTEL_METRIC_EXPORT_INTERVAL", &["export", "interval"]);
    if env.get("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT").is_some() {
        millis(doc, env, issues, "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", &["export", "timeout"]);
    } else {
        millis(doc, env, issues, "OTEL_EXPORTER_OTLP_TIMEOUT", &["export", "timeout"]);
    }
}

/// OpenTelemetry durations are integers in milliseconds.
fn millis(doc: &mut Value, env: &Env, issues: &mut ConfigIssues, name: &str, path: &[&str]) {
    if let Some(raw) = env.get(name) {
        match raw.trim().parse::<u64>() {
            Ok(ms) => set(doc, path, Value::String(format!("{ms}ms"))),
            Err(_) => issues.push(
                format!("(environment) {name}"),
                format!("{raw:?} is not a whole number of milliseconds"),
            ),
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn defaults() -> Value {
        json!({"export": {"otlp": {"endpoint": "x", "protocol": "grpc"}}, "leaderElection": {"leaseName": "a"}})
    }

    #[test]
    fn prefixed_variables_find_camel_case_keys_and_parse_scalars() {
        let mut doc = json!({"export": {"otlp": {"endpoint": "file"}}});
        let env = Env::from_pairs([
            ("KUBE_STATE_OTEL_EXPORT__OTLP__ENDPOINT", "http://env:4317"),
            ("KUBE_STATE_OTEL_LEADER_ELECTION__LEASE_NAME", "mine"),
            ("KUBE_STATE_OTEL_KUBERNETES__QPS", "20"),
        ]);
        let mut issues = ConfigIssues::new();
        apply(&mut doc, &defaults(), &env, &mut issues);
        assert!(issues.is_empty());
        assert_eq!(doc["export"]["otlp"]["endpoint"], "http://env:4317");
        assert_eq!(doc["leaderElection"]["leaseName"], "mine");
        assert_eq!(doc["kubernetes"]["qps"], 20);
    }

    #[test]
    fn standard_otel_variables_keep_their_meaning() {
        let mut doc = json!({});
        let env = Env::from_pairs([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer%20abc,x-tenant=t1"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "5000"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon"),
        ]);
        let mut issues = ConfigIssues::new();
        apply(&mut doc, &defaults(), &env, &mut issues);
        assert_eq!(doc["export"]["otlp"]["endpoint"], "http://generic:4318");
        assert_eq!(doc["export"]["otlp"]["protocol"], "http/protobuf");
        assert_eq!(doc["export"]["otlp"]["headers"]["authorization"], "Bearer abc");
        assert_eq!(doc["export"]["interval"], "5000ms");
        assert_eq!(issues.len(), 1);
        assert!(issues.to_string().contains("OTEL_EXPORTER_OTLP_TIMEOUT"));
    }
}
