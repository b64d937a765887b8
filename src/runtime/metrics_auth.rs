//! Bearer-token authentication of `/metrics` (`export.prometheus.bearerToken`): a scrape must
//! send `Authorization: Bearer <token>`; without it, or with another token, it gets 401. The
//! token file is read at every scrape, so a rotated token applies at once; the comparison takes
//! the same time whatever the sent token shares with the real one.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use crate::config_parts::SecretSource;

/// Requires the token from `source` on every request of `router`.
pub fn require_bearer_token(router: axum::Router, source: SecretSource) -> axum::Router {
    router.layer(axum::middleware::from_fn_with_state(source, check))
}

async fn check(State(source): State<SecretSource>, request: Request, next: Next) -> Response {
    let expected = match source.read() {
        Ok(token) => token,
        Err(error) => {
            // Fail closed: without the token nobody is let in.
            tracing::warn!(%error, "the /metrics bearer token cannot be read; refusing scrapes");
            return (StatusCode::SERVICE_UNAVAILABLE, "the bearer token cannot be read\n").into_response();
        }
    };
    let sent = request.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    match sent {
        Some(sent) if bool::from(sent.as_bytes().ct_eq(expected.expose().as_bytes())) => {
            next.run(request).await
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, "Bearer realm=\"kube-state-otel\"")],
            "a valid bearer token is required\n",
        )
            .into_response(),
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme is case-insensitive).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    #[test]
    fn the_token_is_taken_from_a_bearer_header_only() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer"), None);
    }

    #[tokio::test]
    async fn only_the_right_token_passes_and_a_rotated_file_applies_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "first-token\n").unwrap();
        let source = SecretSource { file: Some(file.clone()), env: None };
        let app = require_bearer_token(axum::Router::new().route("/metrics", get(|| async { "ok" })), source);
        let status = |auth: Option<&'static str>| {
            let app = app.clone();
            async move {
                let mut request = axum::http::Request::get("/metrics");
                if let Some(auth) = auth {
                    request = request.header(AUTHORIZATION, auth);
                }
                let response = app.oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
                (response.status(), response.headers().get(WWW_AUTHENTICATE).is_some())
            }
        };
        assert_eq!(status(None).await, (StatusCode::UNAUTHORIZED, true));
        assert_eq!(status(Some("Bearer wrong")).await, (StatusCode::UNAUTHORIZED, true));
        assert_eq!(status(Some("Bearer first-token-and-more")).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(status(Some("Bearer first-token")).await.0, StatusCode::OK);
        std::fs::write(&file, "second-token").unwrap();
        assert_eq!(status(Some("Bearer first-token")).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(status(Some("Bearer second-token")).await.0, StatusCode::OK);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(status(Some("Bearer second-token")).await.0, StatusCode::SERVICE_UNAVAILABLE);
    }
}
