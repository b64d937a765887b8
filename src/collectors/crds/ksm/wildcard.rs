//! `*` in `version` or `kind`: the concrete versions and kinds a template stands for, from the
//! objects `render` reads or from what the API server serves.

use std::collections::BTreeSet;

use kube::discovery::{verbs, Discovery};
use serde_json::Value;

use super::resource::KsmResource;
use crate::collectors::crds::plan::CompiledResource;

/// One instance per distinct version and kind of the group among `objects` that `template`
/// covers (the plural guessed from the kind, as `render` has no discovery).
pub fn from_objects<'a>(
    template: &KsmResource,
    objects: impl Iterator<Item = &'a Value>,
) -> Vec<CompiledResource> {
    let mut found = BTreeSet::new();
    for object in objects {
        let (Some(api_version), Some(kind)) =
            (object.get("apiVersion").and_then(Value::as_str), object.get("kind").and_then(Value::as_str))
        else {
            continue;
        };
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        if template.covers(group, version, kind) {
            found.insert((version.to_owned(), kind.to_owned()));
        }
    }
    found.into_iter().map(|(version, kind)| template.instance(&version, &kind, None)).collect()
}

/// One instance per served, listable and watchable resource of the template's group that it
/// covers (subresources left out), with the plural discovery gives.
pub async fn from_discovery(
    client: &kube::Client,
    template: &KsmResource,
) -> Result<Vec<CompiledResource>, kube::Error> {
    let discovery = Discovery::new(client.clone()).filter(&[template.gvk.group.as_str()]).run().await?;
    let mut instances = Vec::new();
    for group in discovery.groups() {
        for version in group.versions() {
            for (ar, caps) in group.versioned_resources(version) {
                let usable = caps.supports_operation(verbs::LIST) && caps.supports_operation(verbs::WATCH);
                if usable && !ar.plural.contains('/') && template.covers(&ar.group, &ar.version, &ar.kind) {
                    instances.push(template.instance(&ar.version, &ar.kind, Some(&ar.plural)));
                }
            }
        }
    }
    Ok(instances)
}
