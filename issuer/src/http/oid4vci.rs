//! OID4VCI endpoints (metadata, offers by reference, token, nonce, credential), status lists and
//! trust material: what wallets and verifiers call.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use civic_credential::did_web;
use civic_credential::oid4vci::{ErrorCode, ProtocolError, TokenRequest};
use civic_service::layers::wallet_cors;
use civic_service::respond::no_store;
use civic_service::ApiError;

use super::guards::AccessToken;
use super::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/.well-known/openid-credential-issuer",
            get(issuer_metadata),
        )
        .route("/.well-known/oauth-authorization-server", get(as_metadata))
        .route("/.well-known/jwt-vc-issuer", get(jwt_vc_issuer))
        .route("/.well-known/did.json", get(did_document))
        .route("/offers/{id}", get(offer))
        .route("/token", post(token))
        .route("/nonce", post(nonce))
        .route("/credential", post(credential))
        .route("/status/{list}", get(status_list))
        .route("/platform-registry", get(platform_registry))
        // Tokens travel as Bearer; no cookies are involved.
        .layer(wallet_cors([header::AUTHORIZATION, header::CONTENT_TYPE]))
}

async fn platform_registry(State(app): State<AppState>) -> Result<Response, ApiError> {
    let registry = app.run(|issuer| issuer.platforms.registry()).await?;
    Ok(Json(registry).into_response())
}

async fn issuer_metadata(State(app): State<AppState>) -> Response {
    Json(app.issuer.trust.issuer_metadata()).into_response()
}

async fn as_metadata(State(app): State<AppState>) -> Response {
    Json(app.issuer.trust.authorization_server_metadata()).into_response()
}

async fn jwt_vc_issuer(State(app): State<AppState>) -> Response {
    Json(app.issuer.trust.jwt_vc_issuer()).into_response()
}

async fn did_document(State(app): State<AppState>) -> Result<Response, ApiError> {
    let doc = app
        .issuer
        .trust
        .did_document()
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let mut resp = Json(doc).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(did_web::MEDIA_TYPE),
    );
    Ok(resp)
}

async fn offer(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let offer = app
        .run(move |issuer| issuer.issuance.offer_by_id(&id))
        .await?;
    Ok(no_store(offer))
}

async fn token(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            "the token request must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let request = TokenRequest::from_form(&body)?;
    let token = app
        .run(move |issuer| issuer.issuance.token(&request))
        .await?;
    Ok(no_store(token))
}

/// Writes nothing (the nonce is stateless until spent), so it needs no durable sync.
async fn nonce(State(app): State<AppState>) -> Response {
    no_store(app.issuer.issuance.nonce())
}

async fn credential(
    State(app): State<AppState>,
    AccessToken(token): AccessToken,
    body: Bytes,
) -> Result<Response, ApiError> {
    let issued = app
        .run(move |issuer| issuer.issuance.credential(token.as_deref(), &body))
        .await?;
    Ok(no_store(issued))
}

async fn status_list(
    State(app): State<AppState>,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    let list: u32 = list
        .parse()
        .map_err(|_| ApiError::not_found("no such status list"))?;
    let token = app.run(move |issuer| issuer.status.token(list)).await?;
    let mut resp = token.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/statuslist+jwt"),
    );
    // Verifiers cache per the token's ttl; HTTP caches must revalidate so changes show at once.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}
