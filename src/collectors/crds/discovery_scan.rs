//! Reading the API server's discovery for a `select` entry: only the groups it can match, each
//! at its preferred version (or the one version asked for).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::APIResourceList;

use super::discovery_types::{ServedType, TypeSelection};

/// Every type served in the groups `selection` may match (its kinds are filtered later, by
/// [`TypeSelection::choose`]).
pub async fn served_types(
    client: &kube::Client,
    selection: &TypeSelection,
) -> Result<Vec<ServedType>, kube::Error> {
    let mut served = Vec::new();
    if selection.matches_group("") {
        let version = selection.version().unwrap_or("v1");
        if let Some(list) = absent_as_none(client.list_core_api_resources(version).await)? {
            collect(&mut served, "", version, list);
        }
    }
    let groups = client.list_api_groups().await?;
    for group in groups.groups.iter().filter(|g| selection.matches_group(&g.name)) {
        let version = match selection.version() {
            Some(wanted) if group.versions.iter().any(|v| v.version == wanted) => wanted.to_owned(),
            Some(_) => continue,
            None => match group.preferred_version.as_ref().or(group.versions.first()) {
                Some(preferred) => preferred.version.clone(),
                None => continue,
            },
        };
        // A group removed between the two requests answers 404: it is simply not served.
        let list = client.list_api_group_resources(&format!("{}/{version}", group.name)).await;
        if let Some(list) = absent_as_none(list)? {
            collect(&mut served, &group.name, &version, list);
        }
    }
    Ok(served)
}

fn absent_as_none<T>(result: Result<T, kube::Error>) -> Result<Option<T>, kube::Error> {
    match result {
        Ok(found) => Ok(Some(found)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
        Err(error) => Err(error),
    }
}

fn collect(served: &mut Vec<ServedType>, group: &str, version: &str, list: APIResourceList) {
    served.extend(list.resources.into_iter().map(|r| ServedType {
        group: group.to_owned(),
        version: version.to_owned(),
        kind: r.kind,
        plural: r.name,
        namespaced: r.namespaced,
        verbs: r.verbs,
    }));
}
