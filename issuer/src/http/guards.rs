//! The guards of the issuer's endpoints, as extractors: a handler that takes one has passed it.
//!
//! - [`Admin`]: an agency admin token (`Authorization: Bearer`).
//! - [`Resident`]: a signed-in resident (session cookie).
//! - [`ResidentChange`]: a signed-in resident changing something: same origin and the session's
//!   anti-CSRF token in `X-CSRF-Token`.
//! - [`Ceremony`]: an unauthenticated passkey step: same origin, within the per-address rate
//!   limit, with the ceremony cookie if the browser has one.
//! - [`AccessToken`]: the OID4VCI access token and its scheme, if one was sent; [`DpopProofs`]:
//!   the request's DPoP proofs; [`ClientAttestation`]: a wallet's attestation and its PoP.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};

use civic_credential::bearer::bearer_token;
use civic_credential::dpop::{dpop_token, DPOP};
use civic_credential::encoding::ct_eq;
use civic_service::cookies::CookieJar;
use civic_service::extract::ClientIp;
use civic_service::ApiError;

use super::AppState;
use civic_credential::oid4vci::attestation::{ATTESTATION_HEADER, POP_HEADER};

use crate::issuance::client_auth::AttestationHeaders;
use crate::issuance::dpop::Presented;
use crate::secrets::hash_hex;
use crate::sessions::Session;

/// The ceremony cookie: finds a passkey ceremony in progress.
pub(crate) const CEREMONY_COOKIE: &str = "civic_ceremony";
/// The session cookie of a signed-in resident.
pub(crate) const SESSION_COOKIE: &str = "civic_session";

fn unauthorized(description: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", description)
}

/// Refuses state-changing browser requests from another origin (a request without `Origin`,
/// from a non-browser client, passes).
fn same_origin(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => Ok(()),
        Some(Ok(o)) if o == app.issuer.context.config.origin() => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "cross-origin request refused",
        )),
    }
}

fn cookie(app: &AppState, headers: &HeaderMap, name: &'static str) -> Option<String> {
    app.cookies
        .read(&CookieJar::from_headers(headers), name)
        .map(str::to_owned)
}

/// An agency admin, by name (`admin:<name>` in the audit log).
pub(crate) struct Admin {
    /// The audit actor.
    pub(crate) actor: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| unauthorized("an admin bearer token is required"))?
            .to_owned();
        let found = app
            .run(move |issuer| issuer.store().admin_token(&hash_hex(&token)))
            .await?;
        found
            .map(|t| Admin {
                actor: format!("admin:{}", t.name),
            })
            .ok_or_else(|| unauthorized("unknown admin token"))
    }
}

/// A signed-in resident: the session, and its cookie.
pub(crate) struct Resident {
    /// The session.
    pub(crate) session: Session,
    /// The session cookie's value (to end it).
    pub(crate) cookie: String,
}

impl FromRequestParts<AppState> for Resident {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let cookie = cookie(app, &parts.headers, SESSION_COOKIE)
            .ok_or_else(|| unauthorized("sign in first"))?;
        let value = cookie.clone();
        let session = app
            .run(move |issuer| issuer.sessions.get(&value))
            .await?
            .ok_or_else(|| unauthorized("sign in first"))?;
        Ok(Resident { session, cookie })
    }
}

/// A signed-in resident making a change: same origin and a matching `X-CSRF-Token`.
pub(crate) struct ResidentChange(pub(crate) Resident);

impl FromRequestParts<AppState> for ResidentChange {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        same_origin(app, &parts.headers)?;
        let resident = Resident::from_request_parts(parts, app).await?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !ct_eq(sent.as_bytes(), resident.session.csrf_token.as_bytes()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "missing or wrong X-CSRF-Token",
            ));
        }
        Ok(ResidentChange(resident))
    }
}

/// An unauthenticated passkey step: same origin and within the per-address rate limit; carries
/// the ceremony cookie, if any.
pub(crate) struct Ceremony {
    /// The ceremony cookie's value.
    pub(crate) cookie: Option<String>,
}

impl FromRequestParts<AppState> for Ceremony {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        same_origin(app, &parts.headers)?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, app).await;
        app.limiter.check(ip).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many attempts from this address; wait a minute",
            )
        })?;
        Ok(Ceremony {
            cookie: ceremony_cookie(app, &parts.headers),
        })
    }
}

/// A request to PAR or the token endpoint within the per-address rate limit
/// (`oauth_rate_limit_per_minute`); over it, 429 with `Retry-After`.
pub(crate) struct OAuthThrottle;

impl FromRequestParts<AppState> for OAuthThrottle {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, app).await;
        app.oauth_limiter.check(ip).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "too many requests from this address; wait a minute",
            )
            .with_header("retry-after", "60".into())
        })?;
        Ok(OAuthThrottle)
    }
}

/// The ceremony cookie of a request, if any.
pub(crate) fn ceremony_cookie(app: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie(app, headers, CEREMONY_COOKIE)
}

/// The access token of an OID4VCI request and the scheme it came under (`Authorization: DPoP`
/// or `Bearer`), if one was sent.
pub(crate) struct AccessToken(pub(crate) Presented);

impl<S: Send + Sync> FromRequestParts<S> for AccessToken {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let presented = match value {
            Some(v) => match (dpop_token(v), bearer_token(v)) {
                (Some(t), _) => Presented::Dpop(t.to_owned()),
                (None, Some(t)) => Presented::Bearer(t.to_owned()),
                (None, None) => Presented::Nothing,
            },
            None => Presented::Nothing,
        };
        Ok(AccessToken(presented))
    }
}

/// The values of a request's `DPoP` headers (RFC 9449 §4.1): the endpoint requires exactly one.
pub(crate) struct DpopProofs(pub(crate) Vec<String>);

impl<S: Send + Sync> FromRequestParts<S> for DpopProofs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(DpopProofs(header_values(parts, DPOP)))
    }
}

/// The values of a request's `OAuth-Client-Attestation` and `-PoP` headers (a wallet
/// authenticating with its provider's attestation).
pub(crate) struct ClientAttestation(pub(crate) AttestationHeaders);

impl<S: Send + Sync> FromRequestParts<S> for ClientAttestation {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAttestation(AttestationHeaders {
            attestation: header_values(parts, ATTESTATION_HEADER),
            pop: header_values(parts, POP_HEADER),
        }))
    }
}

/// Every value of header `name` (the endpoints want exactly one and say so). A value that is not
/// text cannot be a JWT; it stays, to be refused as one.
fn header_values(parts: &Parts, name: &str) -> Vec<String> {
    parts
        .headers
        .get_all(name)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect()
}
