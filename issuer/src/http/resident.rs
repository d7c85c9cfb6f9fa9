//! The resident JSON API used by the pages (and other front ends): enrollment, sign-in, the
//! resident's own data and passkeys, and credential offers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{blocking, check_origin, cookie, json_body, no_store, set_cookie, AppState, ClientIp};
use crate::error::ApiError;
use crate::passkeys::{Session, SignedIn, Started};
use crate::service::Issuer;

/// The ceremony cookie.
pub(crate) const CEREMONY_COOKIE: &str = "civic_ceremony";
/// The session cookie.
pub(crate) const SESSION_COOKIE: &str = "civic_session";

pub(super) fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/enroll/start", post(enroll_start))
        .route("/api/enroll/finish", post(enroll_finish))
        .route("/api/login/start", post(login_start))
        .route("/api/login/finish", post(login_finish))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/offers", post(create_offer))
        .route("/api/passkeys/start", post(passkey_start))
        .route("/api/passkeys/finish", post(passkey_finish))
        .route("/api/passkeys/{id}", delete(passkey_remove))
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

fn started(issuer: &Issuer, s: Started) -> Response {
    let mut resp = no_store(s.options);
    let c = set_cookie(
        issuer,
        CEREMONY_COOKIE,
        &s.ceremony,
        issuer.config.ceremony_ttl_secs,
    );
    resp.headers_mut().append(header::SET_COOKIE, c);
    resp
}

fn signed_in(issuer: &Issuer, s: SignedIn) -> Response {
    let mut resp = no_store(json!({ "csrf_token": s.session.csrf_token, "redirect": "/me" }));
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            issuer,
            SESSION_COOKIE,
            &s.cookie,
            issuer.config.session_ttl_secs,
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(issuer, CEREMONY_COOKIE, "", 0),
    );
    resp
}

/// Guards for unauthenticated ceremony endpoints: same origin and the per-IP rate limit.
fn guard(s: &AppState, headers: &HeaderMap, ip: ClientIp) -> Result<(), ApiError> {
    check_origin(&s.issuer, headers)?;
    s.limiter.check(ip.0)
}

async fn enroll_start(
    State(s): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    guard(&s, &headers, ip)?;
    let req: CodeBody = json_body(&body, "invalid_request")?;
    let st = blocking(&s, move |i| i.enroll_start(&req.code)).await?;
    Ok(started(&s.issuer, st))
}

async fn enroll_finish(
    State(s): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    guard(&s, &headers, ip)?;
    finish_ceremony(&s, &headers, &body, Issuer::register_finish).await
}

/// The shared second half of enrollment and sign-in: the browser's WebAuthn response and the
/// ceremony cookie in, a session out.
async fn finish_ceremony(
    s: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    finish: fn(&Issuer, Option<&str>, &Value) -> Result<SignedIn, ApiError>,
) -> Result<Response, ApiError> {
    let resp: Value = json_body(body, "invalid_request")?;
    let ceremony = cookie(headers, CEREMONY_COOKIE).map(str::to_owned);
    let done = blocking(s, move |i| finish(i, ceremony.as_deref(), &resp)).await?;
    Ok(signed_in(&s.issuer, done))
}

async fn login_start(
    State(s): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    guard(&s, &headers, ip)?;
    let st = blocking(&s, |i| i.login_start()).await?;
    Ok(started(&s.issuer, st))
}

async fn login_finish(
    State(s): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    guard(&s, &headers, ip)?;
    finish_ceremony(&s, &headers, &body, Issuer::login_finish).await
}

/// The signed-in resident, for reads.
pub(crate) async fn session(s: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
    let c = cookie(headers, SESSION_COOKIE).map(str::to_owned);
    blocking(s, move |i| i.session(c.as_deref()))
        .await?
        .ok_or_else(|| ApiError::unauthorized("sign in first"))
}

/// The signed-in resident, for changes: same origin and a matching `X-CSRF-Token`.
async fn session_for_change(s: &AppState, headers: &HeaderMap) -> Result<Session, ApiError> {
    check_origin(&s.issuer, headers)?;
    let session = session(s, headers).await?;
    let sent = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !crate::secrets::ct_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
        return Err(ApiError::forbidden("missing or wrong X-CSRF-Token"));
    }
    Ok(session)
}

async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    session_for_change(&s, &headers).await?;
    if let Some(c) = cookie(&headers, SESSION_COOKIE).map(str::to_owned) {
        blocking(&s, move |i| i.logout(&c)).await?;
    }
    let mut resp = no_store(json!({ "redirect": "/login" }));
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&s.issuer, SESSION_COOKIE, "", 0),
    );
    Ok(resp)
}

async fn me(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let session = session(&s, &headers).await?;
    let view = blocking(&s, move |i| {
        crate::account::account_view(i, &session.register_id)
    })
    .await?;
    Ok(no_store(view))
}

async fn create_offer(State(s): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let session = session_for_change(&s, &headers).await?;
    let offer = blocking(&s, move |i| {
        i.create_offer(&session.register_id, "resident")
    })
    .await?;
    Ok(no_store(offer))
}

async fn passkey_start(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let session = session_for_change(&s, &headers).await?;
    let st = blocking(&s, move |i| i.add_passkey_start(&session)).await?;
    Ok(started(&s.issuer, st))
}

async fn passkey_finish(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let session = session_for_change(&s, &headers).await?;
    let resp: Value = json_body(&body, "invalid_request")?;
    let ceremony = cookie(&headers, CEREMONY_COOKIE).map(str::to_owned);
    let done = blocking(&s, move |i| {
        let done = i.register_finish(ceremony.as_deref(), &resp)?;
        if done.session.register_id != session.register_id {
            return Err(ApiError::forbidden("that ceremony belongs to someone else"));
        }
        Ok(done)
    })
    .await?;
    Ok(signed_in(&s.issuer, done))
}

async fn passkey_remove(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = session_for_change(&s, &headers).await?;
    blocking(&s, move |i| {
        crate::account::remove_passkey(i, &session.register_id, &id)
    })
    .await?;
    Ok(Json(json!({ "removed": true })).into_response())
}
