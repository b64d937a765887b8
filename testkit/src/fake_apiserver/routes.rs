//! HTTP routing: one fallback handler parses Kubernetes paths (core `/api/v1/...` and
//! `/apis/<group>/<version>/...`, cluster-scoped and namespaced) and dispatches by verb.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, HeaderMap, Method, StatusCode, Uri};
use serde_json::{json, Value};

use super::discovery;
use super::list::{self, ListQuery, Selectors};
use super::managed_fields;
use super::patch::{json_patch, merge_patch, PatchType};
use super::resources::ResourceSpec;
use super::shared::{form_pairs, RecordedRequest, Shared};
use super::status::ApiError;
use super::watch::{self, WatchQuery};
use super::writes::{self, object_key, Part, Writer};

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new().fallback(dispatch).with_state(shared)
}

async fn dispatch(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().unwrap_or_default().to_string();
    shared.requests.lock().push(RecordedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: query.clone(),
        at: Instant::now(),
    });
    let params: HashMap<String, String> = form_pairs(&query).into_iter().collect();
    let is_watch = matches!(params.get("watch").map(String::as_str), Some("true" | "1"));
    let fault = shared.faults.lock().take(uri.path(), method == Method::GET, is_watch);
    if let Some(fault) = fault {
        tokio::time::sleep(fault.delay).await;
        if let Some(response) = fault.response() {
            return response;
        }
    }
    let next_page = method == Method::GET && params.get("continue").is_some_and(|c| !c.is_empty());
    if next_page && !shared.list_page_delay.is_zero() {
        tokio::time::sleep(shared.list_page_delay).await;
    }
    let request = Request { shared: &shared, method, headers, params, body };
    request.handle(uri.path()).unwrap_or_else(IntoResponse::into_response)
}

struct Request<'a> {
    shared: &'a Arc<Shared>,
    method: Method,
    headers: HeaderMap,
    params: HashMap<String, String>,
    body: Bytes,
}

/// What a resource path addresses.
struct Target<'a> {
    resource: ResourceSpec,
    namespace: Option<&'a str>,
}

fn json_body(status: StatusCode, body: Vec<u8>) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn object_response(status: StatusCode, object: &Value) -> Response {
    json_body(status, object.to_string().into_bytes())
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    fn handle(&self, path: &str) -> Result<Response, ApiError> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let is_get = self.method == Method::GET;
        let resources = || self.shared.store.lock().resources().to_vec();
        match segments.as_slice() {
            ["version"] if is_get => Ok(discovery::version()),
            ["api"] if is_get => {
                Ok(discovery::core(&resources(), &self.headers, &self.shared.addr.to_string()))
            }
            ["apis"] if is_get => Ok(discovery::apis(&resources(), &self.headers)),
            ["api", version] if is_get => Ok(discovery::resource_list(&resources(), "", version, path)),
            ["apis", group, version] if is_get => {
                Ok(discovery::resource_list(&resources(), group, version, path))
            }
            ["version" | "api" | "apis"] | ["api", _] | ["apis", _, _] => Err(ApiError::method_not_allowed()),
            ["api", version, rest @ ..] => self.resource_request(path, "", version, rest),
            ["apis", group, version, rest @ ..] => self.resource_request(path, group, version, rest),
            _ => Err(ApiError::no_route(path)),
        }
    }

    fn resource_request(
        &self,
        path: &str,
        group: &str,
        version: &str,
        rest: &[&str],
    ) -> Result<Response, ApiError> {
        let (namespace, rest) = match rest {
            ["namespaces", ns, plural, tail @ ..] => (Some(*ns), [&[*plural][..], tail].concat()),
            _ => (None, rest.to_vec()),
        };
        let (plural, name, part) = match rest.as_slice() {
            [plural] => (*plural, None, Part::Object),
            [plural, name] => (*plural, Some(*name), Part::Object),
            [plural, name, "status"] => (*plural, Some(*name), Part::Status),
            // Other subresources (scale, ...) are not served.
            _ => return Err(ApiError::no_route(path)),
        };
        let resource = self
            .shared
            .store
            .lock()
            .resource(group, version, plural)
            .ok_or_else(|| ApiError::no_route(path))?;
        let scoped_wrong = namespace.is_some() && !resource.namespaced;
        let unscoped_name = resource.namespaced && namespace.is_none() && name.is_some();
        let no_status = part == Part::Status && !resource.status_subresource;
        if scoped_wrong || unscoped_name || no_status {
            return Err(ApiError::no_route(path));
        }
        let target = Target { resource, namespace };
        if part == Part::Status {
            let name = name.unwrap_or_default();
            return match self.method {
                Method::GET => self.get(&target, name),
                Method::PUT => self.replace(&target, name, Part::Status),
                Method::PATCH => self.patch(&target, name, Part::Status),
                _ => Err(ApiError::method_not_allowed()),
            };
        }
        match (&self.method, name) {
            (&Method::GET, None) if matches!(self.param("watch"), Some("true" | "1")) => self.watch(target),
            (&Method::GET, None) => self.list(&target),
            (&Method::GET, Some(name)) => self.get(&target, name),
            (&Method::POST, None) => self.create(&target),
            (&Method::PUT, Some(name)) => self.replace(&target, name, Part::Object),
            (&Method::PATCH, Some(name)) => self.patch(&target, name, Part::Object),
            (&Method::DELETE, Some(name)) => self.delete(&target, name),
            (&Method::DELETE, None) => self.delete_collection(&target),
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    fn selectors(&self, target: &Target) -> Result<Selectors, ApiError> {
        Selectors::parse(self.param("labelSelector"), self.param("fieldSelector"), &target.resource)
    }

    fn list(&self, target: &Target) -> Result<Response, ApiError> {
        let query = ListQuery {
            limit: self.param("limit").and_then(|l| l.parse().ok()),
            continue_token: self.param("continue").filter(|c| !c.is_empty()).map(str::to_string),
            resource_version: self.param("resourceVersion").map(str::to_string),
            resource_version_match: self.param("resourceVersionMatch").map(str::to_string),
        };
        let selectors = self.selectors(target)?;
        let store = self.shared.store.lock();
        let body = list::list(&store, &target.resource, target.namespace, &selectors, &query)?;
        Ok(json_body(StatusCode::OK, body))
    }

    fn watch(&self, target: Target) -> Result<Response, ApiError> {
        let query = WatchQuery {
            resource_version: self.param("resourceVersion").map(str::to_string),
            bookmarks: self.param("allowWatchBookmarks") == Some("true"),
            timeout: self.param("timeoutSeconds").and_then(|t| t.parse().ok()).map(Duration::from_secs),
            send_initial_events: self.param("sendInitialEvents") == Some("true"),
        };
        let selectors = self.selectors(&target)?;
        let namespace = target.namespace.map(str::to_string);
        watch::serve(self.shared.clone(), target.resource, namespace, selectors, query)
    }

    fn get(&self, target: &Target, name: &str) -> Result<Response, ApiError> {
        let key = object_key(&target.resource, target.namespace, name);
        let object = self.shared.store.lock().get(&target.resource, &key);
        let object = object
            .ok_or_else(|| ApiError::not_found(&target.resource.group, &target.resource.plural, name))?;
        Ok(json_body(StatusCode::OK, object.bytes.to_vec()))
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
    }

    /// The field manager of a non-apply write: `fieldManager`, else the user agent's product,
    /// as the real server derives it.
    fn manager(&self) -> String {
        if let Some(manager) = self.param("fieldManager") {
            return manager.to_string();
        }
        let agent = self.headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("unknown");
        agent.split('/').next().unwrap_or("unknown").to_string()
    }

    fn create(&self, target: &Target) -> Result<Response, ApiError> {
        let object = self.body_json()?;
        let manager = self.manager();
        let writer = Writer::Client { manager: &manager };
        let created =
            self.shared.write(|s| writes::create(s, &target.resource, target.namespace, object, writer))?;
        Ok(object_response(StatusCode::CREATED, &created))
    }

    fn replace(&self, target: &Target, name: &str, part: Part) -> Result<Response, ApiError> {
        let object = self.body_json()?;
        let manager = self.manager();
        let writer = Writer::Client { manager: &manager };
        let updated = self.shared.write(|s| {
            writes::update_part(s, &target.resource, target.namespace, name, object, writer, part)
        })?;
        Ok(object_response(StatusCode::OK, &updated))
    }

    /// A patch of the object, or of its `status` only (`part`); an apply patch of `status`
    /// needs the object to exist.
    fn patch(&self, target: &Target, name: &str, part: Part) -> Result<Response, ApiError> {
        let content_type =
            self.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let patch_type = PatchType::from_content_type(content_type)?;
        if patch_type == PatchType::Strategic && !target.resource.is_builtin() {
            return Err(ApiError::unsupported_media_type(content_type));
        }
        let patch: Value = if patch_type == PatchType::Apply {
            serde_json::from_slice(&self.body).or_else(|_| {
                let text = String::from_utf8_lossy(&self.body);
                serde_saphyr::from_str(&text)
                    .map_err(|e| ApiError::bad_request(format!("invalid apply patch: {e}")))
            })?
        } else {
            self.body_json()?
        };
        let resource = &target.resource;
        let key = object_key(resource, target.namespace, name);
        let manager = self.manager();
        let force = self.param("force") == Some("true");
        let field_manager = self.param("fieldManager");
        self.shared.write(|store| {
            let existing = store.get(resource, &key).map(|o| o.to_value());
            if patch_type == PatchType::Apply {
                let manager = field_manager.ok_or_else(|| {
                    ApiError::invalid("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
                })?;
                if patch.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| n != name) {
                    return Err(ApiError::bad_request("the name of the object does not match the name on the URL"));
                }
                if part == Part::Status && existing.is_none() {
                    return Err(ApiError::not_found(&resource.group, &resource.plural, name));
                }
                let applied = managed_fields::apply(existing.as_ref(), &patch, manager, force)?;
                return match existing {
                    Some(_) if part == Part::Status => {
                        writes::update_part(store, resource, target.namespace, name, applied, Writer::Applied, part)
                            .map(|o| object_response(StatusCode::OK, &o))
                    }
                    None => writes::create(store, resource, target.namespace, applied, Writer::Applied)
                        .map(|o| object_response(StatusCode::CREATED, &o)),
                    Some(_) => writes::update(store, resource, target.namespace, name, applied, Writer::Applied)
                        .map(|o| object_response(StatusCode::OK, &o)),
                };
            }
            let mut object = existing.ok_or_else(|| ApiError::not_found(&resource.group, &resource.plural, name))?;
            match patch_type {
                PatchType::Json => json_patch(&mut object, &patch)?,
                _ => merge_patch(&mut object, &patch),
            }
            let writer = Writer::Client { manager: &manager };
            writes::update_part(store, resource, target.namespace, name, object, writer, part)
                .map(|o| object_response(StatusCode::OK, &o))
        })
    }

    fn delete(&self, target: &Target, name: &str) -> Result<Response, ApiError> {
        let options: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let precondition =
            |field: &str| options.pointer(&format!("/preconditions/{field}")).and_then(Value::as_str);
        let key = object_key(&target.resource, target.namespace, name);
        let deleted = self.shared.write(|s| {
            writes::delete(s, &target.resource, &key, precondition("resourceVersion"), precondition("uid"))
        })?;
        let status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": target.resource.group,
                "kind": target.resource.plural,
                "uid": deleted["metadata"]["uid"],
            },
        });
        Ok(object_response(StatusCode::OK, &status))
    }

    fn delete_collection(&self, target: &Target) -> Result<Response, ApiError> {
        let selectors = self.selectors(target)?;
        let resource = &target.resource;
        let deleted: Vec<Value> = self.shared.write(|store| {
            let mut keys = Vec::new();
            store.visit_at(resource, store.rv, None, target.namespace, |key, object| {
                if selectors.matches(object) {
                    keys.push(key.clone());
                }
                true
            });
            keys.iter().filter_map(|key| writes::delete(store, resource, key, None, None).ok()).collect()
        });
        let rv = self.shared.store.lock().rv;
        let list = json!({
            "kind": format!("{}List", resource.kind),
            "apiVersion": resource.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": deleted,
        });
        Ok(object_response(StatusCode::OK, &list))
    }
}
