//! Credential offers: made after a passkey sign-in (or by a clerk at the counter), served by
//! reference, redeemed once at the token endpoint.

use serde::{Deserialize, Serialize};

use civic_credential::form::percent_encode;
use civic_credential::oid4vci::{
    AuthorizationCodeGrant, CredentialOffer, Grants, OfferLocation, PreAuthorizedCodeGrant,
    TxCodeSpec,
};

use super::{Issuance, IssuanceError, RESIDENCY_CONFIGURATION};
use crate::metrics::Metrics;
use crate::secrets::{hash_hex, numeric_code, random_token};
use crate::store::{Ephemeral, StorageError};

/// What a resident (or a clerk) gets when an offer is made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferCreated {
    /// The offer, by value.
    pub credential_offer: CredentialOffer,
    /// Where the wallet can fetch it.
    pub credential_offer_uri: String,
    /// `openid-credential-offer://?credential_offer_uri=…`, for the QR code and same-device links.
    pub openid_credential_offer_url: String,
    /// The agency's suggested web wallet link, if configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wallet_link: Option<String>,
    /// The offer URL as a QR code (SVG); empty should it not fit in one.
    pub qr_svg: String,
    /// The transaction code to type into the wallet, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// When the pre-authorized code expires.
    pub expires_at: i64,
}

/// A pre-authorized code as stored (under its hash) until it is redeemed.
#[derive(Serialize, Deserialize)]
pub(super) struct PreAuthorized {
    pub(super) register_id: String,
    /// The hash of the offer id: the key of the stored offer.
    pub(super) offer_key: String,
    pub(super) tx_code_hash: Option<String>,
    #[serde(default)]
    pub(super) wrong_tx_codes: u32,
    pub(super) expires: i64,
    /// The hash of the offer's `issuer_state`, when it also has the authorization code grant:
    /// the offer is used up by whichever grant is used first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) issuer_state_key: Option<String>,
}

/// The `issuer_state` of an offer with the authorization code grant, as stored (under its hash):
/// whose offer it is, and the offer's other keys, to use it all up at once.
#[derive(Serialize, Deserialize)]
pub(super) struct IssuerState {
    pub(super) register_id: String,
    pub(super) offer_key: String,
    pub(super) code_key: String,
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StorageError> {
    serde_json::to_vec(value).map_err(|e| StorageError::corrupt(format!("encoding: {e}")))
}

/// The pre-authorized code of offer `offer_id`, derived from it (HMAC-SHA256 keyed with the id):
/// the store keeps only hashes of both, so reading the database gives neither the code nor the
/// link that leads to it.
fn pre_authorized_code(offer_id: &str) -> String {
    derived(offer_id, b"civic-id pre-authorized code v1")
}

/// The `issuer_state` of offer `offer_id`, derived from it like [`pre_authorized_code`].
fn issuer_state(offer_id: &str) -> String {
    derived(offer_id, b"civic-id issuer_state v1")
}

fn derived(offer_id: &str, label: &[u8]) -> String {
    civic_credential::encoding::b64_encode(&civic_credential::crypto::hmac_sha256(
        offer_id.as_bytes(),
        &[label],
    ))
}

impl Issuance {
    /// Creates a single-use credential offer for a resident.
    pub fn create_offer(
        &self,
        register_id: &str,
        actor: &str,
    ) -> Result<OfferCreated, IssuanceError> {
        let context = &self.context;
        let now = context.now();
        let resident = context
            .store
            .resident(register_id)?
            .ok_or(IssuanceError::NoSuchResident)?;
        if let Some(blocker) = self.blocker(&resident, now)? {
            return Err(blocker.into());
        }
        let offer_id = random_token();
        let code = pre_authorized_code(&offer_id);
        let tx_code = context.config.tx_code.then(|| numeric_code(6));
        let expires = now + i64::from(context.config.offer_ttl_secs);
        // With wallets to serve, the offer also has the authorization code grant (HAIP 1.0
        // §4.2): a wallet may take it there instead, signing the resident in at the issuer.
        let state = (!context.config.wallet_clients.is_empty()).then(|| issuer_state(&offer_id));
        let grant = PreAuthorized {
            register_id: register_id.to_owned(),
            offer_key: hash_hex(&offer_id),
            tx_code_hash: tx_code.as_deref().map(hash_hex),
            wrong_tx_codes: 0,
            expires,
            issuer_state_key: state.as_deref().map(hash_hex),
        };
        let offer = CredentialOffer {
            credential_issuer: context.config.public_url.clone(),
            credential_configuration_ids: vec![RESIDENCY_CONFIGURATION.into()],
            grants: Some(Grants {
                authorization_code: state.as_ref().map(|s| AuthorizationCodeGrant {
                    issuer_state: Some(s.clone()),
                }),
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code: code.clone(),
                    tx_code: tx_code.as_ref().map(|c| TxCodeSpec {
                        input_mode: Some("numeric".into()),
                        length: u32::try_from(c.len()).ok(),
                        description: Some("The 6-digit code shown next to the QR code".into()),
                    }),
                }),
            }),
        };
        let store = &context.store;
        // Stored without its secrets (see `pre_authorized_code`), under the hash of its id.
        let mut stored = offer.clone();
        set_secrets(&mut stored, None);
        store.put_ephemeral(
            Ephemeral::OfferById,
            &hash_hex(&offer_id),
            &encode(&stored)?,
            expires,
        )?;
        store.put_ephemeral(
            Ephemeral::PreAuthorizedCode,
            &hash_hex(&code),
            &encode(&grant)?,
            expires,
        )?;
        if let Some(state) = &state {
            let stored = IssuerState {
                register_id: register_id.to_owned(),
                offer_key: hash_hex(&offer_id),
                code_key: hash_hex(&code),
            };
            store.put_ephemeral(
                Ephemeral::IssuerState,
                &hash_hex(state),
                &encode(&stored)?,
                expires,
            )?;
        }
        let credential_offer_uri = context.config.url(&format!("/offers/{offer_id}"));
        let url = OfferLocation::ByReference(credential_offer_uri.clone())
            .to_url()
            .map_err(|e| IssuanceError::Signing(e.to_string()))?;
        let wallet_link = context.config.wallet_url.as_ref().map(|w| {
            format!(
                "{w}?credential_offer_uri={}",
                percent_encode(&credential_offer_uri)
            )
        });
        Metrics::inc(&context.metrics.offers);
        context.audit(actor, "offer_created", Some(register_id), "")?;
        Ok(OfferCreated {
            credential_offer: offer,
            // An offer is a few hundred bytes; should one not fit a QR code, the same-device
            // link still works.
            qr_svg: civic_credential::qr::svg(&url).unwrap_or_default(),
            openid_credential_offer_url: url,
            credential_offer_uri,
            wallet_link,
            tx_code,
            expires_at: expires,
        })
    }

    /// The offer behind a `credential_offer_uri`, while its code is unused.
    pub fn offer_by_id(&self, offer_id: &str) -> Result<CredentialOffer, IssuanceError> {
        if offer_id.len() > 64 {
            return Err(IssuanceError::NoSuchOffer);
        }
        let bytes = self
            .context
            .store
            .get_ephemeral(
                Ephemeral::OfferById,
                &hash_hex(offer_id),
                self.context.now(),
            )?
            .ok_or(IssuanceError::NoSuchOffer)?;
        let mut offer: CredentialOffer =
            serde_json::from_slice(&bytes).map_err(|_| IssuanceError::NoSuchOffer)?;
        set_secrets(&mut offer, Some(offer_id));
        Ok(offer)
    }
}

/// Puts the secrets derived from `offer_id` into a stored offer (`None`: takes them out).
fn set_secrets(offer: &mut CredentialOffer, offer_id: Option<&str>) {
    let Some(grants) = offer.grants.as_mut() else {
        return;
    };
    if let Some(g) = grants.pre_authorized_code.as_mut() {
        g.pre_authorized_code = offer_id.map(pre_authorized_code).unwrap_or_default();
    }
    if let Some(g) = grants.authorization_code.as_mut() {
        g.issuer_state = offer_id.map(issuer_state);
    }
}
