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
                crate::collectors::crds::describe(&document)
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
