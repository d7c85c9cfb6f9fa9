//! OpenID for Verifiable Presentations 1.0 with DCQL: the authorization request (as an unsigned or
//! signed request object), the `openid4vp://` link, the `vp_token`, and the error codes. The
//! verifier builds these and the wallet reads them; both use these types.

mod certified;
pub mod dcql;
mod link;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::did_web::{DidDocument, Purpose};
use crate::encoding::{b64_json_object, json_b64};
use crate::error::{Error, Result};
use crate::form;
use crate::jws::{self, Jws};

pub use certified::{is_x509_client, CertifiedVerifier, X509_HASH_PREFIX, X509_SAN_DNS_PREFIX};
pub use dcql::{trusted_authorities, ClaimsQuery, CredentialQuery, DcqlMeta, DcqlQuery, AKI};
pub use link::{
    LinkedRequest, RequestLink, RequestUriPost, MAX_LINK_BYTES, REQUEST_URI_METHOD_POST,
};

/// The URL scheme wallets register for presentation requests.
pub const OPENID4VP_SCHEME: &str = "openid4vp://";
/// The `typ` of a request object (RFC 9101).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";
/// The Client Identifier Prefix for verifiers identified by their response URI (unsigned requests).
pub const REDIRECT_URI_PREFIX: &str = "redirect_uri:";
/// The Client Identifier Prefix for verifiers identified by a DID (signed requests).
pub const DID_PREFIX: &str = "decentralized_identifier:";
/// The response mode where the wallet POSTs the response to `response_uri`.
pub const DIRECT_POST: &str = "direct_post";
/// The response mode where the wallet POSTs the response encrypted to the verifier's key, as a
/// JWE in the `response` form field ([`crate::jwe`]).
pub const DIRECT_POST_JWT: &str = "direct_post.jwt";

/// An OID4VP authorization request, as carried in a request object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// `vp_token`.
    pub response_type: String,
    /// The verifier, with its Client Identifier Prefix.
    pub client_id: String,
    /// `direct_post`, or `direct_post.jwt` for an encrypted answer.
    pub response_mode: String,
    /// Where the wallet posts the response.
    pub response_uri: String,
    /// Fresh per request; the KB-JWT must carry it.
    pub nonce: String,
    /// Fresh per request; echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// What the verifier asks for.
    pub dcql_query: DcqlQuery,
    /// Formats and algorithms the verifier accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<Value>,
    /// Audience of a request object (`https://self-issued.me/v2` for static discovery).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The wallet's nonce, echoed when the wallet fetched the request by POST with one
    /// (`request_uri_method=post`, OpenID4VP §5.10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_nonce: Option<String>,
}

impl AuthorizationRequest {
    /// The request as an unsigned request object (`alg: none`), as required for `redirect_uri:`
    /// client identifiers.
    pub fn to_unsigned_jwt(&self) -> Result<String> {
        let mut header = Map::new();
        header.insert("alg".into(), "none".into());
        header.insert("typ".into(), REQUEST_OBJECT_TYP.into());
        Ok(format!("{}.{}.", json_b64(&header)?, json_b64(self)?))
    }

    /// The request as a signed request object.
    pub fn to_signed_jwt(&self, signer: &dyn JwsSigner) -> Result<String> {
        let payload = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => return Err(Error::Json("authorization request")),
        };
        jws::sign(REQUEST_OBJECT_TYP, Map::new(), &payload, signer)
    }

    /// Reads a request object. An unsigned one is accepted only for a `redirect_uri:` client;
    /// a signed one needs `key` (the wallet resolves it from the client identifier).
    pub fn from_jwt(jwt: &str, key: Option<&VerifyingKey>) -> Result<Self> {
        let parts: Vec<&str> = jwt.split('.').collect();
        let payload = if let [h, p, ""] = parts.as_slice() {
            let header = b64_json_object(h, "request object header")?;
            if header.get("alg").and_then(Value::as_str) != Some("none") {
                return Err(Error::MalformedJws(
                    "request object without signature must use alg none",
                ));
            }
            let payload = b64_json_object(p, "request object")?;
            let client = payload
                .get("client_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !client.starts_with(REDIRECT_URI_PREFIX) {
                return Err(Error::AlgorithmNotAllowed("none".into()));
            }
            payload
        } else {
            let jws = Jws::parse(jwt)?;
            jws.require_typ(REQUEST_OBJECT_TYP)?;
            jws.verify(key.ok_or(Error::MissingClaim("request object key"))?)?;
            jws.payload
        };
        let request: AuthorizationRequest = serde_json::from_value(Value::Object(payload))
            .map_err(|_| Error::Json("authorization request"))?;
        request.validate()?;
        Ok(request)
    }

    /// Reads the signed request object of a `decentralized_identifier:` client: the key its
    /// header's `kid` names must be an authentication key in `document`, the resolved document
    /// of the DID the request's `client_id` names, and the signature must verify with it.
    pub fn from_jwt_with_did_document(jwt: &str, document: &DidDocument) -> Result<Self> {
        let jws = Jws::parse(jwt)?;
        let kid = jws.kid().ok_or(Error::MissingClaim("kid"))?;
        let jwk = document
            .keys_for(Purpose::Authentication)
            .into_iter()
            .find(|k| k.kid.as_deref() == Some(kid))
            .ok_or_else(|| Error::IssuerKeyNotFound {
                iss: document.id.clone(),
                kid: kid.to_owned(),
            })?;
        let request = Self::from_jwt(jwt, Some(&VerifyingKey::from_jwk(&jwk)?))?;
        if request.client_id.strip_prefix(DID_PREFIX) != Some(document.id.as_str()) {
            return Err(Error::InvalidClaim(
                "client_id is not the DID whose document verified the request",
            ));
        }
        Ok(request)
    }

    /// Checks the fields this profile needs.
    pub fn validate(&self) -> Result<()> {
        if self.response_type != "vp_token" {
            return Err(Error::InvalidClaim("response_type"));
        }
        if self.response_mode != DIRECT_POST && self.response_mode != DIRECT_POST_JWT {
            return Err(Error::InvalidClaim("response_mode"));
        }
        if self.nonce.is_empty() || self.nonce.len() > 512 {
            return Err(Error::InvalidClaim("nonce"));
        }
        if let Some(uri) = self.client_id.strip_prefix(REDIRECT_URI_PREFIX) {
            if uri != self.response_uri {
                return Err(Error::InvalidClaim("client_id must be the response_uri"));
            }
        }
        self.dcql_query.validate()
    }
}

/// What a wallet posts to the `response_uri` (`direct_post`, OpenID4VP §8.2): the `vp_token`
/// and `state`, or an `error` (`access_denied` when the resident declined); for
/// `direct_post.jwt` (§8.3), all of it encrypted in `response`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DirectPostResponse {
    /// The presentations, as a JSON object text (see [`parse_vp_token`]).
    pub vp_token: Option<String>,
    /// The request's `state`, echoed.
    pub state: Option<String>,
    /// An error code instead of presentations.
    pub error: Option<String>,
    /// The encrypted response (a JWE), for `direct_post.jwt`.
    pub response: Option<String>,
}

impl DirectPostResponse {
    /// Reads a `direct_post` body (`application/x-www-form-urlencoded`); a parameter given twice
    /// is refused.
    pub fn from_form(body: &[u8]) -> core::result::Result<Self, form::FormError> {
        let [vp_token, state, error, response] =
            form::fields(body, ["vp_token", "state", "error", "response"])?;
        Ok(DirectPostResponse {
            vp_token,
            state,
            error,
            response,
        })
    }

    /// Reads the decrypted payload of a `direct_post.jwt` answer: a JSON object with the same
    /// parameters (`vp_token` as an object, `state`, `error`); it cannot nest another
    /// `response`.
    pub fn from_decrypted(payload: &[u8]) -> Result<Self> {
        if payload.len() > crate::encoding::MAX_TOKEN_BYTES {
            return Err(Error::TooLarge("response"));
        }
        let Some(Value::Object(m)) = crate::encoding::json_from_bytes::<Value>(payload) else {
            return Err(Error::Json("the decrypted response must be a JSON object"));
        };
        let text = |name: &'static str| match m.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::InvalidClaim(name)),
        };
        let vp_token = match m.get("vp_token") {
            None => None,
            Some(Value::Object(t)) => Some(Value::Object(t.clone()).to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(Error::InvalidClaim("vp_token")),
        };
        Ok(DirectPostResponse {
            vp_token,
            state: text("state")?,
            error: text("error")?,
            response: None,
        })
    }

    /// The response parameters as a JSON object, for encrypting: `vp_token` (parsed back into
    /// an object), `state` and `error` where present.
    pub fn to_params(&self) -> Result<Map<String, Value>> {
        let mut m = Map::new();
        if let Some(t) = &self.vp_token {
            let token: Value = serde_json::from_str(t).map_err(|_| Error::Json("vp_token"))?;
            m.insert("vp_token".into(), token);
        }
        if let Some(s) = &self.state {
            m.insert("state".into(), s.clone().into());
        }
        if let Some(e) = &self.error {
            m.insert("error".into(), e.clone().into());
        }
        Ok(m)
    }
}

/// A `vp_token`: credential query id → presentations.
pub type VpToken = BTreeMap<String, Vec<String>>;

/// Parses a `vp_token` as sent in a `direct_post` form field (a JSON object).
pub fn parse_vp_token(text: &str) -> Result<VpToken> {
    if text.len() > crate::encoding::MAX_TOKEN_BYTES {
        return Err(Error::TooLarge("vp_token"));
    }
    let value: Value = serde_json::from_str(text).map_err(|_| Error::Json("vp_token"))?;
    let Value::Object(map) = value else {
        return Err(Error::Json("vp_token must be a JSON object"));
    };
    let mut out = VpToken::new();
    for (id, v) in map {
        let list = match v {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    _ => Err(Error::Json("vp_token presentations must be strings")),
                })
                .collect::<Result<Vec<_>>>()?,
            _ => return Err(Error::Json("vp_token values must be arrays of strings")),
        };
        out.insert(id, list);
    }
    Ok(out)
}

/// OID4VP (and OAuth) error codes a wallet sends or a verifier answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VpErrorCode {
    /// Malformed request or response.
    InvalidRequest,
    /// The user declined.
    AccessDenied,
    /// The wallet does not support the requested formats.
    VpFormatsNotSupported,
    /// The request object could not be used.
    InvalidRequestObject,
    /// The client is not known or not acceptable.
    InvalidClient,
    /// The session is unknown or finished.
    InvalidRequestUri,
}

impl VpErrorCode {
    /// The wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            VpErrorCode::InvalidRequest => "invalid_request",
            VpErrorCode::AccessDenied => "access_denied",
            VpErrorCode::VpFormatsNotSupported => "vp_formats_not_supported",
            VpErrorCode::InvalidRequestObject => "invalid_request_object",
            VpErrorCode::InvalidClient => "invalid_client",
            VpErrorCode::InvalidRequestUri => "invalid_request_uri",
        }
    }
}

/// `client_metadata` saying the verifier takes SD-JWT VCs signed with ES256 or EdDSA.
pub fn sd_jwt_client_metadata() -> Value {
    serde_json::json!({
        "vp_formats_supported": {
            crate::oid4vci::FORMAT_SD_JWT_VC: {
                "sd-jwt_alg_values": ["ES256", "EdDSA"],
                "kb-jwt_alg_values": ["ES256", "EdDSA"]
            }
        }
    })
}

#[cfg(test)]
mod tests;
