//! [`Issuance`]: OID4VCI 1.0 at the issuer: credential offers, the pre-authorized code token
//! endpoint, nonces, and the batch credential endpoint. The protocol's messages and checks
//! (proof JWTs, offer and token forms) come from `civic_credential::oid4vci`; this module adds
//! the issuer's state and policy, and says what went wrong in [`IssuanceError`].

pub mod authorize;
pub mod client_auth;
mod credential;
pub mod dpop;
mod encryption;
pub mod nonce;
mod offer;
mod times;
mod token;
pub mod wallet_provider;

use std::sync::Arc;

use civic_credential::residency::{Date, ResidentRecord};

use crate::context::{Context, KeysUnavailable};
pub use crate::store::Blocker;
use crate::store::{Resident, StorageError, StoreResult};

pub use credential::CredentialAnswer;
pub use offer::OfferCreated;

use nonce::NonceKey;

/// The credential configuration id of the residency credential.
pub const RESIDENCY_CONFIGURATION: &str = "residency_sd_jwt";

/// Why an issuance step failed, in the words of OID4VCI's steps. The HTTP layer picks the
/// protocol error code and status for each.
#[derive(Debug, thiserror::Error)]
pub enum IssuanceError {
    /// No resident with this register id.
    #[error("no such resident")]
    NoSuchResident,
    /// The resident may not receive a credential now.
    #[error("{0}")]
    Denied(Blocker),
    /// No such offer, or it expired or was used.
    #[error("no such offer, or it has expired or been used")]
    NoSuchOffer,
    /// The token request is not a pre-authorized code grant.
    #[error("only the pre-authorized code grant is supported")]
    UnsupportedGrant,
    /// The token request lacks a usable `pre-authorized_code`.
    #[error("pre-authorized_code is required")]
    MissingCode,
    /// The pre-authorized code is unknown, used or expired.
    #[error("the pre-authorized code is unknown, used or expired")]
    UnknownCode,
    /// The transaction code is wrong.
    #[error("the transaction code is wrong ({tries_left} tries left)")]
    WrongTxCode {
        /// Tries left before the offer is void.
        tries_left: u32,
    },
    /// No access token was sent.
    #[error("a Bearer access token is required")]
    MissingToken,
    /// The access token is unknown or expired.
    #[error("the access token is unknown or expired")]
    UnknownToken,
    /// The access token was presented under the wrong scheme: a DPoP-bound token as Bearer, or
    /// a Bearer token as DPoP.
    #[error("present this access token with the {expected} scheme")]
    TokenScheme {
        /// The scheme the token is for.
        expected: &'static str,
    },
    /// The DPoP proof is missing or refused (RFC 9449).
    #[error(transparent)]
    Dpop(#[from] civic_credential::dpop::DpopError),
    /// A malformed authorization request (PAR).
    #[error("{0}")]
    Authorization(civic_credential::oid4vci::ProtocolError),
    /// The wallet is not one this issuer serves.
    #[error("unknown client_id")]
    UnknownClient,
    /// The redirect URI is not one of the wallet's.
    #[error("redirect_uri is not one registered for this client")]
    UnregisteredRedirect,
    /// The scope names no credential this issuer offers.
    #[error("the scope names no credential of this issuer")]
    UnknownScope,
    /// The `request_uri` is unknown, used, expired, or another client's.
    #[error("the request_uri is unknown, used or expired")]
    UnknownRequestUri,
    /// The request came from an offer made for another resident than the one signed in.
    #[error("this offer was made for another resident")]
    OfferOfAnotherResident,
    /// The `issuer_state` is not one this issuer handed out, or expired.
    #[error("the issuer_state is unknown or expired")]
    UnknownIssuerState,
    /// The authorization code is unknown, used, expired, or another client's, or was sent to
    /// another redirect URI.
    #[error("the authorization code is unknown, used, expired or not this client's")]
    UnknownAuthorizationCode,
    /// The configuration requires a client attestation and the request carries none.
    #[error("a wallet attestation (OAuth-Client-Attestation and -PoP) is required")]
    ClientAttestationRequired,
    /// The client attestation or its PoP is refused.
    #[error("the wallet attestation is refused: {0}")]
    InvalidClientAttestation(String),
    /// This issuer runs no wallet provider (`wallet_provider_certificate` is not configured).
    #[error("this issuer does not vouch for wallets")]
    NoWalletProvider,
    /// The key a wallet asks an attestation for is not usable.
    #[error("the wallet's key is refused: {0}")]
    InvalidWalletKey(String),
    /// A refresh token grant without a refresh token.
    #[error("refresh_token is required")]
    MissingRefreshToken,
    /// The refresh token is unknown, used, expired, or another wallet's.
    #[error("the refresh token is unknown, used, expired or not this client's")]
    UnknownRefreshToken,
    /// The PKCE code verifier does not match the challenge.
    #[error("the code_verifier does not match the code_challenge")]
    PkceMismatch,
    /// The credential request is not valid JSON of the right shape.
    #[error("malformed credential request: {0}")]
    MalformedRequest(String),
    /// The request asks for an encrypted response this issuer cannot make.
    #[error("credential_response_encryption: {0}")]
    EncryptionParameters(String),
    /// The request names a `credential_identifier` (this issuer uses configuration ids).
    #[error("use credential_configuration_id")]
    IdentifierUnsupported,
    /// The request names no `credential_configuration_id`.
    #[error("credential_configuration_id is required")]
    MissingConfiguration,
    /// The request names a configuration this issuer does not offer.
    #[error("not offered by this issuer")]
    UnknownConfiguration,
    /// The request uses the single `proof` form.
    #[error("send proofs as `proofs.jwt`")]
    SingleProofUnsupported,
    /// The request carries no proof.
    #[error("at least one proof in `proofs.jwt` is required")]
    NoProof,
    /// More proofs than the batch size.
    #[error("at most {max} proofs per request")]
    TooManyProofs {
        /// The configured batch size.
        max: u32,
    },
    /// A proof JWT failed its checks.
    #[error("proof {index}: {reason}")]
    InvalidProof {
        /// Which proof (0-based).
        index: usize,
        /// Why.
        reason: String,
    },
    /// Two proofs use the same holder key: each copy needs its own.
    #[error("each copy needs its own holder key")]
    SharedHolderKey,
    /// A proof has no `nonce`.
    #[error("proof {index} has no nonce")]
    MissingNonce {
        /// Which proof (0-based).
        index: usize,
    },
    /// The proofs carry different nonces.
    #[error("all proofs must carry the same c_nonce")]
    MixedNonces,
    /// The nonce has expired.
    #[error("the c_nonce has expired")]
    ExpiredNonce,
    /// The nonce was not made by this issuer.
    #[error("the c_nonce is not one of ours")]
    ForeignNonce,
    /// The nonce was spent already (or expired while the batch was recorded).
    #[error("the c_nonce is unknown, used or expired")]
    SpentNonce,
    /// Signing a credential failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The key ring cannot be used.
    #[error(transparent)]
    Keys(#[from] KeysUnavailable),
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl From<civic_credential::oid4vci::ProtocolError> for IssuanceError {
    fn from(e: civic_credential::oid4vci::ProtocolError) -> Self {
        IssuanceError::Authorization(e)
    }
}

impl From<Blocker> for IssuanceError {
    fn from(b: Blocker) -> Self {
        IssuanceError::Denied(b)
    }
}

/// OID4VCI issuance.
pub struct Issuance {
    context: Arc<Context>,
    nonces: NonceKey,
    dpop_nonces: NonceKey,
    /// The trusted wallet providers' anchors (`wallet_provider_anchors`).
    provider_anchors: Vec<civic_credential::x509::Certificate>,
    /// For each of `provider_anchors`, the file it was read from.
    provider_anchor_files: Vec<String>,
    /// The key of the issuer's own wallet provider, with its chain, if it runs one.
    wallet_provider: Option<civic_credential::crypto::SigningKey>,
}

impl Issuance {
    /// Issuance over the shared context; the nonce keys are derived from the issuer's secret.
    pub fn new(context: Arc<Context>) -> Result<Self, KeysUnavailable> {
        let secret = context.keys()?.pseudonym_secret().to_vec();
        // Checked when the configuration was read.
        let (provider_anchors, provider_anchor_files) = context
            .config
            .wallet_provider_anchor_der
            .iter()
            .zip(&context.config.wallet_provider_anchor_files)
            .filter_map(|(der, file)| {
                civic_credential::x509::Certificate::parse(der)
                    .ok()
                    .map(|c| (c, file.clone()))
            })
            .unzip();
        // Also checked when the configuration was read.
        let wallet_provider = context
            .config
            .wallet_provider_pem
            .as_ref()
            .and_then(|p| civic_service::certificate::certified_key(&p.chain, &p.key).ok())
            .map(|(key, _)| key);
        Ok(Issuance {
            wallet_provider,
            nonces: NonceKey::derive(&secret),
            dpop_nonces: NonceKey::derive_dpop(&secret),
            provider_anchors,
            provider_anchor_files,
            context,
        })
    }

    /// Why `resident` may not receive a credential at `now`, if they may not.
    pub fn blocker(&self, resident: &Resident, now: i64) -> StoreResult<Option<Blocker>> {
        blocker(&self.context, resident, now)
    }
}

/// Why `resident` may not receive a credential at `now`, if they may not.
pub(crate) fn blocker(
    context: &Context,
    resident: &Resident,
    now: i64,
) -> StoreResult<Option<Blocker>> {
    if resident.removed_at.is_some() {
        return Ok(Some(Blocker::LeftRegister));
    }
    if context
        .store
        .resident_block(&resident.register_id)?
        .is_some()
    {
        return Ok(Some(Blocker::RevokedOrSuspended));
    }
    match Date::parse(&resident.valid_until) {
        Ok(d) if d.to_unix() + 86_400 > now => Ok(None),
        _ => Ok(Some(Blocker::RegistrationExpired)),
    }
}

/// The credential model's view of a register entry.
pub fn resident_record(r: &Resident) -> Result<ResidentRecord, civic_credential::Error> {
    Ok(ResidentRecord {
        given_name: r.given_name.clone(),
        family_name: r.family_name.clone(),
        birthdate: Date::parse(&r.birthdate)?,
        address: r.address.clone(),
        residence: r.residence.clone(),
        resident_since: Date::parse(&r.resident_since)?,
    })
}
