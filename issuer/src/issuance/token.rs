//! The token endpoint: a pre-authorized code (and its transaction code) for an access token.

use serde::{Deserialize, Serialize};

use civic_credential::encoding::ct_eq;
use civic_credential::oid4vci::{TokenRequest, TokenResponse, PRE_AUTHORIZED_GRANT};

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
}

impl Issuance {
    /// Redeems a pre-authorized code (and transaction code) for an access token. The code is
    /// taken atomically, so only one request ever redeems it; a wrong transaction code puts it
    /// back with one try less.
    pub fn token(&self, req: &TokenRequest) -> Result<TokenResponse, IssuanceError> {
        if req.grant_type != PRE_AUTHORIZED_GRANT {
            return Err(IssuanceError::UnsupportedGrant);
        }
        let code = req
            .pre_authorized_code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or(IssuanceError::MissingCode)?;
        let context = &self.context;
        let store = &context.store;
        let now = context.now();
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
                    store.take_ephemeral(Ephemeral::OfferById, &grant.offer_key, now)?;
                }
                return Err(IssuanceError::WrongTxCode { tries_left });
            }
        }
        store.take_ephemeral(Ephemeral::OfferById, &grant.offer_key, now)?;
        let token = random_token();
        let ttl = context.config.access_token_ttl_secs;
        let expires = now + i64::from(ttl);
        let access = encode(&AccessGrant {
            register_id: grant.register_id.clone(),
            expires,
        })?;
        store.put_ephemeral(Ephemeral::AccessToken, &hash_hex(&token), &access, expires)?;
        Metrics::inc(&context.metrics.tokens);
        context.audit("wallet", "token_issued", Some(&grant.register_id), "")?;
        Ok(TokenResponse {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: u64::from(ttl),
        })
    }
}
