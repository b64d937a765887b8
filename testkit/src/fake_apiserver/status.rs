//! Failures as `meta/v1 Status` objects: kube-rs decodes error bodies into `kube::core::Status`
//! and callers branch on `code` and `reason` (e.g. kube-lease-manager on `Conflict`/409), so
//! every error leaves the fake server in exactly that shape.

use axum::response::{IntoResponse, Response};
use http::{header, StatusCode};
use serde_json::{json, Value};

/// An API error carried to the HTTP layer and rendered as a `Status` body.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status code, repeated as `Status.code`.
    pub code: u16,
    /// Machine-readable `Status.reason` (`NotFound`, `Conflict`, `Expired`, ...).
    pub reason: &'static str,
    /// Human-readable `Status.message`, worded like the real API server's.
    pub message: String,
    /// `Status.details` (name, group, kind), when the real server sends them.
    pub details: Option<Value>,
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: None }
    }

    fn with_details(mut self, name: &str, group: &str, plural: &str) -> Self {
        self.details = Some(json!({"name": name, "group": group, "kind": plural}));
        self
    }

    /// 404 for a missing object; `plural` and `group` as in `pods "x" not found`.
    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{} \"{name}\" not found", qualified(group, plural)))
            .with_details(name, group, plural)
    }

    /// 404 for a path that names no served resource.
    pub fn no_route(path: &str) -> Self {
        Self::new(404, "NotFound", format!("the server could not find the requested resource ({path})"))
    }

    /// 409 AlreadyExists on create.
    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        Self::new(409, "AlreadyExists", format!("{} \"{name}\" already exists", qualified(group, plural)))
            .with_details(name, group, plural)
    }

    /// 409 Conflict on a stale `metadata.resourceVersion` (optimistic concurrency).
    pub fn stale(group: &str, plural: &str, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                qualified(group, plural)
            ),
        )
        .with_details(name, group, plural)
    }

    /// 409 Conflict from server-side apply: fields owned by other managers would change.
    pub fn apply_conflict(message: String) -> Self {
        Self::new(409, "Conflict", message)
    }

    /// 410 Expired: a resourceVersion or continue token older than the compaction point.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 410 for a watch resuming from before the compaction point.
    pub fn too_old(rv: u64, oldest: u64) -> Self {
        Self::expired(format!("too old resource version: {rv} ({oldest})"))
    }

    /// 400 BadRequest (unparsable selector, body or parameter).
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 422 Invalid (object fails validation, e.g. no name).
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }

    /// 405 MethodNotAllowed for verbs a path does not serve.
    pub fn method_not_allowed() -> Self {
        Self::new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    }

    /// 415 for a patch type the resource does not support.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(415, "UnsupportedMediaType", format!("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type})"))
    }

    /// 504 for a list/watch at a resourceVersion the server has not reached.
    pub fn too_large_resource_version(rv: u64, current: u64) -> Self {
        Self::new(504, "Timeout", format!("Too large resource version: {rv}, current: {current}"))
    }

    /// The `Status` object, also used as the object of a watch `ERROR` event.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (code, [(header::CONTENT_TYPE, "application/json")], self.to_status().to_string()).into_response()
    }
}

/// `pods` or `leases.coordination.k8s.io`, the resource spelling the real server's messages use.
fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}
