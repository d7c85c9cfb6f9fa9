//! Verifiers that identify themselves with an X.509 certificate (OpenID4VP §5.9.3, HAIP 1.0):
//! `x509_hash:<base64url SHA-256 of the leaf>` and `x509_san_dns:<DNS name>` client identifiers,
//! whose request objects are signed with the leaf's key and carry the chain in `x5c`.
//!
//! The wallet ([`AuthorizationRequest::from_jwt_with_x5c`]) checks, in this order:
//! - the signature, with the leaf's key;
//! - the client identifier against the leaf (its hash, or one of its DNS names);
//! - the `response_uri`'s host against the leaf's names, so answers go only where the
//!   certificate says the verifier is;
//! - the chain to the trust anchors the wallet is configured with (the municipality's platform
//!   registry).
//!
//! The first three are the request's own consistency: a request that fails one is refused. The
//! last is trust: a request that fails only it is still readable, but the verifier is
//! [`CertifiedVerifier::Unanchored`]; the consent screen says it is not authenticated, and it
//! gets no pseudonym ([`crate::pseudonym::bound_platform`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AuthorizationRequest, REQUEST_OBJECT_TYP};
use crate::crypto::JwsSigner;
use crate::error::{Error, Result};
use crate::jws::{self, Jws};
use crate::origin::Origin;
use crate::x509::{chain_from_header, verify_chain, x5c_value, Certificate};

/// The Client Identifier Prefix for a verifier named by the hash of its certificate.
pub const X509_HASH_PREFIX: &str = "x509_hash:";
/// The Client Identifier Prefix for a verifier named by a DNS name in its certificate.
pub const X509_SAN_DNS_PREFIX: &str = "x509_san_dns:";

/// Whether `client_id` names a verifier by its certificate.
pub fn is_x509_client(client_id: &str) -> bool {
    client_id.starts_with(X509_HASH_PREFIX) || client_id.starts_with(X509_SAN_DNS_PREFIX)
}

/// What a wallet established about a certificate verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "trust")]
pub enum CertifiedVerifier {
    /// The chain leads to a trust anchor: the verifier is who the certificate says.
    Anchored {
        /// The certificate's organization (else common name), for people.
        name: String,
        /// The platform the verifier is: the origin of its `response_uri`, whose host the
        /// certificate names. Its pseudonym is the one it may ask for.
        platform: String,
    },
    /// The request is consistent, but its chain does not lead to a trust anchor.
    Unanchored {
        /// Why not, for the consent screen.
        reason: String,
    },
}

impl AuthorizationRequest {
    /// The request as a request object signed by `signer`, the key of `chain`'s first
    /// certificate, with `chain` (DER, leaf first, without the trust anchor) in `x5c`.
    pub fn to_signed_jwt_x5c(&self, signer: &dyn JwsSigner, chain: &[Vec<u8>]) -> Result<String> {
        let payload = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => return Err(Error::Json("authorization request")),
        };
        let mut header = Map::new();
        header.insert("x5c".into(), x5c_value(chain));
        jws::sign(REQUEST_OBJECT_TYP, header, &payload, signer)
    }

    /// Reads the signed request object of an `x509_hash:` or `x509_san_dns:` client (see the
    /// module documentation for the checks), with `anchors` the wallet's trust anchors and `now`
    /// the time in seconds.
    pub fn from_jwt_with_x5c(
        jwt: &str,
        anchors: &[Certificate],
        now: i64,
    ) -> Result<(Self, CertifiedVerifier)> {
        let jws = Jws::parse(jwt)?;
        let chain = chain_from_header(&jws.header)?.ok_or(Error::MissingClaim("x5c"))?;
        let leaf = chain.first().ok_or(Error::MissingClaim("x5c"))?;
        let request = Self::from_jwt(jwt, Some(&leaf.verifying_key()?))?;
        let named = if let Some(hash) = request.client_id.strip_prefix(X509_HASH_PREFIX) {
            hash == leaf.x509_hash()
        } else if let Some(host) = request.client_id.strip_prefix(X509_SAN_DNS_PREFIX) {
            leaf.names_host(host)
                && Origin::of(&request.response_uri).is_ok_and(|o| o.host() == host)
        } else {
            false
        };
        if !named {
            return Err(Error::InvalidClaim(
                "client_id is not the certificate that signed the request",
            ));
        }
        let response_to =
            Origin::of(&request.response_uri).map_err(|_| Error::InvalidClaim("response_uri"))?;
        if !leaf.names_host(response_to.host()) {
            return Err(Error::InvalidClaim(
                "response_uri is not on a host the certificate names",
            ));
        }
        let trust = match verify_chain(&chain, anchors, now) {
            Ok(leaf) => CertifiedVerifier::Anchored {
                name: leaf.display_name().unwrap_or(response_to.host()).to_owned(),
                platform: response_to.to_string(),
            },
            Err(e) => CertifiedVerifier::Unanchored {
                reason: e.to_string(),
            },
        };
        Ok((request, trust))
    }
}
