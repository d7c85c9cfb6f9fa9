//! DPoP at the issuer (RFC 9449): server nonces, one use per proof, and access tokens bound to
//! the wallet's key. The proof itself is checked by `civic_credential::dpop`.
//!
//! Nonces are stateless (`DPoP-Nonce`, a MAC over an expiry, like `c_nonce`): handing one out
//! writes nothing, and every instance with the issuer's keys accepts every other's. A proof's
//! `jti` is recorded (in the instance's store) until the proof is too old to be accepted anyway,
//! so a captured proof cannot be played again.

use civic_credential::dpop::{self, DpopError, Expectation, VerifiedDpop};

use super::{Issuance, IssuanceError};
use crate::secrets::hash_hex;
use crate::store::Ephemeral;

/// The endpoints that take DPoP proofs, by path.
pub const TOKEN_PATH: &str = "/token";
/// The path of the PAR endpoint (a DPoP proof there binds the code).
pub const PAR_PATH: &str = "/par";
/// The credential endpoint.
pub const CREDENTIAL_PATH: &str = "/credential";

/// The DPoP algorithms this issuer accepts (those `civic_credential::crypto` verifies).
pub const DPOP_ALGS: [&str; 2] = ["ES256", "EdDSA"];

/// How a request presented its access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// No access token.
    Nothing,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: DPoP <token>`.
    Dpop(String),
}

impl Presented {
    /// The token, whatever the scheme.
    pub fn token(&self) -> Option<&str> {
        match self {
            Presented::Nothing => None,
            Presented::Bearer(t) | Presented::Dpop(t) => Some(t),
        }
    }
}

impl Issuance {
    /// A fresh `DPoP-Nonce`, for every answer of the token and credential endpoints.
    pub fn dpop_nonce(&self) -> String {
        let expires = self.context.now() + i64::from(self.context.config.dpop_nonce_ttl_secs);
        self.dpop_nonces.mint(expires, &mut rand::rngs::OsRng)
    }

    /// Checks the DPoP proof of a POST to `path` (`proofs`: the values of its `DPoP` headers;
    /// exactly one is required) presenting `access_token`, if any: the proof itself, a nonce of
    /// ours, and that its `jti` was never seen. Returns the proof's key thumbprint.
    pub(super) fn check_dpop(
        &self,
        proofs: &[String],
        path: &str,
        access_token: Option<&str>,
    ) -> Result<VerifiedDpop, IssuanceError> {
        let [proof] = proofs else {
            return Err(DpopError::Missing.into());
        };
        let config = &self.context.config;
        let now = self.context.now();
        let max_age = i64::from(config.proof_max_age_secs);
        let clock_skew = i64::from(config.clock_skew_secs);
        let verified = dpop::verify(
            proof,
            &Expectation {
                htm: "POST",
                htu: &config.url(path),
                now,
                max_age,
                clock_skew,
                access_token,
            },
        )?;
        let ours = verified
            .nonce
            .as_deref()
            .is_some_and(|n| self.dpop_nonces.check(n, now).is_ok());
        if !ours {
            return Err(DpopError::NonceRequired.into());
        }
        // Until the proof is too old anyway; keyed by key and jti, so two wallets that picked
        // the same jti do not collide.
        let seen = hash_hex(&format!("{}.{}", verified.jkt, verified.jti));
        let until = verified.iat + max_age + clock_skew + 1;
        let first = self
            .context
            .store
            .claim_ephemeral(Ephemeral::DpopProof, &seen, until, now)?;
        if !first {
            return Err(DpopError::Replayed.into());
        }
        Ok(verified)
    }

    /// Checks that `presented` may use an access token granted under `jkt` (the thumbprint of
    /// the key it is bound to; `None` for a Bearer token) at the credential endpoint.
    pub(super) fn check_binding(
        &self,
        jkt: Option<&str>,
        presented: &Presented,
        proofs: &[String],
    ) -> Result<(), IssuanceError> {
        match (jkt, presented) {
            (Some(bound), Presented::Dpop(token)) => {
                let proof = self.check_dpop(proofs, CREDENTIAL_PATH, Some(token))?;
                if proof.jkt == bound {
                    Ok(())
                } else {
                    Err(DpopError::WrongKey.into())
                }
            }
            (Some(_), _) => Err(IssuanceError::TokenScheme { expected: "DPoP" }),
            (None, Presented::Bearer(_)) => Ok(()),
            (None, _) => Err(IssuanceError::TokenScheme { expected: "Bearer" }),
        }
    }
}
