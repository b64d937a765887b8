//! Objects read from files, each with the path it came from, so `render`'s warnings can name
//! the file and the object.

use std::fmt;
use std::path::PathBuf;

use serde_json::Value;

use super::read::{read_objects, ObjectsError};

/// An object and the path it was read from (a file, or the directory given on the command line).
#[derive(Debug, Clone)]
pub struct SourcedObject {
    pub source: PathBuf,
    pub object: Value,
}

/// `file: Kind namespace/name`, for warnings.
impl fmt::Display for SourcedObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |p: &str| self.object.pointer(p).and_then(Value::as_str).unwrap_or("");
        let name = match text("/metadata/namespace") {
            "" => text("/metadata/name").to_owned(),
            ns => format!("{ns}/{}", text("/metadata/name")),
        };
        write!(f, "{}: {} {name}", self.source.display(), text("/kind"))
    }
}

/// Reads every object under `paths`, remembering which path each came from.
pub fn read_sourced(paths: &[PathBuf]) -> Result<Vec<SourcedObject>, ObjectsError> {
    let mut out = Vec::new();
    for path in paths {
        let objects = read_objects(std::slice::from_ref(path))?;
        out.extend(objects.into_iter().map(|object| SourcedObject { source: path.clone(), object }));
    }
    Ok(out)
}
