//! Operations: health, Prometheus metrics, and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::{blocking, AppState};
use crate::error::ApiError;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

async fn health(State(s): State<AppState>) -> Result<Response, ApiError> {
    blocking(&s, |i| Ok(i.store.health()?)).await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })).into_response())
}

async fn metrics(State(s): State<AppState>) -> Response {
    let mut resp = s.issuer.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

async fn openapi() -> Response {
    let mut resp = include_str!("../../assets/openapi.json").into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
