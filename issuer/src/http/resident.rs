//! The resident JSON API the pages use (and other front ends may): enrollment, sign-in, the
//! resident's own data and passkeys, and credential offers.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use civic_service::cookies::CookieJar;
use civic_service::extract::JsonBody;
use civic_service::respond::no_store;
use civic_service::ApiError;

use super::guards::{Ceremony, Resident, ResidentChange, CEREMONY_COOKIE, SESSION_COOKIE};
use super::AppState;
use crate::passkeys::Started;
use crate::sessions::SignedIn;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/enroll/start", post(enroll_start))
        .route("/api/enroll/finish", post(enroll_finish))
        .route("/api/login/start", post(sign_in_start))
        .route("/api/login/finish", post(sign_in_finish))
        .route("/api/logout", post(sign_out))
        .route("/api/me", get(me))
        .route("/api/offers", post(create_offer))
        .route("/api/authorize", post(authorize))
        .route("/api/wallet-attestation", post(wallet_attestation))
        .route("/api/passkeys/start", post(passkey_start))
        .route("/api/passkeys/finish", post(passkey_finish))
        .route("/api/passkeys/{id}", delete(passkey_remove))
}

#[derive(Deserialize)]
struct CodeBody {
    code: String,
}

impl AppState {
    /// The options of a started ceremony, with the cookie that finds it again.
    fn started(&self, started: Started) -> (CookieJar, Response) {
        let ttl = self.issuer.context.config.ceremony_ttl_secs;
        let cookie = self.cookies.cookie(
            CEREMONY_COOKIE,
            started.ceremony,
            Duration::from_secs(u64::from(ttl)),
        );
        (CookieJar::new().add(cookie), no_store(started.options))
    }

    /// A new session's cookie (and the ceremony cookie removed), and where the page goes next.
    fn signed_in(&self, done: SignedIn) -> (CookieJar, Response) {
        let ttl = self.issuer.context.config.session_ttl_secs;
        let jar = CookieJar::new()
            .add(self.cookies.cookie(
                SESSION_COOKIE,
                done.cookie,
                Duration::from_secs(u64::from(ttl)),
            ))
            .add(self.cookies.removal(CEREMONY_COOKIE));
        let body = json!({ "csrf_token": done.session.csrf_token, "redirect": "/me" });
        (jar, no_store(body))
    }
}

async fn enroll_start(
    State(app): State<AppState>,
    _: Ceremony,
    JsonBody(body): JsonBody<CodeBody>,
) -> Result<impl IntoResponse, ApiError> {
    let started = app
        .run(move |issuer| issuer.passkeys.start_enrollment(&body.code))
        .await?;
    Ok(app.started(started))
}

async fn enroll_finish(
    State(app): State<AppState>,
    ceremony: Ceremony,
    JsonBody(response): JsonBody<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let done = app
        .run(move |issuer| {
            issuer
                .passkeys
                .finish_creation(ceremony.cookie.as_deref(), &response)
        })
        .await?;
    Ok(app.signed_in(done))
}

async fn sign_in_start(
    State(app): State<AppState>,
    _: Ceremony,
) -> Result<impl IntoResponse, ApiError> {
    let started = app.run(|issuer| issuer.passkeys.start_sign_in()).await?;
    Ok(app.started(started))
}

async fn sign_in_finish(
    State(app): State<AppState>,
    ceremony: Ceremony,
    JsonBody(response): JsonBody<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let done = app
        .run(move |issuer| {
            issuer
                .passkeys
                .finish_sign_in(ceremony.cookie.as_deref(), &response)
        })
        .await?;
    Ok(app.signed_in(done))
}

async fn sign_out(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
) -> Result<impl IntoResponse, ApiError> {
    let cookie = resident.cookie;
    app.run(move |issuer| issuer.sessions.end(&cookie)).await?;
    let jar = CookieJar::new().add(app.cookies.removal(SESSION_COOKIE));
    Ok((jar, no_store(json!({ "redirect": "/login" }))))
}

async fn me(State(app): State<AppState>, resident: Resident) -> Result<Response, ApiError> {
    let id = resident.session.register_id;
    let view = app.run(move |issuer| issuer.accounts.view(&id)).await?;
    Ok(no_store(view))
}

async fn create_offer(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
) -> Result<Response, ApiError> {
    let id = resident.session.register_id;
    let offer = app
        .run(move |issuer| issuer.issuance.create_offer(&id, "resident"))
        .await?;
    Ok(no_store(offer))
}

/// The resident's decision on a wallet's authorization request (the `/authorize` page).
#[derive(Deserialize)]
struct Decision {
    client_id: String,
    request_uri: String,
    approve: bool,
}

async fn authorize(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
    JsonBody(decision): JsonBody<Decision>,
) -> Result<Response, ApiError> {
    let id = resident.session.register_id;
    let decided = app
        .run(move |issuer| {
            issuer.issuance.decide_authorization(
                &id,
                &decision.client_id,
                &decision.request_uri,
                decision.approve,
            )
        })
        .await?;
    Ok(no_store(json!({ "redirect": decided.redirect })))
}

/// The resident's answer to a wallet's request for an attestation (`/wallet-provider`).
#[derive(Deserialize)]
struct AttestationDecision {
    #[serde(flatten)]
    request: crate::issuance::wallet_provider::AttestationRequest,
    approve: bool,
}

async fn wallet_attestation(
    State(app): State<AppState>,
    ResidentChange(_resident): ResidentChange,
    JsonBody(decision): JsonBody<AttestationDecision>,
) -> Result<Response, ApiError> {
    let decided = app
        .run(move |issuer| {
            issuer
                .issuance
                .vouch_for_wallet(&decision.request, decision.approve)
        })
        .await?;
    Ok(no_store(json!({ "redirect": decided.redirect })))
}

async fn passkey_start(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
) -> Result<impl IntoResponse, ApiError> {
    let session = resident.session;
    let started = app
        .run(move |issuer| issuer.passkeys.start_adding(&session))
        .await?;
    Ok(app.started(started))
}

async fn passkey_finish(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
    jar: CookieJar,
    JsonBody(response): JsonBody<Value>,
) -> Result<impl IntoResponse, ApiError> {
    let ceremony = app.cookies.read(&jar, CEREMONY_COOKIE).map(str::to_owned);
    let session = resident.session;
    let done = app
        .run(move |issuer| {
            issuer
                .passkeys
                .finish_adding(&session, ceremony.as_deref(), &response)
        })
        .await?;
    Ok(app.signed_in(done))
}

async fn passkey_remove(
    State(app): State<AppState>,
    ResidentChange(resident): ResidentChange,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let (register_id, cookie) = (resident.session.register_id, resident.cookie);
    app.run(move |issuer| issuer.passkeys.remove(&register_id, &id, &cookie))
        .await?;
    Ok(Json(json!({ "removed": true })).into_response())
}
