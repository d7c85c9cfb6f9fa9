//! OpenID for Verifiable Credential Issuance 1.0: the messages of the pre-authorized code flow,
//! issuer metadata, and proof JWTs. The issuer serves them and the wallet sends them; both use
//! these types so the wire format lives in one place.

pub mod attestation;
pub mod authorization;
pub mod metadata;
pub mod proof;

use serde::{Deserialize, Serialize};

use crate::form;

pub use metadata::{AuthorizationServerMetadata, CredentialConfiguration, IssuerMetadata};
pub use proof::{build_proof, verify_proof, ProofExpectation, VerifiedProof, PROOF_TYP};

/// The grant type of the pre-authorized code flow.
pub const PRE_AUTHORIZED_GRANT: &str = "urn:ietf:params:oauth:grant-type:pre-authorized_code";
/// The credential format identifier of SD-JWT VC.
pub const FORMAT_SD_JWT_VC: &str = "dc+sd-jwt";
/// The URL scheme of a credential offer handed to a wallet.
pub const OFFER_SCHEME: &str = "openid-credential-offer://";

/// A credential offer (OID4VCI §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialOffer {
    /// The credential issuer identifier (an https URL).
    pub credential_issuer: String,
    /// Which configurations from the issuer metadata are offered.
    pub credential_configuration_ids: Vec<String>,
    /// The grants the wallet may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grants: Option<Grants>,
}

/// The grants of a credential offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    /// The authorization code grant (the wallet pushes an authorization request, the resident
    /// signs in at the issuer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<AuthorizationCodeGrant>,
    /// The pre-authorized code grant.
    #[serde(
        rename = "urn:ietf:params:oauth:grant-type:pre-authorized_code",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_code: Option<PreAuthorizedCodeGrant>,
}

/// The authorization code grant of an offer (OID4VCI §4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCodeGrant {
    /// Ties the wallet's authorization request to this offer; the wallet sends it back as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_state: Option<String>,
}

/// A pre-authorized code and whether a transaction code must accompany it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreAuthorizedCodeGrant {
    /// The single-use code.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: String,
    /// Present when the wallet must ask the user for a transaction code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<TxCodeSpec>,
}

/// How the transaction code looks, so the wallet can ask for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxCodeSpec {
    /// `numeric` or `text`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_mode: Option<String>,
    /// Number of characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Where the user finds the code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Where a wallet finds an offer: inline, or by reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfferLocation {
    /// `credential_offer=<json>`.
    ByValue(CredentialOffer),
    /// `credential_offer_uri=<url>`.
    ByReference(String),
}

impl OfferLocation {
    /// Renders `openid-credential-offer://?credential_offer_uri=…` (or `credential_offer=…`).
    pub fn to_url(&self) -> crate::Result<String> {
        Ok(match self {
            OfferLocation::ByReference(uri) => {
                format!(
                    "{OFFER_SCHEME}?credential_offer_uri={}",
                    form::percent_encode(uri)
                )
            }
            OfferLocation::ByValue(offer) => {
                let json = serde_json::to_string(offer)
                    .map_err(|_| crate::Error::Json("credential offer"))?;
                format!(
                    "{OFFER_SCHEME}?credential_offer={}",
                    form::percent_encode(&json)
                )
            }
        })
    }

    /// Parses the query of an offer URL (any scheme, or a bare query string).
    pub fn parse(url: &str) -> Result<Self, ProtocolError> {
        let fields = form::fields(url.as_bytes(), ["credential_offer_uri", "credential_offer"]);
        match fields.map_err(|e| bad_request(&format!("offer URL: {e}")))? {
            [Some(uri), None] => Ok(OfferLocation::ByReference(uri)),
            [None, Some(json)] => serde_json::from_str(&json)
                .map(OfferLocation::ByValue)
                .map_err(|_| bad_request("credential_offer JSON")),
            [Some(_), Some(_)] => Err(bad_request("offer URL names more than one offer")),
            [None, None] => Err(bad_request("offer URL has no credential_offer(_uri)")),
        }
    }
}

/// A token request of the pre-authorized code or the authorization code grant (form-encoded on
/// the wire).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TokenRequest {
    /// [`PRE_AUTHORIZED_GRANT`] or [`authorization::AUTHORIZATION_CODE_GRANT`].
    pub grant_type: String,
    /// The code from the offer.
    #[serde(rename = "pre-authorized_code")]
    pub pre_authorized_code: Option<String>,
    /// The transaction code, when the offer asked for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// The authorization code (authorization code grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The redirect URI the code was sent to (authorization code grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// The PKCE code verifier (authorization code grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
    /// The wallet's client identifier (a public client names itself).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The refresh token (refresh token grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl TokenRequest {
    /// Reads a token request from its `application/x-www-form-urlencoded` body. A parameter
    /// given twice is refused (RFC 6749 §3.2), as is a request without `grant_type`.
    pub fn from_form(body: &[u8]) -> Result<Self, ProtocolError> {
        let [grant_type, pre_authorized_code, tx_code, code, redirect_uri, code_verifier, client_id, refresh_token] =
            form::fields(
                body,
                [
                    "grant_type",
                    "pre-authorized_code",
                    "tx_code",
                    "code",
                    "redirect_uri",
                    "code_verifier",
                    "client_id",
                    "refresh_token",
                ],
            )
            .map_err(|e| ProtocolError::new(ErrorCode::InvalidRequest, e.to_string()))?;
        Ok(TokenRequest {
            grant_type: grant_type.ok_or_else(|| {
                ProtocolError::new(ErrorCode::InvalidRequest, "grant_type is required")
            })?,
            pre_authorized_code,
            tx_code,
            code,
            redirect_uri,
            code_verifier,
            client_id,
            refresh_token,
        })
    }
}

/// A successful token response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token for the credential endpoint.
    pub access_token: String,
    /// `DPoP` for a token bound to the wallet's key, `Bearer` otherwise.
    pub token_type: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
    /// For a fresh batch later without signing in again (authorization code flow, bound to the
    /// same DPoP key); single use: each use gives the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// The nonce endpoint's response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonceResponse {
    /// A fresh nonce for proof JWTs.
    pub c_nonce: String,
}

/// A credential request (OID4VCI §8.2), with batch proofs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialRequest {
    /// Which configuration to issue.
    #[serde(default)]
    pub credential_configuration_id: Option<String>,
    /// Used with authorization details; not supported by this issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_identifier: Option<String>,
    /// One proof of possession per credential copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proofs: Option<Proofs>,
    /// The single-proof form of earlier drafts; rejected with a clear error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proof: Option<serde_json::Value>,
    /// Response encryption; not supported by this issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<serde_json::Value>,
}

/// The `proofs` object: one array per proof type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proofs {
    /// Proof JWTs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jwt: Vec<String>,
}

/// A credential response with the issued credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialResponse {
    /// One entry per proof.
    pub credentials: Vec<IssuedCredential>,
}

/// One issued credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedCredential {
    /// The SD-JWT VC in issuance form.
    pub credential: String,
}

/// The error codes of OAuth 2.0 and OID4VCI that this flow uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Malformed request.
    InvalidRequest,
    /// The code is wrong, used, expired, or the tx_code does not match.
    InvalidGrant,
    /// The grant type is not supported.
    UnsupportedGrantType,
    /// The access token is missing, wrong or expired.
    InvalidToken,
    /// The credential request is malformed.
    InvalidCredentialRequest,
    /// The credential configuration is not offered.
    UnknownCredentialConfiguration,
    /// A proof is invalid.
    InvalidProof,
    /// The proof's nonce is missing, unknown or used.
    InvalidNonce,
    /// Credential response encryption was asked for and is not supported.
    InvalidEncryptionParameters,
    /// The resident's data no longer allows issuance.
    CredentialRequestDenied,
    /// The user (or wallet) declined.
    AccessDenied,
    /// The authorization request asks for another response type than `code`.
    UnsupportedResponseType,
    /// The scope is missing or names no credential this issuer offers.
    InvalidScope,
    /// The client is unknown, or did not authenticate as it must.
    InvalidClient,
    /// The client attestation or its PoP is refused.
    InvalidClientAttestation,
}

impl ErrorCode {
    /// The code as it appears in the `error` member.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InvalidCredentialRequest => "invalid_credential_request",
            ErrorCode::UnknownCredentialConfiguration => "unknown_credential_configuration",
            ErrorCode::InvalidProof => "invalid_proof",
            ErrorCode::InvalidNonce => "invalid_nonce",
            ErrorCode::InvalidEncryptionParameters => "invalid_encryption_parameters",
            ErrorCode::CredentialRequestDenied => "credential_request_denied",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidClientAttestation => "invalid_client_attestation",
        }
    }

    /// The HTTP status the spec pairs with the code.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidToken => 401,
            ErrorCode::AccessDenied | ErrorCode::CredentialRequestDenied => 403,
            _ => 400,
        }
    }
}

/// An error in the protocol's own format: `{"error": …, "error_description": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtocolError {
    /// The error code.
    pub error: ErrorCode,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl ProtocolError {
    /// An error with a description.
    pub fn new(error: ErrorCode, description: impl Into<String>) -> Self {
        ProtocolError {
            error,
            error_description: Some(description.into()),
        }
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.error_description {
            Some(d) => write!(f, "{}: {d}", self.error.as_str()),
            None => f.write_str(self.error.as_str()),
        }
    }
}

fn bad_request(what: &str) -> ProtocolError {
    ProtocolError::new(ErrorCode::InvalidRequest, format!("invalid {what}"))
}

#[cfg(test)]
mod tests;
