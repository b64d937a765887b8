//! What `check` and `rbac` say about `select` and `namespaceSelector`: which types an entry
//! stands for, and the rules that cover them (broader than one resource, since RBAC cannot
//! name groups or kinds by pattern).

use super::discovery_types::TypeSelection;
use super::plan::CompiledResource;
use crate::collectors::plan::ReadAccess;

/// `check`'s words for the types of a `select` entry.
pub fn describe_select(types: &TypeSelection) -> String {
    let version = types.version().unwrap_or("each group's preferred version");
    format!(
        "select groups {:?} kinds {:?} at {version}, at most {} types, discovery every {}",
        types.group_patterns(),
        types.kind_patterns(),
        types.max_types(),
        types.discovery_period()
    )
}

/// `check`'s words for `namespaceSelector`, empty without one.
pub fn describe_namespace_selector(resource: &CompiledResource) -> String {
    match &resource.discovery.namespace_selector {
        Some(selector) => format!("; namespaces labelled {:?}, followed", selector.text),
        None => String::new(),
    }
}

/// The read access of a `select` entry: every resource of each named group, or of every group
/// when any group is a glob.
pub fn select_access(resource: &CompiledResource, types: &TypeSelection) -> Vec<ReadAccess> {
    let patterns = types.group_patterns();
    let exact = patterns.iter().all(|g| !g.contains(['*', '?', '[', '{']));
    let every_resource = vec!["*".to_owned()];
    if exact {
        let note = format!(
            "crds/{}: select: every resource of {} (RBAC cannot name kinds by pattern, and the types are found at run time); excluded kinds are never read",
            resource.name,
            patterns.iter().map(|g| if g.is_empty() { "core".to_owned() } else { format!("{g:?}") }).collect::<Vec<_>>().join(", ")
        );
        let mut access: Vec<ReadAccess> = patterns
            .iter()
            .map(|group| ReadAccess {
                group: group.trim().to_owned(),
                resources: every_resource.clone(),
                note: None,
            })
            .collect();
        if let Some(first) = access.first_mut() {
            first.note = Some(note);
        }
        return access;
    }
    vec![ReadAccess {
        group: "*".to_owned(),
        resources: every_resource,
        note: Some(format!(
            "crds/{}: select with group globs {:?}: RBAC cannot match groups by pattern, so this grants list and watch on every resource of every group (Secrets included); list the groups by name in `select.groups` to narrow it",
            resource.name, patterns
        )),
    }]
}

/// The read access `namespaceSelector` needs: namespaces, watched for their labels.
pub fn namespace_access(resources: &[CompiledResource]) -> Option<ReadAccess> {
    let names: Vec<&str> = resources
        .iter()
        .filter(|r| r.discovery.namespace_selector.is_some())
        .map(|r| r.name.as_str())
        .collect();
    (!names.is_empty()).then(|| ReadAccess {
        group: String::new(),
        resources: vec!["namespaces".to_owned()],
        note: Some(format!(
            "crds/{}: namespaceSelector: namespaces are watched for their labels",
            names.join(", crds/")
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::super::compile::compile_crds;
    use super::super::config::CrdsConfig;
    use super::*;

    fn resource(yaml: &str) -> CompiledResource {
        let config: CrdsConfig = serde_saphyr::from_str(&format!(
            "resources:\n  - name: ops\n{yaml}    metrics: [{{type: info, name: i}}]\n"
        ))
        .unwrap();
        compile_crds(&config).unwrap().remove(0)
    }

    #[test]
    fn exact_groups_grant_their_resources_and_globs_grant_every_group_saying_why() {
        let exact =
            resource("    select: {groups: [cert-manager.io, ''], kinds: [Certificate, ConfigMap]}\n");
        let access = select_access(&exact, exact.discovery.types.as_ref().unwrap());
        let groups: Vec<(&str, &[String])> =
            access.iter().map(|a| (a.group.as_str(), a.resources.as_slice())).collect();
        assert_eq!(groups, [("cert-manager.io", &["*".to_owned()][..]), ("", &["*".to_owned()][..])]);
        let note = access[0].note.as_deref().unwrap();
        assert!(
            note.contains("every resource of \"cert-manager.io\", core")
                && note.contains("cannot name kinds"),
            "{note}"
        );

        let glob = resource("    select: {groups: ['*.fluxcd.io']}\n");
        let access = select_access(&glob, glob.discovery.types.as_ref().unwrap());
        assert_eq!(
            (access.len(), access[0].group.as_str(), access[0].resources.as_slice()),
            (1, "*", &["*".to_owned()][..])
        );
        assert!(access[0].note.as_deref().unwrap().contains("RBAC cannot match groups by pattern"));
    }

    #[test]
    fn a_namespace_selector_needs_namespaces_and_check_says_it() {
        let labelled = resource(
            "    gvr: {group: a.io, version: v1, resource: as}\n    namespaceSelector: team=payments\n",
        );
        assert_eq!(
            describe_namespace_selector(&labelled),
            "; namespaces labelled \"team=payments\", followed"
        );
        let access = namespace_access(std::slice::from_ref(&labelled)).unwrap();
        assert_eq!(
            (access.group.as_str(), access.resources.as_slice()),
            ("", &["namespaces".to_owned()][..])
        );
        let plain = resource("    gvr: {group: a.io, version: v1, resource: as}\n");
        assert!(namespace_access(&[plain]).is_none());
        let select = resource("    select: {groups: [a.io], version: v2, maxTypes: 3}\n");
        assert_eq!(
            describe_select(select.discovery.types.as_ref().unwrap()),
            "select groups [\"a.io\"] kinds [\"*\"] at v2, at most 3 types, discovery every 30s"
        );
    }
}
