//! OID4VCI endpoints (metadata, offers by reference, token, nonce, credential), status lists and
//! trust material: what wallets and verifiers call.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use civic_credential::dpop::DPOP_NONCE;
use civic_credential::oid4vci::metadata::SIGNED_METADATA_MEDIA_TYPE;
use civic_credential::oid4vci::{ErrorCode, ProtocolError, TokenRequest};
use civic_service::layers::wallet_cors;
use civic_service::respond::{self, no_store};
use civic_service::ApiError;

use crate::issuance::CredentialAnswer;

use super::error::at_resource;
use super::guards::{AccessToken, ClientAttestation, DpopProofs, OAuthThrottle};
use super::AppState;
use crate::issuance::client_auth::AttestationHeaders;

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
        .route("/par", post(par))
        .route("/token", post(token))
        .route("/nonce", post(nonce))
        .route("/credential", post(credential))
        .route("/status/{list}", get(status_list))
        .route("/platform-registry", get(platform_registry))
        // Tokens travel in Authorization (DPoP or Bearer) with a DPoP proof; no cookies are
        // involved. Browser wallets read the next DPoP nonce from the answers.
        .layer(
            wallet_cors([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("dpop"),
                HeaderName::from_static("oauth-client-attestation"),
                HeaderName::from_static("oauth-client-attestation-pop"),
            ])
            .expose_headers([
                HeaderName::from_static("dpop-nonce"),
                HeaderName::from_static("www-authenticate"),
            ]),
        )
}

async fn platform_registry(State(app): State<AppState>) -> Result<Response, ApiError> {
    let registry = app.run(|issuer| issuer.platforms.registry()).await?;
    Ok(Json(registry).into_response())
}

/// The credential issuer metadata: as JSON, or signed (`application/jwt`) to a wallet that asks
/// for it with `Accept` when the signing key has a certificate (OID4VCI 1.0 §12.2.3).
async fn issuer_metadata(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let wants_jwt = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.split(';').next().unwrap_or_default().trim() == SIGNED_METADATA_MEDIA_TYPE);
    let vary = [(header::VARY, "accept")];
    if wants_jwt {
        if let Some(jwt) = app.issuer.trust.signed_issuer_metadata() {
            let media = [(header::CONTENT_TYPE, SIGNED_METADATA_MEDIA_TYPE)];
            return (vary, media, jwt).into_response();
        }
    }
    (vary, Json(app.issuer.trust.issuer_metadata())).into_response()
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
    Ok(respond::did_document(doc))
}

async fn offer(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let offer = app
        .run(move |issuer| issuer.issuance.offer_by_id(&id))
        .await?;
    Ok(no_store(offer))
}

async fn token(
    State(app): State<AppState>,
    _: OAuthThrottle,
    DpopProofs(proofs): DpopProofs,
    ClientAttestation(attestation): ClientAttestation,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let nonce = app.issuer.issuance.dpop_nonce();
    with_dpop_nonce(
        token_answer(app, (proofs, attestation), headers, body).await,
        nonce,
    )
}

async fn token_answer(
    app: AppState,
    (proofs, attestation): (Vec<String>, AttestationHeaders),
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_form(&headers, "the token request")?;
    let request = TokenRequest::from_form(&body)?;
    let token = app
        .run(move |issuer| issuer.issuance.token(&request, &proofs, &attestation))
        .await?;
    Ok(no_store(token))
}

/// The PAR endpoint (RFC 9126): 201 with the `request_uri`.
async fn par(
    State(app): State<AppState>,
    _: OAuthThrottle,
    DpopProofs(proofs): DpopProofs,
    ClientAttestation(attestation): ClientAttestation,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let nonce = app.issuer.issuance.dpop_nonce();
    with_dpop_nonce(
        par_answer(app, (proofs, attestation), headers, body).await,
        nonce,
    )
}

async fn par_answer(
    app: AppState,
    (proofs, attestation): (Vec<String>, AttestationHeaders),
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_form(&headers, "the pushed authorization request")?;
    let pushed = app
        .run(move |issuer| {
            issuer
                .issuance
                .push_authorization(&body, &proofs, &attestation)
        })
        .await?;
    let mut resp = no_store(pushed);
    *resp.status_mut() = axum::http::StatusCode::CREATED;
    Ok(resp)
}

/// Refuses a body that is not `application/x-www-form-urlencoded`.
fn require_form(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        Ok(())
    } else {
        Err(ProtocolError::new(
            ErrorCode::InvalidRequest,
            format!("{what} must be application/x-www-form-urlencoded"),
        )
        .into())
    }
}

/// Writes nothing (the nonce is stateless until spent), so it needs no durable sync.
async fn nonce(State(app): State<AppState>) -> Response {
    no_store(app.issuer.issuance.nonce())
}

async fn credential(
    State(app): State<AppState>,
    AccessToken(presented): AccessToken,
    DpopProofs(proofs): DpopProofs,
    body: Bytes,
) -> Response {
    let nonce = app.issuer.issuance.dpop_nonce();
    let issued = app
        .run(move |issuer| {
            issuer
                .issuance
                .credential(&presented, &proofs, &body)
                .map_err(at_resource)
        })
        .await
        .map(|answer| match answer {
            CredentialAnswer::Plain(response) => no_store(response),
            CredentialAnswer::Sealed(jwe) => {
                let mut resp = no_store_text(jwe);
                resp.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/jwt"),
                );
                resp
            }
        });
    with_dpop_nonce(issued, nonce)
}

/// A text answer that no cache may keep.
fn no_store_text(body: String) -> Response {
    let mut resp = body.into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The answer (or error) of a DPoP endpoint, with a fresh `DPoP-Nonce` for the wallet's next
/// proof (RFC 9449 §8.2).
fn with_dpop_nonce(answer: Result<Response, ApiError>, nonce: String) -> Response {
    let mut resp = answer.unwrap_or_else(IntoResponse::into_response);
    if let Ok(v) = HeaderValue::from_str(&nonce) {
        resp.headers_mut().insert(DPOP_NONCE, v);
    }
    resp
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
