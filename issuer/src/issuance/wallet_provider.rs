//! The issuer's own small wallet provider (HAIP 1.0 §4.4.1): a resident signed in with the
//! passkey asks it to vouch for the key of a registered wallet on their device, and the wallet
//! presents that Client Attestation at PAR and the token endpoint (`client_auth`).
//!
//! The attestation says "a civic-id wallet holds this key", signed with the provider's own
//! certified key (apart from the credential signing key). It names the wallet implementation
//! (`client_id`, its name) and a key the wallet makes for it, never the resident or the device,
//! and the issuer keeps no record of it: what links a wallet to a resident at issuance is the
//! resident's own sign-in, as before.

use civic_credential::crypto::{Algorithm, SigningKey, VerifyingKey};
use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::attestation::{self, Vouch};
use civic_credential::oid4vci::authorization::authorization_response;
use civic_credential::oid4vci::ErrorCode;

use super::authorize::Decided;
use super::{Issuance, IssuanceError};

/// The longest `state` and key accepted, in bytes.
const MAX_FIELD: usize = 512;

/// A wallet's request for an attestation: who it is, where the answer goes, its `state`, and
/// the public key (a JWK, as JSON) to vouch for.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AttestationRequest {
    /// A registered wallet's client id.
    pub client_id: String,
    /// One of its redirect URIs.
    pub redirect_uri: String,
    /// The wallet's `state`, returned as is.
    pub state: String,
    /// The public P-256 key (JWK JSON) the attestation binds.
    pub jwk: String,
}

/// What the resident is asked to confirm.
#[derive(Debug, Clone)]
pub struct AttestationAsked {
    /// The wallet's name.
    pub wallet: String,
    /// The origin the answer goes to.
    pub destination: String,
}

/// Reads the public P-256 key of a request: a JWK without a private part.
fn wallet_key(jwk: &str) -> Result<Jwk, IssuanceError> {
    let bad = |why: &str| IssuanceError::InvalidWalletKey(why.into());
    if jwk.len() > MAX_FIELD {
        return Err(bad("too long"));
    }
    let key: Jwk = serde_json::from_str(jwk).map_err(|_| bad("not a JWK"))?;
    if key.is_private() {
        return Err(bad("it holds a private key"));
    }
    let verifying = VerifyingKey::from_jwk(&key).map_err(|e| bad(&e.to_string()))?;
    if verifying.algorithm() != Algorithm::Es256 {
        return Err(bad("a P-256 key is required"));
    }
    Ok(key.to_public())
}

impl Issuance {
    /// The provider's certified key, if this issuer is a wallet provider.
    fn provider(&self) -> Result<&SigningKey, IssuanceError> {
        self.wallet_provider
            .as_ref()
            .ok_or(IssuanceError::NoWalletProvider)
    }

    /// Checks a wallet's request for an attestation before the resident is asked: the issuer
    /// is a wallet provider, the client and the redirect URI are registered, the key is a public
    /// P-256 key and `state` is present.
    pub fn attestation_asked(
        &self,
        req: &AttestationRequest,
    ) -> Result<AttestationAsked, IssuanceError> {
        self.provider()?;
        let client = self
            .context
            .config
            .wallet_client(&req.client_id)
            .ok_or(IssuanceError::UnknownClient)?;
        if !client.redirect_uris.iter().any(|u| u == &req.redirect_uri) {
            return Err(IssuanceError::UnregisteredRedirect);
        }
        if req.state.is_empty() || req.state.len() > MAX_FIELD {
            return Err(IssuanceError::InvalidWalletKey(
                "state must be 1 to 512 bytes".into(),
            ));
        }
        wallet_key(&req.jwk)?;
        let destination = civic_credential::origin::Origin::of(&req.redirect_uri)
            .map(|o| o.to_string())
            .map_err(|_| IssuanceError::UnregisteredRedirect)?;
        Ok(AttestationAsked {
            wallet: client.name.clone(),
            destination,
        })
    }

    /// The resident's answer: with `approve`, an attestation of the wallet's key (valid
    /// `wallet_attestation_days`) in `client_attestation`; otherwise `access_denied`. Either
    /// way with the wallet's `state` and this issuer as `iss`, to the wallet's redirect URI.
    pub fn vouch_for_wallet(
        &self,
        req: &AttestationRequest,
        approve: bool,
    ) -> Result<Decided, IssuanceError> {
        let asked = self.attestation_asked(req)?;
        let config = &self.context.config;
        let signed;
        let mut params: Vec<(&str, &str)> = Vec::new();
        if approve {
            let key = wallet_key(&req.jwk)?;
            let now = self.context.now();
            let vouch = Vouch {
                provider: &config.public_url,
                client_id: &req.client_id,
                wallet_name: &asked.wallet,
                key: &key,
                iat: now,
                exp: now + i64::from(config.wallet_attestation_days) * 86_400,
            };
            signed = attestation::issue(&vouch, self.provider()?)
                .map_err(|e| IssuanceError::Signing(e.to_string()))?;
            crate::metrics::Metrics::inc(&self.context.metrics.wallet_attestations);
            params.push(("client_attestation", &signed));
        } else {
            params.push(("error", ErrorCode::AccessDenied.as_str()));
        }
        params.push(("state", &req.state));
        Ok(Decided {
            redirect: authorization_response(&req.redirect_uri, &params, &config.public_url),
        })
    }
}
