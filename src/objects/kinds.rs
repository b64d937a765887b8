//! Which configured resource an object read from a file belongs to.
//!
//! A GVR names the resource by its plural (`clusters`), while an object carries its `kind`
//! (`Cluster`). Without a cluster there is no discovery to map one to the other, so the plural
//! is guessed from the kind; an explicit kind in the config settles irregular plurals.

use serde_json::Value;

/// Lowercase plurals a kind may have: `Cluster` → `clusters`, `Ingress` → `ingresses`,
/// `Policy` → `policies`, and the kind itself (`Endpoints`).
pub fn plural_candidates(kind: &str) -> Vec<String> {
    let lower = kind.to_lowercase();
    let mut candidates = vec![format!("{lower}s"), format!("{lower}es"), lower.clone()];
    if let Some(stem) = lower.strip_suffix('y') {
        candidates.push(format!("{stem}ies"));
    }
    candidates
}

/// The lowercase plural a kind most likely has, by the English rules CRDs (and kube-state-metrics'
/// pluralizer) follow: `GitRepository` → `gitrepositories`, `Gateway` → `gateways`, `Ingress` →
/// `ingresses`, `Cluster` → `clusters`. Discovery has the last word at run time.
pub fn plural_guess(kind: &str) -> String {
    let lower = kind.to_lowercase();
    if let Some(stem) = lower.strip_suffix('y') {
        if stem.chars().last().is_some_and(|c| !"aeiou".contains(c)) {
            return format!("{stem}ies");
        }
    }
    if ["s", "x", "z", "ch", "sh"].iter().any(|end| lower.ends_with(end)) {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Whether `object` (by its `apiVersion` and `kind`) is of the resource `group/version/resource`.
/// With `kind` given, the object's kind must equal it; otherwise the resource must be one of
/// the plurals guessed from the object's kind.
pub fn is_of_resource(
    object: &Value,
    group: &str,
    version: &str,
    resource: &str,
    kind: Option<&str>,
) -> bool {
    let (Some(api_version), Some(object_kind)) =
        (object.get("apiVersion").and_then(Value::as_str), object.get("kind").and_then(Value::as_str))
    else {
        return false;
    };
    let (object_group, object_version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    if object_group != group || object_version != version {
        return false;
    }
    match kind {
        Some(kind) => object_kind == kind,
        None => plural_candidates(object_kind).iter().any(|p| p.eq_ignore_ascii_case(resource)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn guesses_the_likely_plural() {
        let cases = [
            ("GitRepository", "gitrepositories"),
            ("ImagePolicy", "imagepolicies"),
            ("Gateway", "gateways"),
            ("Ingress", "ingresses"),
            ("Box", "boxes"),
            ("Cluster", "clusters"),
            ("HelmRelease", "helmreleases"),
        ];
        for (kind, plural) in cases {
            assert_eq!(plural_guess(kind), plural, "{kind}");
            assert!(plural_candidates(kind).contains(&plural.to_owned()), "{kind}");
        }
    }

    #[test]
    fn guesses_plurals_from_kinds() {
        let cases = [
            ("Cluster", "clusters"),
            ("Ingress", "ingresses"),
            ("NetworkPolicy", "networkpolicies"),
            ("Endpoints", "endpoints"),
            ("Backup", "backups"),
        ];
        for (kind, plural) in cases {
            assert!(plural_candidates(kind).iter().any(|p| p == plural), "{kind}");
        }
    }

    #[test]
    fn matches_objects_to_resources() {
        let cluster = json!({"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster"});
        let node = json!({"apiVersion": "v1", "kind": "Node"});
        let policy = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"});
        let odd = json!({"apiVersion": "example.com/v1", "kind": "Octopus"});
        type Resource<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);
        let cases: &[(&Value, Resource, bool)] = &[
            (&cluster, ("apps.kubeblocks.io", "v1alpha1", "clusters", None), true),
            (&cluster, ("apps.kubeblocks.io", "v1", "clusters", None), false),
            (&cluster, ("other.io", "v1alpha1", "clusters", None), false),
            (&cluster, ("apps.kubeblocks.io", "v1alpha1", "backups", None), false),
            (&node, ("", "v1", "nodes", None), true),
            (&node, ("core", "v1", "nodes", None), false),
            (&policy, ("networking.k8s.io", "v1", "networkpolicies", None), true),
            (&odd, ("example.com", "v1", "octopodes", None), false),
            (&odd, ("example.com", "v1", "octopodes", Some("Octopus")), true),
            (&odd, ("example.com", "v1", "octopuses", Some("Squid")), false),
            (&json!({"kind": "Cluster"}), ("", "v1", "clusters", None), false),
            (&json!({"apiVersion": 1, "kind": "Cluster"}), ("", "v1", "clusters", None), false),
            (&json!("text"), ("", "v1", "clusters", None), false),
        ];
        for (object, (g, v, r, k), want) in cases {
            assert_eq!(is_of_resource(object, g, v, r, *k), *want, "{object} vs {g}/{v}/{r} {k:?}");
        }
    }
}
