//! OID4VCI issuance: credential offers, the pre-authorized code token endpoint, nonces, and the
//! batch credential endpoint. Protocol checks (proof JWTs, message shapes) come from
//! `civic_credential::oid4vci`; this module adds the issuer's state and policy.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use civic_credential::oid4vci::{
    verify_proof, CredentialOffer, CredentialRequest, CredentialResponse, ErrorCode, Grants,
    IssuedCredential, NonceResponse, OfferLocation, PreAuthorizedCodeGrant, ProofExpectation,
    ProtocolError, TokenRequest, TokenResponse, TxCodeSpec, PRE_AUTHORIZED_GRANT,
};
use civic_credential::pseudonym::pairwise_pseudonym;
use civic_credential::residency::{Date, ResidencyClaims, ResidentRecord};
use civic_credential::sd_jwt_vc::{self, CredentialSpec};
use civic_credential::status_list::{StatusListRef, StatusReference};

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::nonce::NonceError;

use crate::secrets::{hash_hex, numeric_code, random_token};
use crate::service::{now, Issuer};
use crate::store::{Allocation, Ephemeral, NewBatch, Resident};
use crate::trust::RESIDENCY_CONFIGURATION;

/// Decoy digests per `_sd` array.
const DECOYS: usize = 2;
/// Wrong transaction codes allowed per offer before it is void.
const TX_CODE_TRIES: u32 = 3;

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
    /// The offer URL as a QR code (SVG).
    pub qr_svg: String,
    /// The transaction code to type into the wallet, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_code: Option<String>,
    /// When the pre-authorized code expires.
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
struct PreAuthorized {
    register_id: String,
    offer_id: String,
    tx_code_hash: Option<String>,
    #[serde(default)]
    wrong_tx_codes: u32,
    expires: i64,
}

#[derive(Serialize, Deserialize)]
struct AccessGrant {
    register_id: String,
}

fn protocol(code: ErrorCode, msg: impl Into<String>) -> ApiError {
    ProtocolError::new(code, msg).into()
}

/// Why a resident may not get a credential right now, if they may not.
pub fn issuance_blocker(
    issuer: &Issuer,
    resident: &Resident,
    now: i64,
) -> Result<Option<&'static str>, ApiError> {
    if resident.removed_at.is_some() {
        return Ok(Some("no longer on the register"));
    }
    if issuer
        .store
        .resident_block(&resident.register_id)?
        .is_some()
    {
        return Ok(Some("credentials are revoked or suspended"));
    }
    match Date::parse(&resident.valid_until) {
        Ok(d) if d.to_unix() + 86_400 > now => Ok(None),
        _ => Ok(Some("the registration has expired")),
    }
}

impl Issuer {
    /// Creates a single-use credential offer for a resident (after a passkey login, or by a clerk).
    pub fn create_offer(&self, register_id: &str, actor: &str) -> Result<OfferCreated, ApiError> {
        let t = now();
        let resident = self
            .store
            .resident(register_id)?
            .ok_or_else(|| ApiError::not_found("no such resident"))?;
        if let Some(why) = issuance_blocker(self, &resident, t)? {
            return Err(protocol(ErrorCode::CredentialRequestDenied, why));
        }
        let code = random_token();
        let offer_id = random_token();
        let tx_code = self.config.tx_code.then(|| numeric_code(6));
        let expires = t + i64::from(self.config.offer_ttl_secs);
        let grant = PreAuthorized {
            register_id: register_id.to_owned(),
            offer_id: offer_id.clone(),
            tx_code_hash: tx_code.as_deref().map(hash_hex),
            wrong_tx_codes: 0,
            expires,
        };
        let offer = CredentialOffer {
            credential_issuer: self.config.public_url.clone(),
            credential_configuration_ids: vec![RESIDENCY_CONFIGURATION.into()],
            grants: Some(Grants {
                pre_authorized_code: Some(PreAuthorizedCodeGrant {
                    pre_authorized_code: code.clone(),
                    tx_code: tx_code.as_ref().map(|c| TxCodeSpec {
                        input_mode: Some("numeric".into()),
                        length: Some(c.len() as u32),
                        description: Some("The 6-digit code shown next to the QR code".into()),
                    }),
                }),
            }),
        };
        let grant_json = serde_json::to_vec(&grant)
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))?;
        let offer_json = serde_json::to_vec(&offer)
            .map_err(|_| ApiError::new(503, "temporarily_unavailable", "encoding"))?;
        self.store
            .put_ephemeral(Ephemeral::OfferById, &offer_id, &offer_json, expires)?;
        self.store.put_ephemeral(
            Ephemeral::PreAuthorizedCode,
            &hash_hex(&code),
            &grant_json,
            expires,
        )?;
        let credential_offer_uri = self.config.url(&format!("/offers/{offer_id}"));
        let url = OfferLocation::ByReference(credential_offer_uri.clone()).to_url();
        let wallet_link = self.config.wallet_url.as_ref().map(|w| {
            format!(
                "{w}?credential_offer_uri={}",
                civic_credential::form::percent_encode(&credential_offer_uri)
            )
        });
        Metrics::inc(&self.metrics.offers);
        self.audit(actor, "offer_created", Some(register_id), "")?;
        Ok(OfferCreated {
            credential_offer: offer,
            qr_svg: crate::qr::svg(&url),
            openid_credential_offer_url: url,
            credential_offer_uri,
            wallet_link,
            tx_code,
            expires_at: expires,
        })
    }

    /// The offer behind a `credential_offer_uri`, while its code is unused.
    pub fn offer_by_id(&self, offer_id: &str) -> Result<serde_json::Value, ApiError> {
        let bytes = self
            .store
            .get_ephemeral(Ephemeral::OfferById, offer_id, now())?
            .ok_or_else(|| ApiError::not_found("no such offer, or it has expired or been used"))?;
        serde_json::from_slice(&bytes).map_err(|_| ApiError::not_found("no such offer"))
    }

    /// The token endpoint: redeems a pre-authorized code (and tx_code) for an access token.
    pub fn token(&self, req: &TokenRequest) -> Result<TokenResponse, ApiError> {
        if req.grant_type != PRE_AUTHORIZED_GRANT {
            return Err(protocol(
                ErrorCode::UnsupportedGrantType,
                "only the pre-authorized code grant is supported",
            ));
        }
        let code = req
            .pre_authorized_code
            .as_deref()
            .filter(|c| !c.is_empty() && c.len() <= 256)
            .ok_or_else(|| {
                protocol(ErrorCode::InvalidRequest, "pre-authorized_code is required")
            })?;
        let t = now();
        let key = hash_hex(code);
        let bytes = self
            .store
            .take_ephemeral(Ephemeral::PreAuthorizedCode, &key, t)?
            .ok_or_else(|| {
                protocol(
                    ErrorCode::InvalidGrant,
                    "the pre-authorized code is unknown, used or expired",
                )
            })?;
        let mut grant: PreAuthorized = serde_json::from_slice(&bytes).map_err(|_| {
            protocol(
                ErrorCode::InvalidGrant,
                "the pre-authorized code is unknown",
            )
        })?;
        if let Some(expected) = &grant.tx_code_hash {
            let given = req.tx_code.as_deref().map(hash_hex).unwrap_or_default();
            if !crate::secrets::ct_eq(given.as_bytes(), expected.as_bytes()) {
                grant.wrong_tx_codes += 1;
                let left = TX_CODE_TRIES.saturating_sub(grant.wrong_tx_codes);
                if left > 0 {
                    if let Ok(b) = serde_json::to_vec(&grant) {
                        self.store.put_ephemeral(
                            Ephemeral::PreAuthorizedCode,
                            &key,
                            &b,
                            grant.expires,
                        )?;
                    }
                } else {
                    self.store
                        .take_ephemeral(Ephemeral::OfferById, &grant.offer_id, t)?;
                }
                return Err(protocol(
                    ErrorCode::InvalidGrant,
                    format!("the transaction code is wrong ({left} tries left)"),
                ));
            }
        }
        self.store
            .take_ephemeral(Ephemeral::OfferById, &grant.offer_id, t)?;
        let token = random_token();
        let ttl = self.config.access_token_ttl_secs;
        let access = serde_json::to_vec(&AccessGrant {
            register_id: grant.register_id.clone(),
        })
        .map_err(|_| protocol(ErrorCode::InvalidGrant, "encoding"))?;
        self.store.put_ephemeral(
            Ephemeral::AccessToken,
            &hash_hex(&token),
            &access,
            t + i64::from(ttl),
        )?;
        Metrics::inc(&self.metrics.tokens);
        self.audit("wallet", "token_issued", Some(&grant.register_id), "")?;
        Ok(TokenResponse {
            access_token: token,
            token_type: "Bearer".into(),
            expires_in: u64::from(ttl),
        })
    }

    /// The nonce endpoint: a fresh single-use `c_nonce`. Nothing is written: the nonce carries
    /// its own expiry under a MAC, and is recorded as spent when a credential request uses it.
    pub fn nonce(&self) -> NonceResponse {
        let expires = now() + i64::from(self.config.nonce_ttl_secs);
        NonceResponse {
            c_nonce: self.nonces.mint(expires, &mut rand::rngs::OsRng),
        }
    }

    /// The credential endpoint: verifies every proof and issues one credential per proof.
    pub fn credential(
        &self,
        access_token: Option<&str>,
        body: &[u8],
    ) -> Result<CredentialResponse, ApiError> {
        let t = now();
        let token = access_token.ok_or_else(|| {
            protocol(ErrorCode::InvalidToken, "a Bearer access token is required")
        })?;
        let grant: AccessGrant = self
            .store
            .get_ephemeral(Ephemeral::AccessToken, &hash_hex(token), t)?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                protocol(
                    ErrorCode::InvalidToken,
                    "the access token is unknown or expired",
                )
            })?;
        let req: CredentialRequest = serde_json::from_slice(body).map_err(|e| {
            protocol(
                ErrorCode::InvalidCredentialRequest,
                format!("malformed credential request: {e}"),
            )
        })?;
        if req.credential_response_encryption.is_some() {
            return Err(protocol(
                ErrorCode::InvalidEncryptionParameters,
                "response encryption is not supported",
            ));
        }
        if req.credential_identifier.is_some() {
            return Err(protocol(
                ErrorCode::InvalidCredentialRequest,
                "use credential_configuration_id",
            ));
        }
        match req.credential_configuration_id.as_deref() {
            Some(RESIDENCY_CONFIGURATION) => {}
            Some(_) => {
                return Err(protocol(
                    ErrorCode::UnknownCredentialConfiguration,
                    "not offered by this issuer",
                ))
            }
            None => {
                return Err(protocol(
                    ErrorCode::InvalidCredentialRequest,
                    "credential_configuration_id is required",
                ))
            }
        }
        if req.proof.is_some() {
            return Err(protocol(
                ErrorCode::InvalidProof,
                "send proofs as `proofs.jwt`",
            ));
        }
        let jwts = req.proofs.map(|p| p.jwt).unwrap_or_default();
        if jwts.is_empty() {
            return Err(protocol(
                ErrorCode::InvalidProof,
                "at least one proof in `proofs.jwt` is required",
            ));
        }
        if jwts.len() > self.config.batch_size as usize {
            return Err(protocol(
                ErrorCode::InvalidCredentialRequest,
                format!("at most {} proofs per request", self.config.batch_size),
            ));
        }
        let expect = ProofExpectation {
            aud: &self.config.public_url,
            now: t,
            max_age: i64::from(self.config.proof_max_age_secs),
            clock_skew: i64::from(self.config.clock_skew_secs),
        };
        let mut holders = Vec::with_capacity(jwts.len());
        let mut nonce: Option<String> = None;
        let mut seen = HashSet::new();
        for (i, jwt) in jwts.iter().enumerate() {
            let proof = verify_proof(jwt, &expect).map_err(|e| {
                Metrics::inc(&self.metrics.invalid_proofs);
                protocol(ErrorCode::InvalidProof, format!("proof {i}: {e}"))
            })?;
            let n = proof.nonce.ok_or_else(|| {
                protocol(ErrorCode::InvalidNonce, format!("proof {i} has no nonce"))
            })?;
            if nonce.get_or_insert_with(|| n.clone()) != &n {
                return Err(protocol(
                    ErrorCode::InvalidNonce,
                    "all proofs must carry the same c_nonce",
                ));
            }
            let thumb = proof
                .holder_key
                .thumbprint()
                .map_err(|e| protocol(ErrorCode::InvalidProof, format!("proof {i}: {e}")))?;
            if !seen.insert(thumb.clone()) {
                return Err(protocol(
                    ErrorCode::InvalidProof,
                    "each copy needs its own holder key",
                ));
            }
            holders.push((proof.holder_key, thumb));
        }
        let nonce = match nonce {
            Some(n) => {
                let expires = self.nonces.check(&n, t).map_err(|e| {
                    protocol(
                        ErrorCode::InvalidNonce,
                        match e {
                            NonceError::Expired => "the c_nonce has expired",
                            NonceError::Unknown => "the c_nonce is not one of ours",
                        },
                    )
                })?;
                Some((n, expires))
            }
            None => None,
        };
        self.issue_batch(&grant.register_id, nonce, holders, t)
    }

    fn issue_batch(
        &self,
        register_id: &str,
        nonce: Option<(String, i64)>,
        holders: Vec<(civic_credential::jwk::Jwk, String)>,

        t: i64,
    ) -> Result<CredentialResponse, ApiError> {
        let resident = self
            .store
            .resident(register_id)?
            .ok_or_else(|| protocol(ErrorCode::CredentialRequestDenied, "not on the register"))?;
        let record = resident_record(&resident).map_err(|_| {
            protocol(
                ErrorCode::CredentialRequestDenied,
                "the register entry is incomplete",
            )
        })?;
        let valid_until_end = Date::parse(&resident.valid_until)
            .map(|d| d.to_unix() + 86_400)
            .unwrap_or(t);
        let exp =
            (t + i64::from(self.config.credential_validity_days) * 86_400).min(valid_until_end);
        if exp <= t {
            return Err(protocol(
                ErrorCode::CredentialRequestDenied,
                "the registration has expired",
            ));
        }
        let secret = self.keys()?.pseudonym_secret().to_vec();
        let pseudonyms: BTreeMap<String, String> = self
            .store
            .platforms()?
            .into_iter()
            .map(|p| {
                let value = pairwise_pseudonym(&secret, &p.id, register_id);
                (p.id, value)
            })
            .collect();
        let claims = ResidencyClaims::new(&record, Date::from_unix(t), pseudonyms);
        let paths = claims.disclosable_paths();
        let claims = claims
            .to_claims()
            .map_err(|_| protocol(ErrorCode::CredentialRequestDenied, "claims"))?;
        let vct = self.config.vct();
        self.with_signer(|signer| {
            let kid = civic_credential::crypto::JwsSigner::key_id(signer)
                .unwrap_or_default()
                .to_owned();
            let batch = NewBatch {
                register_id: register_id.to_owned(),
                nonce: nonce.clone(),
                kid: kid.clone(),
                iat: t,
                exp,
                holder_thumbprints: holders.iter().map(|(_, th)| th.clone()).collect(),
                list_size: self.config.status_list_size,
            };
            let records = match self.store.allocate_credentials(&batch, t)? {
                Allocation::Allocated(r) => r,
                Allocation::NonceInvalid => {
                    return Err(protocol(
                        ErrorCode::InvalidNonce,
                        "the c_nonce is unknown, used or expired",
                    ))
                }
                Allocation::Denied(why) => {
                    return Err(protocol(ErrorCode::CredentialRequestDenied, why))
                }
            };
            // Salts and decoys: the thread's CSPRNG (ChaCha, seeded and reseeded from the OS),
            // rather than one system call per salt.
            let mut rng = rand::thread_rng();
            let issued = records.iter().zip(&holders).map(|(rec, (holder, _))| {
                let spec = CredentialSpec {
                    issuer: &self.config.public_url,
                    vct: &vct,
                    iat: t,
                    nbf: None,
                    exp,
                    holder_key: holder,
                    status: Some(StatusReference {
                        status_list: StatusListRef {
                            idx: u64::from(rec.idx),
                            uri: self.status_list_uri(rec.list),
                        },
                    }),
                    claims: claims.clone(),
                    disclosable: &paths,
                    decoys: DECOYS,
                };
                sd_jwt_vc::issue(&spec, signer, &mut rng)
                    .map(|credential| IssuedCredential { credential })
                    .map_err(|e| {
                        ApiError::new(
                            503,
                            "temporarily_unavailable",
                            format!("signing failed: {e}"),
                        )
                    })
            });
            let credentials = issued.collect::<Result<Vec<_>, _>>()?;
            for _ in &credentials {
                Metrics::inc(&self.metrics.credentials);
            }
            let where_ = records
                .iter()
                .map(|r| format!("{}:{}", r.list, r.idx))
                .collect::<Vec<_>>()
                .join(",");
            self.audit(
                "wallet",
                "issued",
                Some(register_id),
                format!("kid={kid} status={where_}"),
            )?;
            Ok(CredentialResponse { credentials })
        })
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
