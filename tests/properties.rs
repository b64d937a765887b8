//! Never a panic on input: the config loader on random text, random YAML documents and random
//! edits of every shipped config, and `render` on random edits of the shipped example objects
//! (and wholly random objects) against their configs. Each case ends in a result or in errors
//! that each name a place; none panics. CI runs a fixed number of cases; `PROPTEST_CASES`
//! raises it (`PROPTEST_CASES=5000 cargo test --test properties`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use kube_state_otel::commands::{render, RenderFormat};
use kube_state_otel::config::{load_str, Env, Plan};
use kube_state_otel::objects::{read_sourced, SourcedObject};
use kube_state_otel_testkit::arbitrary::{apply, cases, edit, json_value, key, text, Edit};
use proptest::prelude::*;
use serde_json::Value;

/// Every config the repository ships, as text.
fn shipped_configs() -> &'static [(PathBuf, String)] {
    static CONFIGS: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let mut paths = vec![
            PathBuf::from("config/kube-state-otel.yaml"),
            PathBuf::from("config/compose/kube-state-otel.yaml"),
        ];
        for entry in std::fs::read_dir("config/examples").unwrap() {
            let config = entry.unwrap().path().join("config.yaml");
            if config.exists() {
                paths.push(config);
            }
        }
        paths.sort();
        paths.into_iter().map(|p| (p.clone(), std::fs::read_to_string(&p).unwrap())).collect()
    })
}

/// Each example directory's compiled config and objects.
fn examples() -> &'static [(PathBuf, Plan, Vec<SourcedObject>)] {
    static EXAMPLES: OnceLock<Vec<(PathBuf, Plan, Vec<SourcedObject>)>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        shipped_configs()
            .iter()
            .filter(|(path, _)| path.starts_with("config/examples"))
            .map(|(path, text)| {
                let dir = path.parent().unwrap().to_path_buf();
                let plan =
                    load_str(text, &Env::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .filter(|p| p.file_name().is_some_and(|n| n != "config.yaml"))
                    .collect();
                let objects = read_sourced(&inputs).unwrap();
                assert!(!objects.is_empty(), "{} has example objects", dir.display());
                (dir, plan, objects)
            })
            .collect()
    })
}

/// Loads `text`: either a plan or errors, each with a message (and a path unless the text is
/// not YAML at all).
fn load_cleanly(text: &str) -> Result<(), TestCaseError> {
    if let Err(issues) = load_str(text, &Env::default()) {
        prop_assert!(!issues.is_empty(), "an error without an issue for:\n{text}");
        for issue in issues.iter() {
            prop_assert!(!issue.message.trim().is_empty(), "an issue without a message: {issue:?}");
        }
    }
    Ok(())
}

fn yaml_of(doc: &Value) -> String {
    // JSON is YAML (1.2): flow style keeps the edit exactly as made.
    serde_json::to_string(doc).unwrap()
}

fn parse(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

fn render_cleanly(plan: &Plan, objects: &[SourcedObject]) -> Result<(), TestCaseError> {
    for format in [RenderFormat::Prometheus, RenderFormat::Openmetrics, RenderFormat::OtlpJson] {
        // An error is a clean ending too; only a panic fails.
        if let Ok(rendered) = render(plan, &Env::default(), objects, format) {
            prop_assert!(rendered.output.is_empty() || rendered.output.ends_with('\n'));
        }
    }
    Ok(())
}

fn at(dir: &Path, object: Value) -> SourcedObject {
    SourcedObject { source: dir.to_path_buf(), object }
}

proptest! {
    #![proptest_config(cases(64))]

    /// Any text at all.
    #[test]
    fn the_loader_takes_any_text(text in any::<String>()) {
        load_cleanly(&text)?;
    }

    /// YAML-looking lines with config words.
    #[test]
    fn the_loader_takes_yaml_like_lines(lines in prop::collection::vec((key(), text(), 0usize..4), 0..12)) {
        let text: String = lines
            .iter()
            .map(|(k, v, indent)| format!("{}{k}: {v}\n", "  ".repeat(*indent)))
            .collect();
        load_cleanly(&text)?;
    }

    /// Random YAML documents.
    #[test]
    fn the_loader_takes_any_document(doc in json_value()) {
        load_cleanly(&yaml_of(&doc))?;
    }

    /// Each shipped config with up to three random edits.
    #[test]
    fn the_loader_takes_edited_shipped_configs(which in any::<usize>(), edits in prop::collection::vec(edit(), 1..4)) {
        let configs = shipped_configs();
        let (_, text) = &configs[which % configs.len()];
        let doc = edits.iter().fold(parse(text), |doc, e: &Edit| apply(&doc, e));
        load_cleanly(&yaml_of(&doc))?;
    }

    /// Each example's objects with random edits (kind and apiVersion mostly kept, so the
    /// objects still reach the metrics), rendered against the example's config.
    #[test]
    fn render_takes_edited_example_objects(which in any::<usize>(), edits in prop::collection::vec((any::<usize>(), edit()), 1..6)) {
        let examples = examples();
        let (_, plan, objects) = &examples[which % examples.len()];
        let mut objects = objects.clone();
        for (target, e) in &edits {
            let n = objects.len();
            let object = &mut objects[target % n].object;
            *object = apply(object, e);
        }
        render_cleanly(plan, &objects)?;
    }

    /// Wholly random objects of each example's kinds, and of no kind at all.
    #[test]
    fn render_takes_random_objects(which in any::<usize>(), bodies in prop::collection::vec(json_value(), 1..6)) {
        let examples = examples();
        let (dir, plan, objects) = &examples[which % examples.len()];
        let random: Vec<SourcedObject> = bodies
            .into_iter()
            .enumerate()
            .map(|(i, mut body)| {
                let like = &objects[i % objects.len()].object;
                // Two in three take an example object's kind; the others keep whatever they have.
                if let (Value::Object(map), true) = (&mut body, i % 3 != 0) {
                    map.insert("apiVersion".into(), like["apiVersion"].clone());
                    map.insert("kind".into(), like["kind"].clone());
                }
                at(dir, body)
            })
            .collect();
        render_cleanly(plan, &random)?;
    }
}
