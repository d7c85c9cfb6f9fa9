//! [`Rejection`]: exactly which rule a presentation broke.

use serde::Serialize;

/// Why a presentation was not accepted. `rule()` names the rule for APIs and logs; the message
/// never contains disclosed claim values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The response is not a well-formed `vp_token`.
    #[error("malformed response: {0}")]
    MalformedResponse(String),
    /// No presentation answers the credential query.
    #[error("no presentation for credential query {0:?}")]
    MissingPresentation(String),
    /// More than one presentation where one was asked for.
    #[error("more than one presentation for credential query {0:?}")]
    TooManyPresentations(String),
    /// The issuer is not on the trust list.
    #[error("issuer {0:?} is not on the trust list")]
    UntrustedIssuer(String),
    /// The credential type is not accepted from this issuer (or by this policy).
    #[error("credential type {0:?} is not accepted from this issuer")]
    VctNotAllowed(String),
    /// The issuer is not trusted for the disclosed municipality.
    #[error("the issuer is not trusted for municipality {0:?}")]
    MunicipalityNotAllowed(String),
    /// The issuer speaks for some municipalities only, and the municipality code was not
    /// disclosed.
    #[error("the issuer is trusted for some municipalities only, and the municipality code was not disclosed")]
    MunicipalityNotDisclosed,
    /// The issuer's keys could not be obtained (the reason is for the log only).
    #[error("the issuer's keys could not be obtained")]
    IssuerKeysUnavailable(String),
    /// The credential or its key binding failed a check (signature, typ, times, disclosures,
    /// nonce, audience, sd_hash, …); the inner error names the rule.
    #[error("{0}")]
    Credential(#[from] civic_credential::Error),
    /// The credential has been revoked.
    #[error("the credential has been revoked")]
    Revoked,
    /// The credential is suspended.
    #[error("the credential is suspended")]
    Suspended,
    /// The status list has a value this verifier does not accept.
    #[error("the credential's status is {0}")]
    UnknownStatus(u8),
    /// The status list could not be fetched or verified (and the verifier fails closed). The
    /// reason is for the log only: the message outward is fixed (a fetch error could tell a
    /// wallet about the verifier's network).
    #[error("the credential's status could not be checked")]
    StatusUnavailable(String),
    /// The policy needs the platform pseudonym and it was not disclosed.
    #[error("the pseudonym for this platform was not disclosed")]
    PseudonymMissing,
    /// The session is unknown, finished, or its nonce already used.
    #[error("the session is not waiting for a response (replayed or finished)")]
    SessionNotPending,
    /// The session expired before the response came.
    #[error("the session has expired")]
    SessionExpired,
    /// `state` does not match the session.
    #[error("state does not match the request")]
    StateMismatch,
}

/// A rejection as platforms see it: a stable rule name and a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RejectionReport {
    /// Stable snake_case rule name, e.g. `key_binding_nonce`, `revoked`.
    pub rule: String,
    /// Human-readable explanation.
    pub message: String,
}

impl Rejection {
    /// The stable name of the broken rule.
    pub fn rule(&self) -> &'static str {
        use civic_credential::Error as E;
        match self {
            Rejection::MalformedResponse(_) => "malformed_response",
            Rejection::MissingPresentation(_) => "missing_presentation",
            Rejection::TooManyPresentations(_) => "too_many_presentations",
            Rejection::UntrustedIssuer(_) => "untrusted_issuer",
            Rejection::VctNotAllowed(_) => "vct_not_allowed",
            Rejection::MunicipalityNotAllowed(_) => "municipality_not_allowed",
            Rejection::MunicipalityNotDisclosed => "municipality_not_disclosed",
            Rejection::IssuerKeysUnavailable(_) => "issuer_keys_unavailable",
            Rejection::Revoked => "revoked",
            Rejection::Suspended => "suspended",
            Rejection::UnknownStatus(_) => "unknown_status",
            Rejection::StatusUnavailable(_) => "status_unavailable",
            Rejection::PseudonymMissing => "pseudonym_missing",
            Rejection::SessionNotPending => "replayed_or_finished",
            Rejection::SessionExpired => "session_expired",
            Rejection::StateMismatch => "state_mismatch",
            Rejection::Credential(e) => match e {
                E::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
                E::AlgorithmKeyMismatch { .. } => "algorithm_key_mismatch",
                E::InvalidSignature => "invalid_signature",
                E::UnexpectedType { .. } => "unexpected_typ",
                E::IssuerKeyNotFound { .. } => "issuer_key_not_found",
                E::KidNotBoundToIssuer { .. } => "kid_not_bound_to_issuer",
                E::Certificate(_) => "issuer_certificate",
                E::Expired => "expired",
                E::NotYetValid => "not_yet_valid",
                E::IssuedInFuture => "issued_in_future",
                E::VctMismatch(_) => "vct_mismatch",
                E::KeyBindingMissing => "key_binding_missing",
                E::MissingHolderKey => "holder_key_missing",
                E::KeyBindingAudienceMismatch => "key_binding_audience",
                E::KeyBindingNonceMismatch => "key_binding_nonce",
                E::KeyBindingSdHashMismatch => "key_binding_sd_hash",
                E::KeyBindingIatOutOfWindow => "key_binding_iat",
                E::UnreferencedDisclosure(_) => "unreferenced_disclosure",
                E::DuplicateDigest(_) => "duplicate_disclosure",
                E::ReservedClaimName(_) => "reserved_claim_name",
                E::ClaimNameCollision(_) => "claim_name_collision",
                E::DisclosureKindMismatch(_) => "disclosure_kind_mismatch",
                E::MalformedDisclosure(_) => "malformed_disclosure",
                E::NonDisclosableClaim(_) => "non_disclosable_claim",
                E::TooLarge(_) => "too_large",
                E::Base64(_) => "invalid_base64url",
                E::Json(_) => "invalid_json",
                E::MalformedJws(_) | E::MalformedSdJwt(_) => "malformed_sd_jwt",
                _ => "invalid_credential",
            },
        }
    }

    /// The report given to platforms.
    pub fn report(&self) -> RejectionReport {
        RejectionReport {
            rule: self.rule().to_owned(),
            message: self.to_string(),
        }
    }
}
