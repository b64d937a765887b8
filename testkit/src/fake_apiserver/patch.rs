//! Patch bodies: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the strategic merge
//! patch of built-in types, which for the maps kube-lease-manager patches behaves as a merge.

use serde_json::Value;

use super::status::ApiError;

/// The `Content-Type` of a PATCH request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PatchType {
    Merge,
    Strategic,
    Json,
    Apply,
}

impl PatchType {
    pub fn from_content_type(content_type: &str) -> Result<Self, ApiError> {
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            "application/merge-patch+json" => Ok(Self::Merge),
            "application/strategic-merge-patch+json" => Ok(Self::Strategic),
            "application/json-patch+json" => Ok(Self::Json),
            "application/apply-patch+yaml" | "application/apply-patch+cbor" => Ok(Self::Apply),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }
}

/// RFC 7386: objects merge recursively, `null` deletes, anything else replaces.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    let Value::Object(target) = target else { return };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// RFC 6902 operations applied in order; any failing operation fails the whole patch.
pub(crate) fn json_patch(target: &mut Value, patch: &Value) -> Result<(), ApiError> {
    let ops = patch.as_array().ok_or_else(|| ApiError::bad_request("json patch must be an array"))?;
    let mut result = target.clone();
    for op in ops {
        let field = |name: &str| op.get(name).and_then(Value::as_str);
        let path = field("path").ok_or_else(|| ApiError::bad_request("json patch operation without path"))?;
        let value = || {
            op.get("value")
                .cloned()
                .ok_or_else(|| ApiError::bad_request("json patch operation without value"))
        };
        match field("op").unwrap_or_default() {
            "add" => add(&mut result, path, value()?)?,
            "remove" => {
                remove(&mut result, path)?;
            }
            "replace" => {
                remove(&mut result, path)?;
                add(&mut result, path, value()?)?;
            }
            "test" => {
                if result.pointer(path) != Some(&value()?) {
                    return Err(ApiError::invalid(format!("json patch test failed at {path}")));
                }
            }
            op_name @ ("move" | "copy") => {
                let from = field("from")
                    .ok_or_else(|| ApiError::bad_request("json patch operation without from"))?;
                let moved = if op_name == "move" {
                    remove(&mut result, from)?
                } else {
                    result.pointer(from).cloned().ok_or_else(|| missing(from))?
                };
                add(&mut result, path, moved)?;
            }
            other => return Err(ApiError::bad_request(format!("unknown json patch operation {other:?}"))),
        }
    }
    *target = result;
    Ok(())
}

fn missing(path: &str) -> ApiError {
    ApiError::invalid(format!("json patch: path {path} does not exist"))
}

fn split(path: &str) -> Result<(&str, String), ApiError> {
    let (parent, last) = path.rsplit_once('/').ok_or_else(|| missing(path))?;
    Ok((parent, last.replace("~1", "/").replace("~0", "~")))
}

fn add(target: &mut Value, path: &str, value: Value) -> Result<(), ApiError> {
    if path.is_empty() {
        *target = value;
        return Ok(());
    }
    let (parent, last) = split(path)?;
    match target.pointer_mut(parent).ok_or_else(|| missing(path))? {
        Value::Object(map) => {
            map.insert(last, value);
        }
        Value::Array(items) if last == "-" => items.push(value),
        Value::Array(items) => {
            let index: usize = last.parse().map_err(|_| missing(path))?;
            if index > items.len() {
                return Err(missing(path));
            }
            items.insert(index, value);
        }
        _ => return Err(missing(path)),
    }
    Ok(())
}

fn remove(target: &mut Value, path: &str) -> Result<Value, ApiError> {
    let (parent, last) = split(path)?;
    match target.pointer_mut(parent).ok_or_else(|| missing(path))? {
        Value::Object(map) => map.remove(&last).ok_or_else(|| missing(path)),
        Value::Array(items) => {
            let index: usize = last.parse().map_err(|_| missing(path))?;
            (index < items.len()).then(|| items.remove(index)).ok_or_else(|| missing(path))
        }
        _ => Err(missing(path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_deletes_nulls_and_merges_objects() {
        let mut target = json!({"spec": {"a": 1, "b": 2}, "list": [1, 2]});
        merge_patch(&mut target, &json!({"spec": {"a": null, "c": 3}, "list": [3]}));
        assert_eq!(target, json!({"spec": {"b": 2, "c": 3}, "list": [3]}));
    }

    #[test]
    fn json_patch_operations() {
        let mut target = json!({"a": {"b": [1, 2]}, "c": 1});
        let patch = json!([
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/c", "value": 2},
            {"op": "test", "path": "/c", "value": 2},
            {"op": "copy", "from": "/c", "path": "/d"},
            {"op": "move", "from": "/d", "path": "/e"},
            {"op": "remove", "path": "/a/b/0"},
        ]);
        json_patch(&mut target, &patch).unwrap();
        assert_eq!(target, json!({"a": {"b": [2, 3]}, "c": 2, "e": 2}));
        let failing = json!([{"op": "test", "path": "/c", "value": 5}]);
        assert_eq!(json_patch(&mut target, &failing).unwrap_err().code, 422);
    }
}
