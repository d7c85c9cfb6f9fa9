//! Verification sessions: one per eligibility check, holding the policy, the fresh nonce and
//! state, and, once the wallet answered, the outcome.

use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};

use civic_credential::encoding::b64_encode;
use civic_credential::jwe::{Enc, ResponseEncryption};
use civic_credential::jwk::Jwk;
use civic_credential::oid4vp::{
    is_x509_client, sd_jwt_client_metadata, trusted_authorities, AuthorizationRequest, DcqlQuery,
    RequestLink, AKI, DID_PREFIX, DIRECT_POST, DIRECT_POST_JWT, REDIRECT_URI_PREFIX,
    REQUEST_URI_METHOD_POST,
};

use civic_credential::sd_jwt::ClaimPath;

use crate::eligibility::Eligibility;
use crate::policy::Policy;
use crate::rejection::RejectionReport;

/// The credential query id used in requests and expected in `vp_token`.
pub const QUERY_ID: &str = "residency";

/// Where a session stands in its lifecycle (not to be confused with OAuth's `state` parameter,
/// [`Session::state`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SessionStatus {
    /// Waiting for the wallet.
    Pending,
    /// A response arrived and is being checked; the nonce is used up.
    Verifying,
    /// Checked: the result.
    Complete {
        /// The eligibility result.
        eligibility: Eligibility,
    },
    /// The presentation was refused.
    Rejected {
        /// Why.
        rejection: RejectionReport,
    },
    /// The resident declined (`access_denied`).
    Declined,
}

/// One eligibility check: its request (client id, nonce, OAuth `state`) and, once the wallet
/// answered, the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Random id, also in the request and response URIs.
    pub id: String,
    /// The platform that asked.
    pub platform_id: String,
    /// The policy to check.
    pub policy: Policy,
    /// Credential types accepted.
    pub vct: Vec<String>,
    /// Every claim the request asks for: the policy's claims, the platform's pseudonym if the
    /// policy needs it, and the municipality code when a trusted issuer is restricted to some
    /// municipalities. Empty in sessions stored before this field: then the policy's paths.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requested: Vec<ClaimPath>,
    /// Our client identifier for this request (`redirect_uri:<response_uri>`).
    pub client_id: String,
    /// Where the wallet posts.
    pub response_uri: String,
    /// Where the wallet fetches the request object.
    pub request_uri: String,
    /// The `aki` values of the DCQL `trusted_authorities` (the anchors of the issuers trusted
    /// by certificate); empty when some accepted issuer is trusted otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_authorities: Vec<String>,
    /// Fresh nonce for the KB-JWT.
    pub nonce: String,
    /// Fresh OAuth `state`, echoed by the wallet.
    pub state: String,
    /// The platform page to resume on the same device, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// SHA-256 (hex) of the response code handed to the same-device redirect, once answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code_hash: Option<String>,
    /// Created at.
    pub created: i64,
    /// Expires at.
    pub expires: i64,
    /// Where it stands.
    #[serde(alias = "state_now")]
    pub status: SessionStatus,
    /// The ephemeral private key the answer is encrypted to (`direct_post.jwt`), for a session
    /// that asks for an encrypted answer; it goes with the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_key: Option<Jwk>,
}

fn random(rng: &mut impl CryptoRngCore) -> String {
    let mut b = [0u8; 32];
    rng.fill_bytes(&mut b);
    b64_encode(&b)
}

/// Where the municipality code sits: `residence.municipality_code`.
pub fn municipality_path() -> ClaimPath {
    ClaimPath::keys(["residence", "municipality_code"])
}

/// What a new session needs.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// The verifier's public base URL (for request and response URIs).
    pub base_url: &'a str,
    /// The platform.
    pub platform_id: &'a str,
    /// The policy.
    pub policy: &'a Policy,
    /// Accepted credential types (the policy's, or the trust list's).
    pub vct: Vec<String>,
    /// The `aki` values for DCQL `trusted_authorities` ([`crate::trust::TrustList::authority_key_ids`]).
    pub trusted_authorities: Vec<String>,
    /// Ask for the municipality code whatever the policy says: a trusted issuer speaks for some
    /// municipalities only, and the verifier checks it on every presentation.
    pub check_municipality: bool,
    /// Same-device resume page.
    pub redirect_uri: Option<String>,
    /// Now.
    pub now: i64,
    /// Lifetime in seconds.
    pub ttl: i64,
    /// A fixed client identifier (`decentralized_identifier:did:web:…`) for signed requests;
    /// `None` uses `redirect_uri:<response_uri>` with unsigned requests.
    pub client_id: Option<String>,
}

impl Session {
    /// A fresh session with random id, nonce and state.
    pub fn new(n: NewSession<'_>, rng: &mut impl CryptoRngCore) -> Self {
        let id = random(rng);
        let response_uri = format!("{}/v1/response/{id}", n.base_url);
        let mut requested = n.policy.requested_paths(n.platform_id);
        let municipality = municipality_path();
        if n.check_municipality && !requested.iter().any(|p| p.covers(&municipality)) {
            requested.push(municipality);
        }
        Session {
            requested,
            client_id: n
                .client_id
                .clone()
                .unwrap_or_else(|| format!("{REDIRECT_URI_PREFIX}{response_uri}")),
            request_uri: format!("{}/v1/request/{id}", n.base_url),
            response_uri,
            nonce: random(rng),
            state: random(rng),
            id,
            platform_id: n.platform_id.to_owned(),
            policy: n.policy.clone(),
            vct: n.vct,
            trusted_authorities: n.trusted_authorities,
            redirect_uri: n.redirect_uri,
            response_code_hash: None,
            created: n.now,
            expires: n.now + n.ttl,
            status: SessionStatus::Pending,
            response_key: None,
        }
    }

    /// The same session asking for its answer encrypted (`direct_post.jwt`) to a fresh
    /// ephemeral key.
    pub fn with_encrypted_response(mut self, rng: &mut impl CryptoRngCore) -> Self {
        self.response_key = Some(ResponseEncryption::generate_key(rng));
        self
    }

    /// Whether the answer must come encrypted.
    pub fn wants_encrypted_response(&self) -> bool {
        self.response_key.is_some()
    }

    /// Every claim the request asks for (see [`Session::requested`]).
    pub fn requested_paths(&self) -> Vec<ClaimPath> {
        if self.requested.is_empty() {
            self.policy.requested_paths(&self.platform_id)
        } else {
            self.requested.clone()
        }
    }

    /// The OID4VP authorization request: a DCQL query for exactly the requested claims.
    pub fn authorization_request(&self) -> AuthorizationRequest {
        let paths = self.requested_paths();
        let mut client_metadata = sd_jwt_client_metadata();
        if let (Some(key), Some(m)) = (&self.response_key, client_metadata.as_object_mut()) {
            m.extend(ResponseEncryption::client_metadata(key, &Enc::ALL));
        }
        AuthorizationRequest {
            response_type: "vp_token".into(),
            client_id: self.client_id.clone(),
            response_mode: if self.response_key.is_some() {
                DIRECT_POST_JWT
            } else {
                DIRECT_POST
            }
            .into(),
            response_uri: self.response_uri.clone(),
            nonce: self.nonce.clone(),
            state: Some(self.state.clone()),
            dcql_query: self.dcql_query(&paths),
            client_metadata: Some(client_metadata),
            aud: Some("https://self-issued.me/v2".into()),
            iat: Some(self.created),
            wallet_nonce: None,
        }
    }

    /// The DCQL query: one SD-JWT VC of an accepted type with exactly `paths`, from an issuer
    /// certified by one of the `trusted_authorities` when there are some.
    fn dcql_query(&self, paths: &[ClaimPath]) -> DcqlQuery {
        let mut query = DcqlQuery::sd_jwt_vc(QUERY_ID, &self.vct, paths);
        if !self.trusted_authorities.is_empty() {
            for c in &mut query.credentials {
                c.trusted_authorities = Some(trusted_authorities(AKI, &self.trusted_authorities));
            }
        }
        query
    }

    /// The `openid4vp://` link (or the same query on a web wallet's base URL); a signed
    /// request's link asks the wallet to fetch it by POST with a nonce (`request_uri_method`).
    pub fn link(&self, base: &str) -> String {
        RequestLink {
            client_id: self.client_id.clone(),
            request_uri: self.request_uri.clone(),
            // A signed request can carry the wallet's nonce back with integrity.
            request_uri_method: (self.client_id.starts_with(DID_PREFIX)
                || is_x509_client(&self.client_id))
            .then(|| REQUEST_URI_METHOD_POST.to_owned()),
        }
        .to_url(base)
    }
}
