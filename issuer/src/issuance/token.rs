//! The token endpoint: a pre-authorized code (and its transaction code), an authorization code
//! or a refresh token ([`super::authorize`]), for an access token.

use serde::{Deserialize, Serialize};

use civic_credential::encoding::ct_eq;
use civic_credential::oid4vci::authorization::{AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT};
use civic_credential::oid4vci::{TokenRequest, TokenResponse, PRE_AUTHORIZED_GRANT};

use super::authorize::token_response;
use super::client_auth::AttestationHeaders;
use super::offer::{encode, PreAuthorized};
use super::{Issuance, IssuanceError};
use crate::metrics::Metrics;
use crate::secrets::{hash_hex, random_token};
use crate::store::Ephemeral;

/// Wrong transaction codes allowed per offer before it is void.
const TX_CODE_TRIES: u32 = 3;

/// An access token as stored (under its hash). It is single-use: the credential request that
/// succeeds with it spends it.
#[derive(Serialize, Deserialize)]
pub(super) struct AccessGrant {
    pub(super) register_id: String,
    /// When it expires (to put it back after a failed request).
    #[serde(default)]
    pub(super) expires: i64,
    /// The thumbprint of the DPoP key it is bound to; `None` for a Bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) jkt: Option<String>,
}

/// What a grant gives: the resident, the DPoP key the token is bound to, and whether a refresh
/// token goes with it (for whom, and until when it may refresh).
pub(super) struct Granted {
    pub(super) register_id: String,
    pub(super) jkt: Option<String>,
    pub(super) refresh: Option<RefreshBasis>,
}

/// The wallet a refresh token is for, and the end of the resident's authorization.
pub(super) struct RefreshBasis {
    pub(super) client_id: String,
    pub(super) until: i64,
    /// The wallet provider that authenticated the wallet, if one did: refreshes need it too.
    pub(super) attested_by: Option<String>,
}

/// A refresh token as stored (under its hash): single use, each use gives the next one.
#[derive(Serialize, Deserialize)]
pub(super) struct RefreshGrant {
    #[serde(default)]
    pub(super) attested_by: Option<String>,
    pub(super) register_id: String,
    pub(super) client_id: String,
    pub(super) jkt: String,
    pub(super) until: i64,
}

impl Issuance {
    /// The token endpoint: a pre-authorized code (and transaction code), an authorization code
    /// (with its PKCE verifier) or a refresh token, for an access token bound to the key of the
    /// request's DPoP proof (`dpop_proofs`, the values of its `DPoP` headers), or a Bearer token
    /// when it sent none and the configuration allows them. The authorization code and refresh
    /// token grants also give the next refresh token, bound to the same key.
    /// The authorization code and refresh token grants authenticate the wallet by its client
    /// attestation (`attestation`) where it sends one or the configuration requires it; the
    /// pre-authorized code grant is anonymous.
    pub fn token(
        &self,
        req: &TokenRequest,
        dpop_proofs: &[String],
        attestation: &AttestationHeaders,
    ) -> Result<TokenResponse, IssuanceError> {
        let granted = match req.grant_type.as_str() {
            PRE_AUTHORIZED_GRANT => self.redeem_pre_authorized(req, dpop_proofs)?,
            AUTHORIZATION_CODE_GRANT => self.redeem_code(req, dpop_proofs, attestation)?,
            REFRESH_TOKEN_GRANT => self.redeem_refresh(req, dpop_proofs, attestation)?,
            _ => return Err(IssuanceError::UnsupportedGrant),
        };
        let context = &self.context;
        let token = random_token();
        let ttl = context.config.access_token_ttl_secs;
        let now = context.now();
        let expires = now + i64::from(ttl);
        let access = encode(&AccessGrant {
            register_id: granted.register_id.clone(),
            expires,
            jkt: granted.jkt.clone(),
        })?;
        context
            .store
            .put_ephemeral(Ephemeral::AccessToken, &hash_hex(&token), &access, expires)?;
        let refresh_token = match (granted.refresh, &granted.jkt) {
            (Some(basis), Some(jkt)) if basis.until > now => {
                let refresh = random_token();
                let stored = RefreshGrant {
                    attested_by: basis.attested_by,
                    register_id: granted.register_id.clone(),
                    client_id: basis.client_id,
                    jkt: jkt.clone(),
                    until: basis.until,
                };
                context.store.put_ephemeral(
                    Ephemeral::RefreshToken,
                    &hash_hex(&refresh),
                    &encode(&stored)?,
                    basis.until,
                )?;
                Some(refresh)
            }
            _ => None,
        };
        Metrics::inc(&context.metrics.tokens);
        context.audit("wallet", "token_issued", Some(&granted.register_id), "")?;
        let mut response = token_response(token, granted.jkt.is_some(), ttl);
        response.refresh_token = refresh_token;
        Ok(response)
    }

    /// A pre-authorized code (and transaction code): the code is taken atomically, so only one
    /// request ever redeems it; a wrong transaction code puts it back with one try less.
    /// Returns the resident and the DPoP key thumbprint.
    fn redeem_pre_authorized(
        &self,
        req: &TokenRequest,
        dpop_proofs: &[String],
    ) -> Result<Granted, IssuanceError> {
        let code = req
            .pre_authorized_code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or(IssuanceError::MissingCode)?;
        // The proof before the code: a wallet sent back for a nonce has not spent its code.
        let jkt = self.token_binding(dpop_proofs)?;
        let store = &self.context.store;
        let now = self.context.now();
        let key = hash_hex(code);
        let bytes = store
            .take_ephemeral(Ephemeral::PreAuthorizedCode, &key, now)?
            .ok_or(IssuanceError::UnknownCode)?;
        let mut grant: PreAuthorized =
            serde_json::from_slice(&bytes).map_err(|_| IssuanceError::UnknownCode)?;
        if let Some(expected) = &grant.tx_code_hash {
            let given = req.tx_code.as_deref().map(hash_hex).unwrap_or_default();
            if !ct_eq(given.as_bytes(), expected.as_bytes()) {
                grant.wrong_tx_codes += 1;
                let tries_left = TX_CODE_TRIES.saturating_sub(grant.wrong_tx_codes);
                if tries_left > 0 {
                    store.put_ephemeral(
                        Ephemeral::PreAuthorizedCode,
                        &key,
                        &encode(&grant)?,
                        grant.expires,
                    )?;
                } else {
                    // The offer is void, by either grant.
                    store.take_ephemeral(Ephemeral::OfferById, &grant.offer_key, now)?;
                    if let Some(state) = &grant.issuer_state_key {
                        store.take_ephemeral(Ephemeral::IssuerState, state, now)?;
                    }
                }
                return Err(IssuanceError::WrongTxCode { tries_left });
            }
        }
        // One grant per offer, even when the other is tried at the same moment.
        if !store.claim_ephemeral(Ephemeral::OfferUsed, &grant.offer_key, grant.expires, now)? {
            return Err(IssuanceError::UnknownCode);
        }
        store.take_ephemeral(Ephemeral::OfferById, &grant.offer_key, now)?;
        if let Some(state) = &grant.issuer_state_key {
            store.take_ephemeral(Ephemeral::IssuerState, state, now)?;
        }
        // A counter-service offer gives no refresh token: the next batch is another visit.
        Ok(Granted {
            register_id: grant.register_id,
            jkt,
            refresh: None,
        })
    }
}
