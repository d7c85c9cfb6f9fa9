//! Layers every router gets: security headers, and the service's JSON error shape for the
//! framework's own plain-text rejections.

use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::error::ApiError;

/// The security headers of a service: each is set on every answer that does not set its own.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// `Content-Security-Policy`.
    pub content_security_policy: &'static str,
    /// `Referrer-Policy`.
    pub referrer_policy: &'static str,
}

impl SecurityHeaders {
    /// For JSON APIs: nothing may be loaded, framed or referred.
    pub const API: SecurityHeaders = SecurityHeaders {
        content_security_policy: "default-src 'none'; frame-ancestors 'none'",
        referrer_policy: "no-referrer",
    };

    /// Adds the headers to every answer of `router` (with `X-Content-Type-Options: nosniff` and
    /// `X-Frame-Options: DENY`).
    pub fn apply<S: Clone + Send + Sync + 'static>(self, router: Router<S>) -> Router<S> {
        let set = |name: HeaderName, value: &'static str| {
            SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
        };
        router
            .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .layer(set(header::X_FRAME_OPTIONS, "DENY"))
            .layer(set(header::REFERRER_POLICY, self.referrer_policy))
            .layer(set(
                header::CONTENT_SECURITY_POLICY,
                self.content_security_policy,
            ))
    }
}

/// CORS for the endpoints wallets call: browser wallets are web apps on their own origins, so
/// these answer `GET` and `POST` from any origin, with `headers` allowed. Nothing behind them may
/// rely on cookies; resident pages, resident APIs and platform or admin APIs get no CORS.
pub fn wallet_cors(headers: impl IntoIterator<Item = HeaderName>) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(headers.into_iter().collect::<Vec<_>>())
        .max_age(std::time::Duration::from_secs(600))
}

/// The error code of a framework rejection with `status`.
pub(crate) fn rejection_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => "request_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        _ => "invalid_request",
    }
}

/// Gives the framework's plain-text client errors (body too large 413, wrong method 405, wrong
/// content type 415, unparsable path or query 400, no route 404) the JSON error shape of
/// [`ApiError`]. For `axum::middleware::map_response`.
pub async fn json_rejections(resp: Response) -> Response {
    let status = resp.status();
    let plain = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return resp;
    }
    let code = rejection_code(status);
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .unwrap_or_default();
    let mut description = String::from_utf8_lossy(&text).into_owned();
    if description.is_empty() {
        description = status
            .canonical_reason()
            .unwrap_or("bad request")
            .to_owned();
    }
    ApiError::new(status, code, description).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::post;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn framework_rejections_become_json_with_security_headers() {
        let app = SecurityHeaders::API.apply(
            Router::new()
                .route("/x", post(|body: String| async move { body }))
                .layer(axum::extract::DefaultBodyLimit::max(4))
                .layer(axum::middleware::map_response(json_rejections)),
        );
        let resp = app
            .clone()
            .oneshot(Request::get("/x").body(Body::empty()).unwrap_or_default())
            .await
            .unwrap_or_default();
        assert_eq!(resp.status(), 405);
        assert_eq!(resp.headers()[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
        let resp = app
            .oneshot(
                Request::post("/x")
                    .body(Body::from("too long"))
                    .unwrap_or_default(),
            )
            .await
            .unwrap_or_default();
        assert_eq!(resp.status(), 413);
        let bytes = axum::body::to_bytes(resp.into_body(), 4096)
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        assert_eq!(json["error"], "request_too_large");
    }
}
