//! Metric names and units: how they are built from the config and what OpenTelemetry accepts.
//!
//! The SDK silently replaces an instrument with an invalid name by a no-op, so names are
//! checked when the config is compiled.

/// Longest instrument name OpenTelemetry accepts.
pub const MAX_INSTRUMENT_NAME_LEN: usize = 255;
/// Longest unit OpenTelemetry accepts.
pub const MAX_UNIT_LEN: usize = 63;

/// `<namespace>.<resource>.<metric>` (or `<resource>.<metric>` without a namespace), with `-`
/// turned into `_` so the Prometheus names stay those sealos-state-metrics users have.
pub fn metric_name(namespace: &str, resource: &str, metric: &str) -> String {
    format!("{}.{}", name_prefix(namespace, resource), metric.replace('-', "_"))
}

/// `<namespace>.<resource>` (or `<resource>`), with `-` turned into `_`: what a resource's
/// metric names start with.
pub fn name_prefix(namespace: &str, resource: &str) -> String {
    let joined = if namespace.is_empty() { resource.to_owned() } else { format!("{namespace}.{resource}") };
    joined.replace('-', "_")
}

/// An OpenTelemetry instrument name: starts with an ASCII letter; then ASCII letters, digits,
/// `_`, `.`, `-` and `/`; at most 255 characters.
pub fn validate_instrument_name(name: &str) -> Result<(), String> {
    validate_name_part(name, true)?;
    if name.len() > MAX_INSTRUMENT_NAME_LEN {
        return Err(format!(
            "instrument name {name:?} is {} characters long; OpenTelemetry allows at most {MAX_INSTRUMENT_NAME_LEN}",
            name.len()
        ));
    }
    Ok(())
}

/// The characters of one part of an instrument name; `first` parts must start with a letter.
pub fn validate_name_part(part: &str, first: bool) -> Result<(), String> {
    let Some(head) = part.chars().next() else {
        return Err("the name is empty".into());
    };
    if first && !head.is_ascii_alphabetic() {
        return Err(format!(
            "{part:?} must start with an ASCII letter (OpenTelemetry instrument name rules)"
        ));
    }
    if let Some(bad) =
        part.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')))
    {
        return Err(format!(
            "{part:?} contains {bad:?}; OpenTelemetry instrument names allow only ASCII letters, digits, \
             '_', '.', '-' and '/'"
        ));
    }
    Ok(())
}

/// An OpenTelemetry unit: ASCII, at most 63 characters (empty means none).
pub fn validate_unit(unit: &str) -> Result<(), String> {
    if !unit.is_ascii() {
        return Err(format!("unit {unit:?} must be ASCII (OpenTelemetry unit rules)"));
    }
    if unit.len() > MAX_UNIT_LEN {
        return Err(format!(
            "unit {unit:?} is {} characters long; OpenTelemetry allows at most {MAX_UNIT_LEN}",
            unit.len()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_names_from_namespace_resource_and_metric() {
        assert_eq!(metric_name("sealos", "kubeblocks-cluster", "phase"), "sealos.kubeblocks_cluster.phase");
        assert_eq!(
            metric_name("", "kubeblocks-cluster", "ready-replicas"),
            "kubeblocks_cluster.ready_replicas"
        );
        assert_eq!(metric_name("a-b", "c", "d"), "a_b.c.d");
    }

    #[test]
    fn validates_instrument_names() {
        let long = format!("a{}", "b".repeat(254));
        let too_long = format!("{long}c");
        let cases: &[(&str, Option<&str>)] = &[
            ("sealos.cluster.phase", None),
            ("a", None),
            ("A_b-c/d.e9", None),
            (&long, None),
            ("", Some("the name is empty")),
            ("9lives", Some("must start with an ASCII letter")),
            ("_x", Some("must start with an ASCII letter")),
            ("a b", Some("contains ' '")),
            ("a:b", Some("contains ':'")),
            ("é", Some("must start with an ASCII letter")),
            ("aé", Some("contains 'é'")),
            (&too_long, Some("is 256 characters long; OpenTelemetry allows at most 255")),
        ];
        for (name, want) in cases {
            match (validate_instrument_name(name), want) {
                (Ok(()), None) => {}
                (Err(e), Some(w)) => assert!(e.contains(w), "{name}: {e}"),
                (got, _) => panic!("{name}: unexpected {got:?}"),
            }
        }
        assert!(validate_name_part("2xx", false).is_ok());
    }

    #[test]
    fn validates_units() {
        assert!(validate_unit("").is_ok());
        assert!(validate_unit("By").is_ok());
        assert!(validate_unit("{object}").is_ok());
        assert!(validate_unit("µs").unwrap_err().contains("must be ASCII"));
        assert!(validate_unit(&"s".repeat(64)).unwrap_err().contains("at most 63"));
    }
}
