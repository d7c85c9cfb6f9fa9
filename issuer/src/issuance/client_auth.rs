//! Wallets authenticating with a wallet provider's attestation (OAuth attestation-based client
//! authentication, HAIP 1.0 §4.4.1) at PAR and the token endpoint. The attestation and its PoP
//! are checked by `civic_credential::oid4vci::attestation`; this module adds the policy
//! (`client_attestation`: optional or required), the anchors of the trusted wallet providers,
//! and one use per PoP.

use civic_credential::oid4vci::attestation::{self, AttestedClient, Expectation};
use civic_credential::x509::Certificate;

use super::{Issuance, IssuanceError};
use crate::config::AttestationPolicy;
use crate::secrets::hash_hex;
use crate::store::Ephemeral;

/// The values of a request's `OAuth-Client-Attestation` and `-PoP` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttestationHeaders {
    /// `OAuth-Client-Attestation` values.
    pub attestation: Vec<String>,
    /// `OAuth-Client-Attestation-PoP` values.
    pub pop: Vec<String>,
}

impl Issuance {
    /// Checks the client attestation a request of `client_id` carries, if any: `None` when it
    /// carries none and none is required. The PoP is not recorded yet: see
    /// [`Issuance::spend_attestation_pop`].
    pub(super) fn check_client(
        &self,
        headers: &AttestationHeaders,
        client_id: Option<&str>,
    ) -> Result<Option<AttestedClient>, IssuanceError> {
        let config = &self.context.config;
        let invalid = |why: String| IssuanceError::InvalidClientAttestation(why);
        let (attestation, pop) = match (headers.attestation.as_slice(), headers.pop.as_slice()) {
            ([], []) => {
                return match config.client_attestation {
                    AttestationPolicy::Required => Err(IssuanceError::ClientAttestationRequired),
                    AttestationPolicy::Optional => Ok(None),
                }
            }
            ([a], [p]) => (a, p),
            _ => return Err(invalid("one attestation and one PoP are required".into())),
        };
        let now = self.context.now();
        let expect = |anchors| Expectation {
            anchors,
            audience: &config.public_url,
            now,
            max_age: i64::from(config.proof_max_age_secs),
            clock_skew: i64::from(config.clock_skew_secs),
        };
        let attested = attestation::verify(attestation, pop, &expect(&self.provider_anchors))
            .map_err(|e| invalid(e.to_string()))?;
        if client_id.is_some_and(|c| c != attested.client_id) {
            return Err(invalid("client_id is not the attestation's sub".into()));
        }
        // A wallet registered with its own providers: the chain must lead to one of theirs.
        if let Some(own) = self.own_provider_anchors(&attested.client_id) {
            attestation::verify(attestation, pop, &expect(&own)).map_err(|_| {
                invalid("this wallet is vouched for only by its own wallet providers".into())
            })?;
        }
        Ok(Some(attested))
    }

    /// The anchors of the providers a registered wallet lists (`wallet_providers`), if it
    /// lists any.
    fn own_provider_anchors(&self, client_id: &str) -> Option<Vec<Certificate>> {
        let own = &self
            .context
            .config
            .wallet_client(client_id)?
            .wallet_providers;
        (!own.is_empty()).then(|| {
            self.provider_anchors
                .iter()
                .zip(&self.provider_anchor_files)
                .filter(|(_, file)| own.contains(file))
                .map(|(anchor, _)| anchor.clone())
                .collect()
        })
    }

    /// Records the PoP of a checked attestation: a PoP works once.
    pub(super) fn spend_attestation_pop(
        &self,
        attested: &AttestedClient,
    ) -> Result<(), IssuanceError> {
        let key = hash_hex(&format!("{}.{}", attested.client_id, attested.pop_jti));
        let first = self.context.store.claim_ephemeral(
            Ephemeral::AttestationPop,
            &key,
            attested.pop_until,
            self.context.now(),
        )?;
        if first {
            Ok(())
        } else {
            Err(IssuanceError::InvalidClientAttestation(
                "the PoP was used before".into(),
            ))
        }
    }
}
