//! OID4VCI endpoints: metadata, offers by reference, token, nonce, credential, status lists and
//! trust material.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use civic_credential::oid4vci::{ErrorCode, ProtocolError, TokenRequest};

use super::{blocking, no_store, AppState};
use crate::error::ApiError;

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
        // Wallets are web apps on their own origins: these endpoints answer cross-origin
        // requests (no cookies are involved; tokens travel as Bearer). The resident pages, the
        // resident API and the admin API get no CORS.
        .layer(
            tower_http::cors::CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(std::time::Duration::from_secs(600)),
        )
}

async fn issuer_metadata(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(s.issuer.issuer_metadata()).unwrap_or_default())
}

async fn as_metadata(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::to_value(s.issuer.authorization_server_metadata()).unwrap_or_default())
}

async fn jwt_vc_issuer(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(s.issuer.jwt_vc_issuer())
}

async fn did_document(State(s): State<AppState>) -> Response {
    let mut resp = Json(s.issuer.did_document()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/did+json"),
    );
    resp
}

async fn offer(State(s): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found("no such offer"));
    }
    let offer = blocking(&s, move |i| i.offer_by_id(&id)).await?;
    Ok(no_store(offer))
}

/// Parses a form-encoded token request; duplicate parameters are an error (RFC 6749 §3.2).
pub fn token_request(body: &[u8]) -> Result<TokenRequest, ApiError> {
    let bad = |m: &str| -> ApiError { ProtocolError::new(ErrorCode::InvalidRequest, m).into() };
    let mut grant_type = None;
    let mut code = None;
    let mut tx_code = None;
    for (k, v) in url::form_urlencoded::parse(body) {
        let slot = match k.as_ref() {
            "grant_type" => &mut grant_type,
            "pre-authorized_code" => &mut code,
            "tx_code" => &mut tx_code,
            _ => continue,
        };
        if slot.replace(v.into_owned()).is_some() {
            return Err(bad(&format!("parameter {k} appears more than once")));
        }
    }
    Ok(TokenRequest {
        grant_type: grant_type.ok_or_else(|| bad("grant_type is required"))?,
        pre_authorized_code: code,
        tx_code,
    })
}

async fn token(
    State(s): State<AppState>,
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
    let req = token_request(&body)?;
    let resp = blocking(&s, move |i| i.token(&req)).await?;
    Ok(no_store(resp))
}

/// Writes nothing (the nonce is stateless until spent), so it needs no durable sync.
async fn nonce(State(s): State<AppState>) -> Response {
    no_store(s.issuer.nonce())
}

async fn credential(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|t| t.trim().to_owned());
    let resp = blocking(&s, move |i| i.credential(token.as_deref(), &body)).await?;
    Ok(no_store(resp))
}

async fn status_list(
    State(s): State<AppState>,
    Path(list): Path<String>,
) -> Result<Response, ApiError> {
    let list: u32 = list
        .parse()
        .map_err(|_| ApiError::not_found("no such status list"))?;
    let token = blocking(&s, move |i| i.status_token(list)).await?;
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
