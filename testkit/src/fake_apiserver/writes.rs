//! Object lifecycle: create, update and delete with the metadata the API server owns
//! (`uid`, `resourceVersion`, `creationTimestamp`, `generation`, `managedFields`) and its
//! optimistic concurrency (409 on a stale `metadata.resourceVersion`).

use serde_json::{json, Value};

use super::managed_fields::record_update;
use super::object::{meta_str, now_timestamp, random_suffix, random_uid, set_meta, StoredObject};
use super::resources::ResourceSpec;
use super::status::ApiError;
use super::store::{ObjectKey, Store};

/// Who writes: an HTTP client (field manager recorded, namespace must exist, like admission
/// on a real server) or the test harness (object stored as given).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Writer<'a> {
    Client {
        manager: &'a str,
    },
    /// An apply patch already computed `managedFields`; keep them.
    Applied,
    Harness,
}

impl Writer<'_> {
    fn record(&self, old: Option<&Value>, new: &mut Value, resource: &ResourceSpec) {
        if let Writer::Client { manager } = self {
            record_update(old, new, manager, &resource.api_version());
        }
    }
}

/// The key an object is stored under; a namespaced resource needs `namespace`.
pub(crate) fn object_key(resource: &ResourceSpec, namespace: Option<&str>, name: &str) -> ObjectKey {
    let namespace = if resource.namespaced { namespace.unwrap_or("default") } else { "" };
    (namespace.to_string(), name.to_string())
}

fn namespace_exists(store: &Store, namespace: &str) -> bool {
    let namespaces = ResourceSpec::new("", "v1", "Namespace", "namespaces", false);
    store.get(&namespaces, &(String::new(), namespace.to_string())).is_some()
}

/// POST: the object must not exist yet.
pub(crate) fn create(
    store: &mut Store,
    resource: &ResourceSpec,
    namespace: Option<&str>,
    mut object: Value,
    writer: Writer,
) -> Result<Value, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    let name = match (meta_str(&object, "name"), meta_str(&object, "generateName")) {
        (Some(name), _) if !name.is_empty() => name.to_string(),
        (_, Some(prefix)) if !prefix.is_empty() => format!("{prefix}{}", random_suffix()),
        _ => {
            return Err(ApiError::invalid(format!(
                "{} \"\" is invalid: metadata.name: Required value: name or generateName is required",
                resource.kind
            )))
        }
    };
    let namespace = check_namespace(resource, namespace, &object)?;
    if resource.namespaced && !matches!(writer, Writer::Harness) && !namespace_exists(store, &namespace) {
        return Err(ApiError::not_found("", "namespaces", &namespace));
    }
    let key = (namespace.clone(), name.clone());
    if store.get(resource, &key).is_some() {
        return Err(ApiError::already_exists(&resource.group, &resource.plural, &name));
    }
    if resource.status_subresource && matches!(writer, Writer::Client { .. }) {
        // With the status subresource, a create ignores `status` (it is written through
        // `.../status` only).
        if let Some(fields) = object.as_object_mut() {
            fields.remove("status");
        }
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    set_meta(&mut object, "name", json!(name));
    if resource.namespaced {
        set_meta(&mut object, "namespace", json!(namespace));
    } else if let Some(meta) = object["metadata"].as_object_mut() {
        meta.remove("namespace");
    }
    if meta_str(&object, "uid").is_none() || !matches!(writer, Writer::Harness) {
        set_meta(&mut object, "uid", json!(random_uid()));
    }
    set_meta(&mut object, "creationTimestamp", json!(now_timestamp()));
    set_meta(&mut object, "generation", json!(1));
    writer.record(None, &mut object, resource);
    Ok(store_object(store, resource, key, object))
}

/// Which part of an object a write may change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    /// The object's own path: everything but `status` when the resource has the status
    /// subresource.
    Object,
    /// `.../<name>/status`: `status` only; the rest of the body is ignored.
    Status,
}

/// PUT (and the result of a patch): the object must exist; a `metadata.resourceVersion` in
/// the new object that is not the current one is a 409 Conflict. Unchanged objects are not
/// written again, so they keep their resourceVersion and no event is sent.
pub(crate) fn update(
    store: &mut Store,
    resource: &ResourceSpec,
    namespace: Option<&str>,
    name: &str,
    object: Value,
    writer: Writer,
) -> Result<Value, ApiError> {
    update_part(store, resource, namespace, name, object, writer, Part::Object)
}

/// [`update`] of `part` of the object.
pub(crate) fn update_part(
    store: &mut Store,
    resource: &ResourceSpec,
    namespace: Option<&str>,
    name: &str,
    mut object: Value,
    writer: Writer,
    part: Part,
) -> Result<Value, ApiError> {
    if !object.is_object() {
        return Err(ApiError::bad_request("the request body must be a JSON object"));
    }
    let key = object_key(resource, namespace, name);
    let old = store
        .get(resource, &key)
        .ok_or_else(|| ApiError::not_found(&resource.group, &resource.plural, name))?
        .to_value();
    match part {
        Part::Status => {
            let mut kept = old.clone();
            kept["status"] = object.get("status").cloned().unwrap_or(Value::Null);
            if kept["status"].is_null() {
                kept.as_object_mut().map(|fields| fields.remove("status"));
            }
            set_meta(&mut kept, "resourceVersion", object["metadata"]["resourceVersion"].clone());
            if meta_str(&object, "resourceVersion").is_none() {
                kept["metadata"].as_object_mut().map(|meta| meta.remove("resourceVersion"));
            }
            object = kept;
        }
        Part::Object if resource.status_subresource => match old.get("status") {
            Some(status) => object["status"] = status.clone(),
            None => {
                object.as_object_mut().map(|fields| fields.remove("status"));
            }
        },
        Part::Object => {}
    }
    if meta_str(&object, "name").is_some_and(|n| n != name) {
        return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
    }
    check_namespace(resource, namespace, &object)?;
    let current_rv = meta_str(&old, "resourceVersion").unwrap_or_default().to_string();
    if meta_str(&object, "resourceVersion").is_some_and(|rv| !rv.is_empty() && rv != current_rv) {
        return Err(ApiError::stale(&resource.group, &resource.plural, name));
    }
    object["apiVersion"] = json!(resource.api_version());
    object["kind"] = json!(resource.kind);
    set_meta(&mut object, "name", json!(name));
    if resource.namespaced {
        set_meta(&mut object, "namespace", json!(key.0));
    }
    for owned in ["uid", "creationTimestamp"] {
        set_meta(&mut object, owned, old["metadata"][owned].clone());
    }
    let generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
    let generation = if spec_changed(&old, &object) { generation + 1 } else { generation };
    set_meta(&mut object, "generation", json!(generation));
    set_meta(&mut object, "resourceVersion", json!(current_rv));
    if let Writer::Client { .. } = writer {
        // Ownership comes from the stored object, never from the request body.
        set_meta(&mut object, "managedFields", old["metadata"]["managedFields"].clone());
        writer.record(Some(&old), &mut object, resource);
    }
    if object == old {
        return Ok(old);
    }
    Ok(store_object(store, resource, key, object))
}

/// DELETE: removes the object at once (no finalizers or graceful deletion) and returns its
/// last state. `precondition_rv`/`precondition_uid` come from `DeleteOptions.preconditions`.
pub(crate) fn delete(
    store: &mut Store,
    resource: &ResourceSpec,
    key: &ObjectKey,
    precondition_rv: Option<&str>,
    precondition_uid: Option<&str>,
) -> Result<Value, ApiError> {
    let stored = store
        .get(resource, key)
        .ok_or_else(|| ApiError::not_found(&resource.group, &resource.plural, &key.1))?;
    let mut object = stored.to_value();
    let stale_rv = precondition_rv.is_some_and(|rv| Some(rv) != meta_str(&object, "resourceVersion"));
    let stale_uid = precondition_uid.is_some_and(|uid| Some(uid) != meta_str(&object, "uid"));
    if stale_rv || stale_uid {
        return Err(ApiError::stale(&resource.group, &resource.plural, &key.1));
    }
    let rv = store.next_rv();
    set_meta(&mut object, "resourceVersion", json!(rv.to_string()));
    store.remove(resource, key, rv, StoredObject::new(&object, resource));
    Ok(object)
}

fn store_object(store: &mut Store, resource: &ResourceSpec, key: ObjectKey, mut object: Value) -> Value {
    let rv = store.next_rv();
    set_meta(&mut object, "resourceVersion", json!(rv.to_string()));
    store.put(resource, key, rv, StoredObject::new(&object, resource));
    object
}

/// The namespace to store under; the body's namespace, if any, must match the URL's.
fn check_namespace(
    resource: &ResourceSpec,
    namespace: Option<&str>,
    object: &Value,
) -> Result<String, ApiError> {
    if !resource.namespaced {
        return Ok(String::new());
    }
    let body = meta_str(object, "namespace").filter(|ns| !ns.is_empty());
    match (namespace, body) {
        (Some(url), Some(body)) if url != body => Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        )),
        (Some(url), _) => Ok(url.to_string()),
        (None, Some(body)) => Ok(body.to_string()),
        (None, None) => Ok("default".to_string()),
    }
}

/// `metadata.generation` counts changes outside `metadata` and `status`.
fn spec_changed(old: &Value, new: &Value) -> bool {
    let strip = |v: &Value| {
        let mut v = v.as_object().cloned().unwrap_or_default();
        v.remove("metadata");
        v.remove("status");
        v
    };
    strip(old) != strip(new)
}
