//! Decoding only what a resource reads changes nothing extraction sees: every shipped example's
//! objects give the same points and errors decoded whole and decoded as the watch does.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::needed::Needed;
use super::watched::decode_watched;
use super::{compile_crds, extract, CompiledResource, CrdsConfig};
use crate::objects::read_objects;

/// The crds resources of one example's `config.yaml` (none when it has no crds section, or one
/// that needs files beside it compiled by the whole loader).
fn resources(config: &Path) -> Vec<CompiledResource> {
    let text = std::fs::read_to_string(config).unwrap();
    let document: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let Some(crds) = document.pointer("/collectors/crds") else { return vec![] };
    let Ok(config) = serde_json::from_value::<CrdsConfig>(crds.clone()) else { return vec![] };
    compile_crds(&config).unwrap_or_default()
}

fn examples() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("config/examples")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("config.yaml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn object_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "config.yaml"))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_extracts_the_same_from_the_decoded_parts() {
    let (mut compared, mut smaller) = (0, 0);
    for dir in examples() {
        let resources = resources(&dir.join("config.yaml"));
        let objects: Vec<serde_json::Value> = object_files(&dir)
            .iter()
            .flat_map(|f| read_objects(std::slice::from_ref(f)).unwrap_or_default())
            .collect();
        for resource in &resources {
            let keep = Arc::new(Needed::of_resource(resource));
            for object in objects.iter().filter(|o| resource.matches(o)) {
                let text = serde_json::to_string(object).unwrap();
                let decoded = decode_watched(&text, &keep).unwrap();
                assert_eq!(
                    extract(resource, decoded.object()),
                    extract(resource, object),
                    "{}: resource {}, object {}",
                    dir.display(),
                    resource.name,
                    object["metadata"]["name"]
                );
                assert_eq!(decoded.metadata.uid.as_deref(), object["metadata"]["uid"].as_str());
                compared += 1;
                smaller += usize::from(serde_json::to_string(decoded.object()).unwrap().len() < text.len());
            }
        }
    }
    assert!(compared >= 20, "only {compared} objects compared");
    assert!(smaller * 2 >= compared, "only {smaller} of {compared} objects decoded smaller");
}

#[test]
fn skipped_members_are_not_kept_and_lists_keep_every_element() {
    let config: CrdsConfig = serde_saphyr::from_str(
        "resources:\n  - name: db\n    gvr: {group: example.com, version: v1, resource: dbs}\n    commonLabels: {app: 'metadata.labels.app'}\n    metrics:\n      - {type: conditions, name: condition, path: status.conditions}\n      - {type: gauge, name: ready, path: 'status.replicas[name=main].ready'}\n",
    )
    .unwrap();
    let resource = compile_crds(&config).unwrap().remove(0);
    let keep = Arc::new(Needed::of_resource(&resource));
    let text = r#"{"apiVersion": "example.com/v1", "kind": "Db",
        "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "7",
                     "labels": {"app": "x", "team": "y"}, "managedFields": [{"manager": "m"}]},
        "spec": {"big": [1, 2, {"deep": "x"}]},
        "status": {"conditions": [{"type": "Ready", "status": "True", "message": "m"}],
                   "replicas": [{"name": "side", "ready": 1, "extra": true}, {"name": "main", "ready": 3}],
                   "other": "skipped"}}"#;
    let decoded = decode_watched(text, &keep).unwrap();
    let want = serde_json::json!({"apiVersion": "example.com/v1", "kind": "Db",
        "metadata": {"name": "a", "namespace": "n", "uid": "u", "resourceVersion": "7", "labels": {"app": "x"}},
        "status": {"conditions": [{"type": "Ready", "status": "True"}],
                   "replicas": [{"name": "side", "ready": 1}, {"name": "main", "ready": 3}]}});
    assert_eq!(*decoded.object(), want);
    assert_eq!(decoded.metadata.resource_version.as_deref(), Some("7"));
    assert_eq!(extract(&resource, decoded.object()).points.len(), 2);
}
