//! Credential issuer metadata (OID4VCI §12.2) and OAuth authorization server metadata (RFC 8414),
//! limited to what the pre-authorized code flow with SD-JWT VC uses. Unknown members are kept out
//! of the types but tolerated when parsing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `/.well-known/openid-credential-issuer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssuerMetadata {
    /// The credential issuer identifier.
    pub credential_issuer: String,
    /// Authorization servers; absent when the issuer is its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_servers: Option<Vec<String>>,
    /// Where credentials are requested.
    pub credential_endpoint: String,
    /// Where nonces for proofs are obtained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce_endpoint: Option<String>,
    /// How many proofs one credential request may carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_credential_issuance: Option<BatchIssuance>,
    /// How to show the issuer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
    /// Credential configuration id → configuration.
    pub credential_configurations_supported: BTreeMap<String, CredentialConfiguration>,
    /// How the issuer seals credential responses when a wallet asks (OID4VCI §12.2.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_response_encryption: Option<ResponseEncryptionMetadata>,
}

/// The `typ` of signed credential issuer metadata (OID4VCI 1.0 §12.2.3).
pub const SIGNED_METADATA_TYP: &str = "openidvci-issuer-metadata+jwt";

/// The media type a wallet asks for (`Accept`) to get the metadata signed.
pub const SIGNED_METADATA_MEDIA_TYPE: &str = "application/jwt";

impl IssuerMetadata {
    /// The metadata as a signed JWT (OID4VCI 1.0 §12.2.3, HAIP 1.0 §4.1): its members, `sub`
    /// and `iss` (the credential issuer) and `iat`, signed by the issuer's certified key with its
    /// chain in `x5c`.
    pub fn to_signed_jwt(
        &self,
        iat: i64,
        signer: &dyn crate::crypto::JwsSigner,
    ) -> Result<String, crate::error::Error> {
        use crate::error::Error;
        if signer.x5c().is_none() {
            return Err(Error::Certificate(
                "signed metadata needs a certified key (x5c)",
            ));
        }
        let mut claims = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => return Err(Error::Json("issuer metadata")),
        };
        claims.insert("sub".into(), self.credential_issuer.clone().into());
        claims.insert("iss".into(), self.credential_issuer.clone().into());
        claims.insert("iat".into(), iat.into());
        crate::jws::sign(
            SIGNED_METADATA_TYP,
            crate::jws::chain_header(signer),
            &claims,
            signer,
        )
    }
}

/// `credential_response_encryption` of the issuer metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseEncryptionMetadata {
    /// Key management algorithms (`ECDH-ES`).
    pub alg_values_supported: Vec<String>,
    /// Content encryption algorithms.
    pub enc_values_supported: Vec<String>,
    /// Whether every response is sealed.
    pub encryption_required: bool,
}

/// `batch_credential_issuance`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchIssuance {
    /// The largest number of proofs in one request.
    pub batch_size: u32,
}

/// Display properties of an issuer or credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Display {
    /// The name to show.
    pub name: String,
    /// BCP 47 language tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// A longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Background colour for cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background_color: Option<String>,
    /// Text colour for cards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_color: Option<String>,
}

/// One entry of `credential_configurations_supported` for format `dc+sd-jwt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialConfiguration {
    /// `dc+sd-jwt`.
    pub format: String,
    /// The credential type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// OAuth scope for the authorization code flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `["jwk"]`: credentials are bound to a JWK.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cryptographic_binding_methods_supported: Vec<String>,
    /// The algorithms the issuer signs credentials with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_signing_alg_values_supported: Vec<String>,
    /// Proof type → accepted algorithms.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub proof_types_supported: BTreeMap<String, ProofType>,
    /// Display and claim descriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_metadata: Option<CredentialMetadata>,
}

/// The algorithms accepted for one proof type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofType {
    /// E.g. `["ES256"]`.
    pub proof_signing_alg_values_supported: Vec<String>,
}

/// `credential_metadata`: how to show the credential and its claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CredentialMetadata {
    /// The credential's name, per locale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
    /// Claim descriptions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<ClaimDescription>,
}

/// A claim's path and how to label it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimDescription {
    /// The claim path (strings, integers, null), as in DCQL.
    pub path: crate::sd_jwt::ClaimPath,
    /// Labels per locale.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display: Vec<Display>,
}

/// `/.well-known/oauth-authorization-server` (RFC 8414) for the pre-authorized code flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationServerMetadata {
    /// The authorization server identifier.
    pub issuer: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The authorization endpoint (authorization code flow).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    /// The PAR endpoint (RFC 9126).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// Whether authorization requests must be pushed (RFC 9126 §5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_pushed_authorization_requests: Option<bool>,
    /// PKCE methods (`S256` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub code_challenge_methods_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_response_iss_parameter_supported: Option<bool>,
    /// The scopes a wallet may ask for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// Supported grant types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types_supported: Vec<String>,
    /// Wallets may use the pre-authorized code without client authentication.
    #[serde(
        rename = "pre-authorized_grant_anonymous_access_supported",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub pre_authorized_grant_anonymous_access_supported: Option<bool>,
    /// Supported response types (`code`; RFC 8414 requires the member).
    #[serde(default)]
    pub response_types_supported: Vec<String>,
    /// Client authentication methods at the token endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_endpoint_auth_methods_supported: Vec<String>,
    /// The algorithms of DPoP proofs the server accepts (RFC 9449 §5.1); present when it binds
    /// tokens with DPoP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Where a resident's wallet gets a Client Attestation from this server's own wallet
    /// provider, after the passkey sign-in (a civic-id extension: the query carries
    /// `client_id`, `redirect_uri`, `state` and the public `jwk` to attest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub civic_wallet_provider_endpoint: Option<String>,
}
