//! Reading objects from files and directories.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Why objects could not be read; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ObjectsError {
    #[error("{}: cannot read: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{}{}: {message}", path.display(), at_line(*line, *column))]
    Syntax { path: PathBuf, line: Option<u64>, column: Option<u64>, message: String },
    #[error("{}: document {document}{}: {message}", path.display(), at_line(*line, None))]
    NotAnObject { path: PathBuf, document: usize, line: Option<u64>, message: String },
}

fn at_line(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

/// The objects in `paths` (files, or directories read recursively for `.yaml`, `.yml` and
/// `.json` files in name order), with lists flattened into their items.
pub fn read_objects(paths: &[PathBuf]) -> Result<Vec<Value>, ObjectsError> {
    let mut files = Vec::new();
    for path in paths {
        let meta =
            std::fs::metadata(path).map_err(|source| ObjectsError::Io { path: path.clone(), source })?;
        if meta.is_dir() {
            collect_files(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|source| ObjectsError::Io { path: file.clone(), source })?;
        objects.extend(read_objects_from_str(&text, &file)?);
    }
    Ok(objects)
}

fn is_object_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
}

/// Files under `dir`, sorted by name at each level. Symbolic links to directories are not
/// followed, so link cycles cannot loop.
fn collect_files(dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), ObjectsError> {
    let io = |source| ObjectsError::Io { path: dir.to_owned(), source };
    let mut entries = std::fs::read_dir(dir).map_err(io)?.collect::<Result<Vec<_>, _>>().map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let file_type =
            entry.file_type().map_err(|source| ObjectsError::Io { path: path.clone(), source })?;
        if file_type.is_dir() {
            collect_files(&path, files)?;
        } else if is_object_file(&path) && !(file_type.is_symlink() && path.is_dir()) {
            files.push(path);
        }
    }
    Ok(())
}

/// The objects in `text`, read from `source` (named in errors; `.json` is parsed as JSON, any
/// other name as YAML).
pub fn read_objects_from_str(text: &str, source: &Path) -> Result<Vec<Value>, ObjectsError> {
    let documents = if source.extension().is_some_and(|e| e == "json") {
        parse_json(text, source)?
    } else {
        parse_yaml(text, source)?
    };
    let mut objects = Vec::new();
    for (i, (document, line)) in documents.into_iter().enumerate() {
        if !document.is_object() {
            let message = format!(
                "expected a Kubernetes object (a mapping with apiVersion and kind), found {}",
                super::json_kind(&document)
            );
            return Err(ObjectsError::NotAnObject {
                path: source.to_owned(),
                document: i + 1,
                line,
                message,
            });
        }
        flatten_lists(document, &mut objects);
    }
    Ok(objects)
}

fn parse_yaml(text: &str, source: &Path) -> Result<Vec<(Value, Option<u64>)>, ObjectsError> {
    let documents: Vec<serde_saphyr::Spanned<Value>> = serde_saphyr::from_multiple(text).map_err(|e| {
        let location = e.location();
        ObjectsError::Syntax {
            path: source.to_owned(),
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            message: e.without_snippet().to_string(),
        }
    })?;
    Ok(documents
        .into_iter()
        .filter(|d| !d.value.is_null())
        .map(|d| {
            let line = d.referenced.line();
            (d.value, (line > 0).then_some(line))
        })
        .collect())
}

/// One JSON value, or several one after another.
fn parse_json(text: &str, source: &Path) -> Result<Vec<(Value, Option<u64>)>, ObjectsError> {
    serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .map(|r| {
            r.map(|v| (v, None)).map_err(|e| ObjectsError::Syntax {
                path: source.to_owned(),
                line: Some(e.line() as u64),
                column: Some(e.column() as u64),
                message: e.to_string(),
            })
        })
        .collect()
}

/// Appends `value`, or the items of a list (`kind: List`, `PodList`, ...) recursively. Items of
/// typed lists from the API come without `apiVersion` and `kind`; they get the list's.
fn flatten_lists(mut value: Value, out: &mut Vec<Value>) {
    let list_kind =
        value.get("kind").and_then(Value::as_str).and_then(|k| k.strip_suffix("List")).map(str::to_owned);
    let (Some(item_kind), true) = (list_kind, value.get("items").is_some_and(Value::is_array)) else {
        out.push(value);
        return;
    };
    let Some(Value::Array(items)) = value.get_mut("items").map(Value::take) else { return };
    let api_version = value.get("apiVersion").cloned();
    for mut item in items {
        if let Some(fields) = item.as_object_mut().filter(|_| !item_kind.is_empty()) {
            if !fields.contains_key("kind") {
                fields.insert("kind".into(), Value::String(item_kind.clone()));
            }
            if let (false, Some(v)) = (fields.contains_key("apiVersion"), &api_version) {
                fields.insert("apiVersion".into(), v.clone());
            }
        }
        flatten_lists(item, out);
    }
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::json;

    use super::*;

    fn names(objects: &[Value]) -> Vec<String> {
        objects
            .iter()
            .map(|o| {
                let text = |p: &str| o.pointer(p).and_then(Value::as_str).unwrap_or("-").to_owned();
                format!("{} {} {}", text("/apiVersion"), text("/kind"), text("/metadata/name"))
            })
            .collect()
    }

    #[test]
    fn reads_every_supported_layout() {
        let cases: &[(&str, &str, &[&str])] = &[
            ("one.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n", &["v1 Node n1"]),
            (
                "multi.yaml",
                "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n2}\n",
                &["v1 Node n1", "v1 Node n2"],
            ),
            (
                "kubectl.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: g.io/v1\n  kind: Thing\n  metadata: {name: a}\n- apiVersion: v1\n  kind: List\n  items:\n  - {apiVersion: g.io/v1, kind: Thing, metadata: {name: b}}\nmetadata: {resourceVersion: \"\"}\n",
                &["g.io/v1 Thing a", "g.io/v1 Thing b"],
            ),
            (
                "api.json",
                r#"{"apiVersion": "g.io/v1", "kind": "ThingList", "metadata": {}, "items": [{"metadata": {"name": "a"}}, {"kind": "Other", "metadata": {"name": "b"}}]}"#,
                &["g.io/v1 Thing a", "g.io/v1 Other b"],
            ),
            (
                "stream.json",
                r#"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}} {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}"#,
                &["v1 Node n1", "v1 Node n2"],
            ),
            ("empty.yaml", "", &[]),
            ("empty-list.yaml", "apiVersion: v1\nkind: List\nitems: []\n", &[]),
            // A `*List` kind without an items list is an object like any other.
            ("checklist.yaml", "apiVersion: g.io/v1\nkind: CheckList\nmetadata: {name: c}\n", &["g.io/v1 CheckList c"]),
        ];
        for (file, text, want) in cases {
            let got = read_objects_from_str(text, Path::new(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(names(&got), *want, "{file}");
        }
    }

    #[test]
    fn keeps_values_as_written() {
        let yaml = "apiVersion: v1\nkind: Node\nstatus:\n  capacity: {cpu: \"4\", memory: 16Gi}\n  ready: true\n  count: 3\n  ratio: 0.5\n  time: 2024-01-01T00:00:00Z\n";
        let got = read_objects_from_str(yaml, Path::new("n.yaml")).unwrap();
        assert_eq!(
            got[0]["status"],
            json!({"capacity": {"cpu": "4", "memory": "16Gi"}, "ready": true, "count": 3, "ratio": 0.5, "time": "2024-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn errors_name_the_file_and_where() {
        let cases: &[(&str, &str, &str)] = &[
            ("bad.yaml", "apiVersion: v1\nkind: [\n", "bad.yaml:"),
            ("bad.json", "{\"apiVersion\": \"v1\",\n \"kind\": }", "bad.json:2:10: "),
            ("scalar.yaml", "apiVersion: v1\nkind: Node\n---\njust text\n", "scalar.yaml: document 2 (line 4): expected a Kubernetes object (a mapping with apiVersion and kind), found a string"),
            ("list.json", "[1, 2]", "list.json: document 1: expected a Kubernetes object"),
        ];
        for (file, text, want) in cases {
            let err = read_objects_from_str(text, Path::new(file)).unwrap_err().to_string();
            assert!(err.starts_with(want), "{file}: {err}");
        }
        let err = read_objects_from_str("a: 1\nb: [\n", Path::new("x.yaml")).unwrap_err();
        assert!(matches!(err, ObjectsError::Syntax { line: Some(_), .. }), "{err:?}");
    }

    #[test]
    fn reads_files_and_directories_recursively_in_name_order() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("nested/deeper")).unwrap();
        let node = |name: &str| format!("apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\n");
        fs::write(root.join("b.yaml"), node("b")).unwrap();
        fs::write(root.join("a.yml"), node("a")).unwrap();
        fs::write(
            root.join("nested/c.json"),
            r#"{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "c"}}"#,
        )
        .unwrap();
        fs::write(root.join("nested/deeper/d.yaml"), node("d")).unwrap();
        fs::write(root.join("notes.txt"), "not: [yaml").unwrap();
        fs::write(root.join("README.md"), "# objects").unwrap();
        let single = root.join("single.txt");
        fs::write(&single, node("explicit")).unwrap();

        let got = read_objects(&[root.to_path_buf()]).unwrap();
        assert_eq!(names(&got), ["v1 Node a", "v1 Node b", "v1 Node c", "v1 Node d"]);
        // A file named explicitly is read whatever its extension.
        let got = read_objects(&[single, root.join("nested/c.json")]).unwrap();
        assert_eq!(names(&got), ["v1 Node explicit", "v1 Node c"]);

        let missing = root.join("missing.yaml");
        let err = read_objects(std::slice::from_ref(&missing)).unwrap_err().to_string();
        assert!(err.starts_with(&format!("{}: cannot read: ", missing.display())), "{err}");

        fs::write(root.join("nested/broken.yaml"), "kind: [\n").unwrap();
        let err = read_objects(&[root.to_path_buf()]).unwrap_err().to_string();
        assert!(err.contains("broken.yaml"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn directory_symlink_cycles_do_not_loop() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.yaml"), "apiVersion: v1\nkind: Node\nmetadata: {name: a}\n").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        let got = read_objects(&[dir.path().to_path_buf()]).unwrap();
        assert_eq!(names(&got), ["v1 Node a"]);
    }
}
