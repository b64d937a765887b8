//! OpenTelemetry names → Prometheus names, following the Collector's translator
//! (`pkg/translator/prometheus`, now `prometheus/otlptranslator`) with unit and type suffixes:
//! `sealos.kubeblocks_cluster.phase` → `sealos_kubeblocks_cluster_phase`,
//! `etcd.member.db.size` (`By`) → `etcd_member_db_size_bytes`, counters end in `_total`,
//! gauges with unit `1` end in `_ratio`.

/// The Prometheus type an OTLP metric becomes, which decides the `_total`/`_ratio` suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Gauge,
    /// A monotonic cumulative sum.
    Counter,
    /// A non-monotonic sum: exposed as a gauge, but never gets `_ratio`.
    NonMonotonicSum,
    /// An explicit-bucket histogram: the unit suffix only (`_bucket`, `_sum`, `_count` follow).
    Histogram,
}

/// The Prometheus metric name for an OTLP metric.
pub fn metric_name(name: &str, unit: &str, kind: MetricType) -> String {
    let mut tokens: Vec<String> =
        name.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    let (main, per) = unit_suffixes(unit);
    if let Some(main) = main.filter(|m| !tokens.contains(m)) {
        tokens.push(main);
    }
    if let Some(per) = per.filter(|p| !tokens.contains(p)) {
        tokens.push("per".into());
        tokens.push(per);
    }
    if kind == MetricType::Counter {
        tokens.retain(|t| t != "total");
        tokens.push("total".into());
    }
    if unit == "1" && kind == MetricType::Gauge {
        tokens.retain(|t| t != "ratio");
        tokens.push("ratio".into());
    }
    let joined = tokens.join("_");
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// A Prometheus label name for an attribute key: invalid characters become `_`, a leading
/// digit gets `key_`, a single leading `_` gets `key` (`__` is reserved and kept).
pub fn label_name(key: &str) -> String {
    let clean: String =
        key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    if clean.starts_with(|c: char| c.is_ascii_digit()) {
        format!("key_{clean}")
    } else if clean.starts_with('_') && !clean.starts_with("__") {
        format!("key{clean}")
    } else {
        clean
    }
}

/// The suffix tokens for a UCUM unit: `By` → `bytes`, `By/s` → `bytes` + `second`; `{...}`
/// annotations and `1` give none.
fn unit_suffixes(unit: &str) -> (Option<String>, Option<String>) {
    let (main, per) = match unit.split_once('/') {
        Some((main, per)) => (main.trim(), Some(per.trim())),
        None => (unit.trim(), None),
    };
    let usable = |u: &str| !u.is_empty() && !u.contains(['{', '}']);
    let main = Some(main).filter(|m| usable(m)).map(|m| clean_unit(main_unit(m))).filter(|m| !m.is_empty());
    let per = per.filter(|p| usable(p)).map(|p| clean_unit(per_unit(p))).filter(|p| !p.is_empty());
    (main, per)
}

fn main_unit(unit: &str) -> &str {
    match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "1" => "",
        "%" => "percent",
        other => other,
    }
}

fn per_unit(unit: &str) -> &str {
    match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        other => other,
    }
}

/// Runs of characters other than letters and digits become `_`, trimmed at the ends.
fn clean_unit(unit: &str) -> String {
    unit.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join("_")
}

#[cfg(test)]
mod tests {
    use super::*;
    use MetricType::*;

    #[test]
    fn translates_metric_names_like_the_collector() {
        let cases = [
            ("sealos.kubeblocks_cluster.phase", "1", Gauge, "sealos_kubeblocks_cluster_phase_ratio"),
            ("sealos.kubeblocks_cluster.phase", "", Gauge, "sealos_kubeblocks_cluster_phase"),
            ("etcd.member.db.size", "By", Gauge, "etcd_member_db_size_bytes"),
            ("etcd.member.poll.duration", "s", Gauge, "etcd_member_poll_duration_seconds"),
            ("k8s.node.pod.count", "{pod}", Gauge, "k8s_node_pod_count"),
            ("etcd.watch.events", "{event}", Counter, "etcd_watch_events_total"),
            ("requests.total", "1", Counter, "requests_total"),
            ("net.io", "By/s", Gauge, "net_io_bytes_per_second"),
            ("packets", "{packet}/s", Gauge, "packets_per_second"),
            ("cpu.usage", "1", NonMonotonicSum, "cpu_usage"),
            ("latency_seconds", "s", Gauge, "latency_seconds"),
            ("disk..free  space", "MiBy", Gauge, "disk_free_space_mebibytes"),
            ("2xx.responses", "", Gauge, "_2xx_responses"),
            ("cert.expiry", "%", Gauge, "cert_expiry_percent"),
        ];
        for (name, unit, kind, want) in cases {
            assert_eq!(metric_name(name, unit, kind), want, "{name} [{unit}] {kind:?}");
        }
    }

    #[test]
    fn sanitizes_label_names() {
        let cases = [
            ("k8s.node.name", "k8s_node_name"),
            ("app.kubernetes.io/name", "app_kubernetes_io_name"),
            ("2fa", "key_2fa"),
            ("_hidden", "key_hidden"),
            ("__reserved", "__reserved"),
            ("state", "state"),
        ];
        for (key, want) in cases {
            assert_eq!(label_name(key), want, "{key}");
        }
    }
}
