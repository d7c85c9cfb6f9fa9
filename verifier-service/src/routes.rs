//! The service's handlers: a guard and a parsed request in, one call into the flow, an answer
//! out.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use civic_credential::oid4vp::RequestUriPost;
use civic_service::extract::JsonBody;
use civic_service::layers::{json_rejections, wallet_cors, SecurityHeaders};
use civic_service::respond::{self, asset, no_store};
use civic_service::run::blocking;
use civic_service::ApiError;
use civic_verifier::flow::FlowError;
use civic_verifier::identity;

use crate::error::{platform_api, request_endpoint, response_endpoint};
use crate::guards::PlatformKey;
use crate::Service;

type S = State<Arc<Service>>;

/// Runs a store call of the flow on a blocking thread; `answer` picks the endpoint's error codes.
async fn store_call<T: Send + 'static>(
    service: &Arc<Service>,
    answer: fn(FlowError) -> ApiError,
    work: impl FnOnce(&civic_verifier::Flow) -> Result<T, FlowError> + Send + 'static,
) -> Result<T, ApiError> {
    let flow = service.flow.clone();
    blocking(move || work(&flow).map_err(answer)).await
}

/// The endpoints wallets call: the request object and the `direct_post` answer (and the DID
/// document when requests are signed). Wallets run in browsers on their own origins, so these
/// answer cross-origin requests; nothing here uses cookies.
pub fn wallet_routes(service: Arc<Service>) -> Router {
    let limit = service.max_body_bytes;
    let routes = Router::new()
        .route(
            "/v1/request/{id}",
            get(request_object).post(request_object_post),
        )
        .route("/v1/response/{id}", post(response))
        .route("/.well-known/did.json", get(did_document))
        .route(
            &format!("/{}/{{name}}/did.json", identity::PLATFORMS_SEGMENT),
            get(platform_did_document),
        )
        .layer(wallet_cors([header::CONTENT_TYPE]))
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(json_rejections))
        .with_state(service);
    SecurityHeaders::API.apply(routes)
}

/// The whole service: the platform API (no CORS), the wallet endpoints, and operations.
pub fn router(service: Arc<Service>) -> Router {
    let limit = service.max_body_bytes;
    let platform = Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/sessions/{id}", get(read_session))
        .merge(crate::analytics::routes())
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async {
                asset(
                    include_str!("../openapi.json"),
                    "application/json",
                    "no-cache",
                )
            }),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(axum::middleware::map_response(json_rejections))
        .with_state(service.clone());
    SecurityHeaders::API.apply(platform.merge(wallet_routes(service)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateSession {
    policy: String,
    #[serde(default)]
    redirect_uri: Option<String>,
}

async fn create_session(
    State(service): S,
    platform: PlatformKey,
    JsonBody(req): JsonBody<CreateSession>,
) -> Result<Response, ApiError> {
    let created = store_call(&service, platform_api, move |flow| {
        flow.create(&platform.platform_id, &req.policy, req.redirect_uri)
    })
    .await?;
    service.metrics.session_created();
    Ok(no_store(created))
}

#[derive(Deserialize)]
struct ReadQuery {
    #[serde(default)]
    response_code: Option<String>,
}

/// Readiness: 200 while the session store takes writes, 503 (saying why) when it does not, so a
/// load balancer sends wallets and platforms to another instance.
async fn health(State(service): S) -> Result<Json<serde_json::Value>, ApiError> {
    let flow = service.flow.clone();
    blocking(move || flow.health().map_err(ApiError::from)).await?;
    Ok(Json(json!({ "status": "ok" })))
}

async fn read_session(
    State(service): S,
    platform: PlatformKey,
    Path(id): Path<String>,
    Query(query): Query<ReadQuery>,
) -> Result<Response, ApiError> {
    let result = store_call(&service, platform_api, move |flow| {
        flow.result(&platform.platform_id, &id, query.response_code.as_deref())
    })
    .await?;
    Ok(no_store(result))
}

async fn request_object(State(service): S, Path(id): Path<String>) -> Result<Response, ApiError> {
    let jwt = store_call(&service, request_endpoint, move |flow| {
        flow.request_object(&id)
    })
    .await?;
    Ok(request_object_answer(jwt))
}

/// `request_uri_method=post`: the wallet's metadata and nonce in a form; the request object
/// echoes the nonce.
async fn request_object_post(
    State(service): S,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let posted = RequestUriPost::from_form(&body)
        .map_err(|e| ApiError::bad_request("invalid_request", e.to_string()))?;
    let jwt = store_call(&service, request_endpoint, move |flow| {
        flow.request_object_for(&id, posted.wallet_nonce)
    })
    .await?;
    Ok(request_object_answer(jwt))
}

/// A request object, as `application/oauth-authz-req+jwt`, never cached.
fn request_object_answer(jwt: String) -> Response {
    let mut resp = jwt.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/oauth-authz-req+jwt"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The `direct_post` endpoint: begin (store), check (async), finish (store).
async fn response(
    State(service): S,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let answer = store_call(&service, response_endpoint, move |flow| {
        flow.begin_answer(&id, &body)
    })
    .await?;
    let checked = service.flow.check(answer).await;
    let answered = store_call(&service, response_endpoint, move |flow| {
        flow.finish(checked)
    })
    .await?;
    service.metrics.answered(&answered.outcome);
    if let Some(r) = answered.rejection() {
        tracing::info!(rule = %r.rule, "presentation rejected");
        return Err(ApiError::bad_request(
            "invalid_request",
            format!("{}: {}", r.rule, r.message),
        ));
    }
    Ok(no_store(match answered.redirect_uri {
        Some(redirect_uri) => json!({ "redirect_uri": redirect_uri }),
        None => json!({}),
    }))
}

/// The service's own DID document (`/.well-known/did.json`).
async fn did_document(State(service): S) -> Result<Response, ApiError> {
    let did = service.flow.did().unwrap_or_default().to_owned();
    did_answer(&service, &did)
}

/// A platform's DID document (`/platforms/{name}/did.json`, [`civic_verifier::identity`]).
async fn platform_did_document(
    State(service): S,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let did = identity::platform_did(&service.flow.settings().public_url, &name)
        .map_err(|_| ApiError::not_found("no such DID"))?;
    did_answer(&service, &did)
}

fn did_answer(service: &Service, did: &str) -> Result<Response, ApiError> {
    let doc = service
        .flow
        .did_document(did)
        .ok_or_else(|| ApiError::not_found("no such DID (or request signing is not configured)"))?
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    Ok(respond::did_document(doc))
}

async fn metrics(State(service): S) -> Response {
    let mut resp = service.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
