//! Answers with the headers they need.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON answer that no cache may keep (tokens, nonces, credentials, personal data).
pub fn no_store(body: impl Serialize) -> Response {
    let mut resp = axum::Json(body).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// A static asset compiled into the binary, with its content type and a cache policy.
pub fn asset(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// A DID document, as `application/did+json`.
pub fn did_document(doc: serde_json::Value) -> Response {
    let mut resp = axum::Json(doc).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(civic_credential::did_web::MEDIA_TYPE),
    );
    resp
}
