//! DPoP (RFC 9449): proofs of possession that bind an access token to a key the client holds, so
//! a stolen token is worth nothing without the key.
//!
//! A proof is a JWT with `typ` `dpop+jwt`, the client's public key in the `jwk` header, and the
//! claims `jti` (unique), `htm` and `htu` (the request's method and URL without query or
//! fragment), `iat`, the server's `nonce` when it gave one, and `ath` (the base64url SHA-256 of
//! the access token) when one is presented. [`verify`] checks all of it except what needs the
//! server's state: whether the `nonce` is one it handed out, and whether the `jti` was seen
//! before. The server does those two, and binds the token to [`VerifiedDpop::jkt`].

use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{numeric_date, required_str, sha256_b64};
use crate::error::Error;
use crate::jwk::Jwk;
use crate::jws::{self, Jws};
use crate::origin::Origin;

/// The `typ` of a DPoP proof.
pub const DPOP_TYP: &str = "dpop+jwt";
/// The request header that carries the proof, and the authorization scheme of a bound token.
pub const DPOP: &str = "DPoP";
/// The response header with the server's nonce.
pub const DPOP_NONCE: &str = "DPoP-Nonce";
/// The longest `jti` accepted (the spec asks for at least 96 bits of randomness).
const MAX_JTI: usize = 256;

/// Why a DPoP proof was refused. The protocol's error for all but [`DpopError::NonceRequired`]
/// is `invalid_dpop_proof`; that one is `use_dpop_nonce`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// No proof, or more than one `DPoP` header.
    #[error("exactly one DPoP proof is required")]
    Missing,
    /// Not a well-formed proof JWT, or its signature or key is wrong.
    #[error("the DPoP proof is not valid: {0}")]
    Invalid(Error),
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another HTTP method")]
    WrongMethod,
    /// `htu` is not the request's URL.
    #[error("the DPoP proof is for another URL")]
    WrongUrl,
    /// `iat` is outside the accepted window.
    #[error("the DPoP proof is too old or from the future")]
    Stale,
    /// The `jti` was used before.
    #[error("the DPoP proof was used before")]
    Replayed,
    /// `ath` is missing or is not the hash of the presented token.
    #[error("the DPoP proof is not for this access token")]
    WrongToken,
    /// The proof's key is not the key the token is bound to.
    #[error("the access token is bound to another key")]
    WrongKey,
    /// The proof carries no nonce of this server, or an expired one: retry with the
    /// `DPoP-Nonce` the answer carries.
    #[error("a fresh DPoP nonce from this server is required")]
    NonceRequired,
}

impl DpopError {
    /// The protocol's error code (RFC 9449 §5, §7.1, §8).
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::NonceRequired => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }
}

/// The claims of a proof a client is about to sign.
#[derive(Debug, Clone, Copy)]
pub struct ProofClaims<'a> {
    /// The HTTP method (`POST`).
    pub htm: &'a str,
    /// The request's URL, without query and fragment.
    pub htu: &'a str,
    /// The time of signing.
    pub iat: i64,
    /// A fresh unique identifier.
    pub jti: &'a str,
    /// The server's latest `DPoP-Nonce`, if it gave one.
    pub nonce: Option<&'a str>,
    /// The access token presented with the proof, if any.
    pub access_token: Option<&'a str>,
}

/// Signs a proof with `key`, carrying `public` in the `jwk` header.
pub fn proof(key: &dyn JwsSigner, public: &Jwk, claims: &ProofClaims<'_>) -> crate::Result<String> {
    let mut payload = Map::new();
    payload.insert("jti".into(), claims.jti.into());
    payload.insert("htm".into(), claims.htm.into());
    payload.insert("htu".into(), claims.htu.into());
    payload.insert("iat".into(), claims.iat.into());
    if let Some(nonce) = claims.nonce {
        payload.insert("nonce".into(), nonce.into());
    }
    if let Some(token) = claims.access_token {
        payload.insert("ath".into(), access_token_hash(token).into());
    }
    jws::sign_with_jwk(DPOP_TYP, public, &payload, key)
}

/// `ath`: the base64url SHA-256 of an access token.
pub fn access_token_hash(token: &str) -> String {
    sha256_b64(token)
}

/// What the server expects of a proof on one request.
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    /// The request's method.
    pub htm: &'a str,
    /// The request's URL as the server's public address spells it (never read from the
    /// request's own `Host`, which a reverse proxy or an attacker sets).
    pub htu: &'a str,
    /// The current time.
    pub now: i64,
    /// How old a proof may be, in seconds.
    pub max_age: i64,
    /// Allowed clock difference for proofs from the future.
    pub clock_skew: i64,
    /// The access token presented with the proof (its hash must be `ath`).
    pub access_token: Option<&'a str>,
}

/// A proof whose form, signature, method, URL, time and token hash checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDpop {
    /// The RFC 7638 thumbprint of the proof's key (`cnf.jkt` of a token bound to it).
    pub jkt: String,
    /// The proof's unique identifier (the server refuses it a second time).
    pub jti: String,
    /// The proof's `iat`.
    pub iat: i64,
    /// The proof's `nonce`, which the server still has to check is one of its own.
    pub nonce: Option<String>,
}

/// Checks a proof against `expect`: `typ`, an allow-listed `alg`, a public `jwk` header, the
/// signature with that key, `htm`, `htu` (compared as origin and path, without query and
/// fragment), `iat` within the window, a `jti`, and `ath` when a token is presented.
pub fn verify(jwt: &str, expect: &Expectation<'_>) -> Result<VerifiedDpop, DpopError> {
    let invalid = DpopError::Invalid;
    let parsed = Jws::parse(jwt).map_err(invalid)?;
    parsed.require_typ(DPOP_TYP).map_err(invalid)?;
    let jwk = jws::embedded_jwk(&parsed).map_err(invalid)?;
    let key = VerifyingKey::from_jwk(&jwk).map_err(invalid)?;
    parsed.verify(&key).map_err(invalid)?;
    let claims = &parsed.payload;
    if required_str(claims, "htm").map_err(invalid)? != expect.htm {
        return Err(DpopError::WrongMethod);
    }
    if !same_target(required_str(claims, "htu").map_err(invalid)?, expect.htu) {
        return Err(DpopError::WrongUrl);
    }
    let iat = claims
        .get("iat")
        .ok_or(Error::MissingClaim("iat"))
        .and_then(|v| numeric_date(v).ok_or(Error::InvalidClaim("iat")))
        .map_err(invalid)?;
    if iat > expect.now.saturating_add(expect.clock_skew)
        || iat < expect.now.saturating_sub(expect.max_age)
    {
        return Err(DpopError::Stale);
    }
    let jti = required_str(claims, "jti").map_err(invalid)?;
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Err(invalid(Error::InvalidClaim("jti")));
    }
    if let Some(token) = expect.access_token {
        let ath = claims.get("ath").and_then(Value::as_str);
        if ath != Some(access_token_hash(token).as_str()) {
            return Err(DpopError::WrongToken);
        }
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(_) => Some(required_str(claims, "nonce").map_err(invalid)?.to_owned()),
    };
    Ok(VerifiedDpop {
        jkt: jwk.thumbprint().map_err(invalid)?,
        jti: jti.to_owned(),
        iat,
        nonce,
    })
}

/// Whether `htu` names `expected` (RFC 9449 §4.3: query and fragment ignored; scheme and host
/// compared without case, a default port as no port).
fn same_target(htu: &str, expected: &str) -> bool {
    let path = |url: &str| -> Option<String> {
        let (_, rest) = url.split_once("://")?;
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let path = rest.find('/').map_or("/", |i| &rest[i..]);
        Some(path.to_owned())
    };
    match (
        Origin::of(htu),
        Origin::of(expected),
        path(htu),
        path(expected),
    ) {
        (Ok(a), Ok(b), Some(p), Some(q)) => a == b && p == q,
        _ => false,
    }
}

/// The token of an `Authorization: DPoP <token>` header value (RFC 9449 §7.1).
pub fn dpop_token(header: &str) -> Option<&str> {
    crate::bearer::scheme_token(header, DPOP)
}

#[cfg(test)]
mod tests;
