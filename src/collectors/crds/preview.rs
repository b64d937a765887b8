//! `check --cluster`: what each resource would watch in the cluster reached now, read from its
//! discovery without watching anything (a `select` entry's types, a configured type that is
//! missing or cannot be watched).

use super::discovery_scan::served_types;
use super::discovery_types::ServedType;
use super::plan::CompiledResource;
use super::watch_discovery::resolve;

/// One line per resource.
pub async fn preview(resources: Vec<CompiledResource>, client: kube::Client) -> Vec<String> {
    let mut lines = Vec::new();
    for resource in &resources {
        lines.push(match &resource.discovery.types {
            Some(types) => match served_types(&client, types).await {
                Ok(served) => {
                    let choice = types.choose(&served);
                    let mut line =
                        format!("crds/{}: select would watch {} types", resource.name, choice.watched.len());
                    line.push_str(&listed(": ", &choice.watched));
                    if !choice.unwatchable.is_empty() {
                        line.push_str(&listed("; not watchable (no list and watch): ", &choice.unwatchable));
                    }
                    if !choice.over_cap.is_empty() {
                        let cap = format!("; beyond maxTypes ({}): ", types.max_types());
                        line.push_str(&listed(&cap, &choice.over_cap));
                    }
                    line
                }
                Err(error) => format!("crds/{}: discovery failed: {error}", resource.name),
            },
            None => match resolve(&client, &resource.gvr, resource.by_kind).await {
                Ok((ar, _)) => format!(
                    "crds/{}: {}/{} {} is served and watchable",
                    resource.name, ar.group, ar.version, ar.plural
                ),
                Err(error) => format!("crds/{}: {error}", resource.name),
            },
        });
    }
    lines
}

fn listed(prefix: &str, types: &[ServedType]) -> String {
    if types.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = types.iter().map(|t| format!("{} ({})", t.id(), t.version)).collect();
    format!("{prefix}{}", ids.join(", "))
}
