//! Every kustomization README.md and docs/*.md tell the reader to apply (`kubectl apply -k
//! PATH`, `kubectl kustomize PATH`, any other `-k PATH`) renders with `kubectl kustomize`, so a
//! moved or renamed directory cannot leave a command in the docs that fails. Paths are taken
//! from the repository root, where the commands are meant to be run.

#[path = "support/manifests.rs"]
mod manifests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every markdown page under docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The PATH after each `kubectl kustomize`, `-k` or `--kustomize` in `text`, without the
/// markdown and sentence punctuation around it.
fn kustomize_paths(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut paths = Vec::new();
    for (i, pair) in words.windows(2).enumerate() {
        let flag = pair[0].trim_start_matches('`');
        let applies =
            flag == "-k" || flag == "--kustomize" || (pair[0].ends_with("kubectl") && pair[1] == "kustomize");
        let target =
            if flag == "-k" || flag == "--kustomize" { Some(pair[1]) } else { words.get(i + 2).copied() };
        if let (true, Some(target)) = (applies, target) {
            // Leading `.` stays: `./deploy/...` is a path; a trailing one ends the sentence.
            let path = target
                .trim_start_matches(|c: char| "`'\"([".contains(c))
                .trim_end_matches(|c: char| "`'\")],.;:".contains(c));
            if !path.is_empty() {
                paths.push(path.to_owned());
            }
        }
    }
    paths
}

#[test]
fn paths_are_read_from_commands() {
    let text = "Run `kubectl apply -k deploy/a`. Or\n`kubectl kustomize ./deploy/b/`, then `kubectl delete -k deploy/c`;";
    assert_eq!(kustomize_paths(text), ["deploy/a", "./deploy/b/", "deploy/c"]);
}

#[test]
fn every_documented_kustomization_renders() {
    let mut rendered = BTreeSet::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for path in kustomize_paths(&text) {
            let dir = root().join(&path);
            assert!(
                dir.join("kustomization.yaml").is_file(),
                "{} names `{path}`, which holds no kustomization.yaml",
                page.display()
            );
            let objects = manifests::kubectl_kustomize(Path::new(&path));
            assert!(objects.iter().all(|o| o["kind"].is_string()), "{path}: an object without kind");
            rendered.insert(path.trim_end_matches('/').to_owned());
        }
    }
    for expected in [
        "deploy/kubernetes/base",
        "deploy/kubernetes/overlays/etcd-client-certs",
        "deploy/kubernetes/overlays/prometheus-operator",
        "deploy/kubernetes/overlays/sharded",
        "deploy/kubernetes/overlays/victoriametrics-operator",
    ] {
        assert!(rendered.contains(expected), "no page tells how to apply {expected}: {rendered:?}");
    }
}
