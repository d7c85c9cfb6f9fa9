//! Operations: health, Prometheus metrics, and the OpenAPI document.

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use civic_service::respond::asset;
use civic_service::ApiError;

use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async {
                asset(
                    include_str!("../../assets/openapi.json"),
                    "application/json",
                    "no-cache",
                )
            }),
        )
}

async fn health(State(app): State<AppState>) -> Result<Response, ApiError> {
    app.run(|issuer| issuer.store().health()).await?;
    Ok(axum::Json(serde_json::json!({ "status": "ok" })).into_response())
}

async fn metrics(State(app): State<AppState>) -> Response {
    let mut resp = app.issuer.context.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}
