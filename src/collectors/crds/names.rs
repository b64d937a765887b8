//! Metric names: how they are built from the config.

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
}
