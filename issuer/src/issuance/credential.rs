//! The nonce and credential endpoints: every proof is checked, then one credential is issued per
//! proof (a batch of single-use copies), each with its own holder key and random status index.

use std::collections::{BTreeMap, HashSet};

use civic_credential::crypto::JwsSigner;
use civic_credential::jwk::Jwk;
use civic_credential::oid4vci::attestation::verify_key_attestation;
use civic_credential::oid4vci::{
    verify_proof, CredentialRequest, CredentialResponse, IssuedCredential, NonceResponse,
    ProofExpectation,
};
use civic_credential::pseudonym::pairwise_pseudonym;
use civic_credential::residency::{Date, ResidencyClaims};
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_credential::status_list::{StatusListRef, StatusReference};

use super::dpop::Presented;
use super::encryption::ResponseSealer;
use super::nonce::NonceError;
use super::times::copy_times;
use super::token::AccessGrant;
use super::{resident_record, Blocker, Issuance, IssuanceError, RESIDENCY_CONFIGURATION};
use crate::metrics::Metrics;
use crate::secrets::hash_hex;
use crate::store::{Allocation, Ephemeral, NewBatch};

/// Decoy digests per `_sd` array.
const DECOYS: usize = 2;

/// The nonce the proofs carried, with its expiry.
type SpentNonce = Option<(String, i64)>;

/// The credential endpoint's answer: the response as JSON, or sealed to the wallet's key.
#[derive(Debug)]
pub enum CredentialAnswer {
    /// `application/json`.
    Plain(CredentialResponse),
    /// A JWE (`application/jwt`), when the wallet asked for `credential_response_encryption`.
    Sealed(String),
}

/// A holder key a proof showed possession of, with its thumbprint.
struct Holder {
    key: Jwk,
    thumbprint: String,
}

impl Issuance {
    /// The nonce endpoint: a fresh single-use `c_nonce`. Nothing is written: the nonce carries
    /// its own expiry under a MAC, and is recorded as spent when a credential request uses it.
    pub fn nonce(&self) -> NonceResponse {
        let expires = self.context.now() + i64::from(self.context.config.nonce_ttl_secs);
        NonceResponse {
            c_nonce: self.nonces.mint(expires, &mut rand::rngs::OsRng),
        }
    }

    /// The credential endpoint: checks the access token (and, for a DPoP-bound one, the
    /// request's proof in `dpop_proofs`), the request and every proof of possession, and issues
    /// one credential per proof.
    pub fn credential(
        &self,
        presented: &Presented,
        dpop_proofs: &[String],
        body: &[u8],
    ) -> Result<CredentialAnswer, IssuanceError> {
        let now = self.context.now();
        let token = presented.token().ok_or(IssuanceError::MissingToken)?;
        let store = &self.context.store;
        let key = hash_hex(token);
        // Read first: a request sent back for a DPoP nonce leaves the token as it was.
        let grant: AccessGrant = store
            .get_ephemeral(Ephemeral::AccessToken, &key, now)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(IssuanceError::UnknownToken)?;
        self.check_binding(grant.jkt.as_deref(), presented, dpop_proofs)?;
        // Then taken, so two requests never spend it both; a request that fails puts it back,
        // one that succeeds has spent it.
        let bytes = store
            .take_ephemeral(Ephemeral::AccessToken, &key, now)?
            .ok_or(IssuanceError::UnknownToken)?;
        let issued = self.credential_with(&grant, body, now);
        if issued.is_err() {
            if let Err(e) = store.put_ephemeral(Ephemeral::AccessToken, &key, &bytes, grant.expires)
            {
                tracing::warn!(error = %e, "an access token could not be put back after a failed request");
            }
        }
        issued
    }

    fn credential_with(
        &self,
        grant: &AccessGrant,
        body: &[u8],
        now: i64,
    ) -> Result<CredentialAnswer, IssuanceError> {
        let req: CredentialRequest = serde_json::from_slice(body)
            .map_err(|e| IssuanceError::MalformedRequest(e.to_string()))?;
        // Checked first: an answer that could not be sealed must not spend the token or nonce.
        let sealer = req
            .credential_response_encryption
            .as_ref()
            .map(ResponseSealer::from_request)
            .transpose()?;
        let jwts = self.proof_jwts(req)?;
        let (holders, nonce) = self.check_proofs(&jwts, now)?;
        let response = self.issue_batch(&grant.register_id, nonce, holders, now)?;
        match sealer {
            None => Ok(CredentialAnswer::Plain(response)),
            Some(sealer) => {
                let json = serde_json::to_vec(&response)
                    .map_err(|e| IssuanceError::Signing(format!("the response: {e}")))?;
                Ok(CredentialAnswer::Sealed(sealer.seal(&json)?))
            }
        }
    }

    /// The proof JWTs of a request for the residency credential.
    fn proof_jwts(&self, req: CredentialRequest) -> Result<Vec<String>, IssuanceError> {
        if req.credential_identifier.is_some() {
            return Err(IssuanceError::IdentifierUnsupported);
        }
        match req.credential_configuration_id.as_deref() {
            Some(RESIDENCY_CONFIGURATION) => {}
            Some(_) => return Err(IssuanceError::UnknownConfiguration),
            None => return Err(IssuanceError::MissingConfiguration),
        }
        if req.proof.is_some() {
            return Err(IssuanceError::SingleProofUnsupported);
        }
        let jwts = req.proofs.map(|p| p.jwt).unwrap_or_default();
        if jwts.is_empty() {
            return Err(IssuanceError::NoProof);
        }
        let max = self.context.config.batch_size;
        if jwts.len() > max as usize {
            return Err(IssuanceError::TooManyProofs { max });
        }
        Ok(jwts)
    }

    /// Checks every proof: signature, audience and age, one shared nonce of ours, and a distinct
    /// holder key each. Returns the holder keys and the nonce with its expiry.
    fn check_proofs(
        &self,
        jwts: &[String],
        now: i64,
    ) -> Result<(Vec<Holder>, SpentNonce), IssuanceError> {
        let config = &self.context.config;
        let expect = ProofExpectation {
            aud: &config.public_url,
            now,
            max_age: i64::from(config.proof_max_age_secs),
            clock_skew: i64::from(config.clock_skew_secs),
        };
        let mut holders = Vec::with_capacity(jwts.len());
        let mut nonce: Option<String> = None;
        let mut seen = HashSet::new();
        for (index, jwt) in jwts.iter().enumerate() {
            let invalid = |reason: String| IssuanceError::InvalidProof { index, reason };
            let proof = verify_proof(jwt, &expect).map_err(|e| {
                Metrics::inc(&self.context.metrics.invalid_proofs);
                invalid(e.to_string())
            })?;
            let n = proof.nonce.ok_or(IssuanceError::MissingNonce { index })?;
            if nonce.get_or_insert_with(|| n.clone()) != &n {
                return Err(IssuanceError::MixedNonces);
            }
            let thumbprint = proof
                .holder_key
                .thumbprint()
                .map_err(|e| invalid(e.to_string()))?;
            // A key attestation, when the wallet sends one, must vouch for this key.
            if let Some(attestation) = &proof.key_attestation {
                let attested = verify_key_attestation(
                    attestation,
                    &self.provider_anchors,
                    Some(&n),
                    now,
                    i64::from(config.clock_skew_secs),
                )
                .map_err(|e| invalid(format!("key attestation: {e}")))?;
                if !attested.contains(&thumbprint) {
                    return Err(invalid(
                        "the key attestation does not attest this key".into(),
                    ));
                }
            }
            if !seen.insert(thumbprint.clone()) {
                return Err(IssuanceError::SharedHolderKey);
            }
            holders.push(Holder {
                key: proof.holder_key,
                thumbprint,
            });
        }
        let nonce = match nonce {
            Some(n) => {
                let expires = self.nonces.check(&n, now).map_err(|e| match e {
                    NonceError::Expired => IssuanceError::ExpiredNonce,
                    NonceError::Unknown => IssuanceError::ForeignNonce,
                })?;
                Some((n, expires))
            }
            None => None,
        };
        Ok((holders, nonce))
    }

    fn issue_batch(
        &self,
        register_id: &str,
        nonce: SpentNonce,
        holders: Vec<Holder>,
        now: i64,
    ) -> Result<CredentialResponse, IssuanceError> {
        let context = &self.context;
        let config = &context.config;
        let resident = context
            .store
            .resident(register_id)?
            .ok_or(Blocker::NotOnRegister)?;
        let record = resident_record(&resident).map_err(|_| Blocker::IncompleteEntry)?;
        let valid_until_end = Date::parse(&resident.valid_until)
            .map(|d| d.to_unix() + 86_400)
            .unwrap_or(now);
        let exp = (now + i64::from(config.credential_validity_days) * 86_400).min(valid_until_end);
        // Each copy its own `iat` and `exp` (see `times`): copies of a batch are not linkable
        // by their times.
        let times = copy_times(holders.len(), now, exp, &mut rand::thread_rng())
            .ok_or(Blocker::RegistrationExpired)?;
        let secret = context.keys()?.pseudonym_secret().to_vec();
        let pseudonyms: BTreeMap<String, String> = context
            .store
            .platforms()?
            .into_iter()
            .map(|p| {
                let value = pairwise_pseudonym(&secret, &p.id, register_id);
                (p.id, value)
            })
            .collect();
        let claims = ResidencyClaims::new(&record, Date::from_unix(now), pseudonyms);
        let paths = claims.disclosable_paths();
        let claims = claims
            .to_claims()
            .map_err(|e| IssuanceError::Signing(e.to_string()))?;
        let vct = config.vct();
        context.with_signer(|signer| {
            let kid = signer.key_id().unwrap_or_default().to_owned();
            let batch = NewBatch {
                register_id: register_id.to_owned(),
                nonce: nonce.clone(),
                kid: kid.clone(),
                iat: now,
                exp,
                holder_thumbprints: holders.iter().map(|h| h.thumbprint.clone()).collect(),
                list_size: config.status_list_size,
            };
            let records = match context.store.allocate_credentials(&batch, now)? {
                Allocation::Allocated(r) => r,
                Allocation::NonceInvalid => return Err(IssuanceError::SpentNonce),
                Allocation::Denied(why) => return Err(why.into()),
            };
            // Salts and decoys: the thread's CSPRNG (ChaCha, seeded and reseeded from the OS),
            // rather than one system call per salt.
            let mut rng = rand::thread_rng();
            let credentials = records
                .iter()
                .zip(&holders)
                .zip(&times)
                .map(|((rec, holder), time)| {
                    let spec = CredentialSpec {
                        issuer: &config.public_url,
                        vct: &vct,
                        iat: time.iat,
                        nbf: None,
                        exp: time.exp,
                        holder_key: &holder.key,
                        status: Some(StatusReference {
                            status_list: StatusListRef {
                                idx: u64::from(rec.idx),
                                uri: config.status_list_uri(rec.list),
                            },
                        }),
                        claims: claims.clone(),
                        disclosable: &paths,
                        decoys: DECOYS,
                    };
                    sd_jwt_vc::issue(&spec, signer, &mut rng)
                        .map(|credential| IssuedCredential { credential })
                        .map_err(|e| IssuanceError::Signing(e.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            for _ in &credentials {
                Metrics::inc(&context.metrics.credentials);
            }
            let placed = records
                .iter()
                .map(|r| format!("{}:{}", r.list, r.idx))
                .collect::<Vec<_>>()
                .join(",");
            context.audit(
                "wallet",
                "issued",
                Some(register_id),
                format!("kid={kid} status={placed}"),
            )?;
            Ok(CredentialResponse { credentials })
        })
    }
}
