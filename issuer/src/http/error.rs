//! The one place where the issuer's domain errors become HTTP answers: each step's error enum
//! gets its status and its protocol error code here, and nowhere else.

use axum::http::StatusCode;

use civic_credential::oid4vci::{ErrorCode, ProtocolError};
use civic_service::ApiError;

use crate::account::AccountError;
use crate::context::{KeysUnavailable, RotationError};
use crate::enrollment::EnrollmentError;
use crate::issuance::IssuanceError;
use crate::passkeys::PasskeyError;
use crate::platforms::PlatformError;
use crate::status::StatusError;
use civic_credential::dpop::DPOP;

/// An OID4VCI / OAuth error: the protocol's code and the status it gives that code.
fn protocol(code: ErrorCode, e: &impl ToString) -> ApiError {
    ProtocolError::new(code, e.to_string()).into()
}

fn status(status: StatusCode, code: &'static str, e: &impl ToString) -> ApiError {
    ApiError::new(status, code, e.to_string())
}

impl From<KeysUnavailable> for ApiError {
    fn from(e: KeysUnavailable) -> Self {
        tracing::error!(error = %e, "key ring");
        ApiError::unavailable("the signing keys are unavailable; try again later")
    }
}

impl From<IssuanceError> for ApiError {
    fn from(e: IssuanceError) -> Self {
        use IssuanceError as E;
        match e {
            E::NoSuchResident | E::NoSuchOffer | E::NoWalletProvider => {
                ApiError::not_found(e.to_string())
            }
            E::InvalidWalletKey(_) => protocol(ErrorCode::InvalidRequest, &e),
            E::Denied(_) => protocol(ErrorCode::CredentialRequestDenied, &e),
            E::UnsupportedGrant => protocol(ErrorCode::UnsupportedGrantType, &e),
            E::MissingCode => protocol(ErrorCode::InvalidRequest, &e),
            E::UnknownCode | E::WrongTxCode { .. } => protocol(ErrorCode::InvalidGrant, &e),
            E::MissingToken | E::UnknownToken | E::TokenScheme { .. } => {
                protocol(ErrorCode::InvalidToken, &e)
            }
            E::Dpop(d) => ApiError::bad_request(d.code(), d.to_string()),
            E::Authorization(p) => p.into(),
            E::UnknownClient => protocol(ErrorCode::InvalidClient, &e),
            E::UnregisteredRedirect => protocol(ErrorCode::InvalidRequest, &e),
            E::UnknownScope => protocol(ErrorCode::InvalidScope, &e),
            E::OfferOfAnotherResident => protocol(ErrorCode::AccessDenied, &e),
            E::ClientAttestationRequired => protocol(ErrorCode::InvalidClient, &e),
            E::InvalidClientAttestation(_) => protocol(ErrorCode::InvalidClientAttestation, &e),
            E::UnknownRequestUri | E::UnknownIssuerState => protocol(ErrorCode::InvalidRequest, &e),
            E::UnknownAuthorizationCode | E::PkceMismatch | E::UnknownRefreshToken => {
                protocol(ErrorCode::InvalidGrant, &e)
            }
            E::MissingRefreshToken => protocol(ErrorCode::InvalidRequest, &e),
            E::MalformedRequest(_)
            | E::IdentifierUnsupported
            | E::MissingConfiguration
            | E::TooManyProofs { .. } => protocol(ErrorCode::InvalidCredentialRequest, &e),
            E::EncryptionParameters(_) => protocol(ErrorCode::InvalidEncryptionParameters, &e),
            E::UnknownConfiguration => protocol(ErrorCode::UnknownCredentialConfiguration, &e),
            E::SingleProofUnsupported
            | E::NoProof
            | E::InvalidProof { .. }
            | E::SharedHolderKey => protocol(ErrorCode::InvalidProof, &e),
            E::MissingNonce { .. }
            | E::MixedNonces
            | E::ExpiredNonce
            | E::ForeignNonce
            | E::SpentNonce => protocol(ErrorCode::InvalidNonce, &e),
            E::Signing(_) => {
                tracing::error!(error = %e, "issuance");
                ApiError::unavailable(e.to_string())
            }
            E::Keys(k) => k.into(),
            E::Storage(s) => s.into(),
        }
    }
}

/// An error of the credential endpoint, a protected resource (RFC 9449 §7.1): the token and
/// DPoP refusals are 401s that challenge with `DPoP`; the rest as [`From<IssuanceError>`].
pub(crate) fn at_resource(e: IssuanceError) -> ApiError {
    use IssuanceError as E;
    let status = StatusCode::UNAUTHORIZED;
    let dpop = |code: &'static str, e: &dyn ToString| {
        ApiError::new(status, code, e.to_string()).with_challenge(DPOP, DPOP_ALGS_PARAM)
    };
    match e {
        E::Dpop(d) => dpop(d.code(), &d),
        E::MissingToken | E::UnknownToken | E::TokenScheme { .. } => dpop("invalid_token", &e),
        other => other.into(),
    }
}

/// The `algs` auth parameter of a DPoP challenge: [`crate::issuance::dpop::DPOP_ALGS`].
const DPOP_ALGS_PARAM: &str = "algs=\"ES256 EdDSA\"";

impl From<PasskeyError> for ApiError {
    fn from(e: PasskeyError) -> Self {
        use PasskeyError as E;
        match e {
            E::NotACode | E::WrongCode { .. } | E::UnknownCode => {
                status(StatusCode::BAD_REQUEST, "invalid_code", &e)
            }
            E::CodeLocked => status(StatusCode::FORBIDDEN, "code_locked", &e),
            E::CodeExpired => status(StatusCode::BAD_REQUEST, "code_expired", &e),
            E::CodeUsed | E::CodeUsedMeanwhile => status(StatusCode::BAD_REQUEST, "code_used", &e),
            E::NotOnRegister | E::CeremonyOfSomeoneElse => {
                status(StatusCode::FORBIDDEN, "forbidden", &e)
            }
            E::CeremonyExpired => status(StatusCode::BAD_REQUEST, "ceremony_expired", &e),
            E::CeremonyMismatch { .. } => status(StatusCode::BAD_REQUEST, "ceremony_mismatch", &e),
            E::MalformedResponse { .. } => status(StatusCode::BAD_REQUEST, "invalid_request", &e),
            E::Refused(_) => status(StatusCode::BAD_REQUEST, "webauthn_failed", &e),
            E::UnknownPasskey => status(StatusCode::BAD_REQUEST, "unknown_passkey", &e),
            E::NoSuchPasskey => ApiError::not_found(e.to_string()),
            E::LastPasskey => status(StatusCode::CONFLICT, "last_passkey", &e),
            E::RelyingParty(_) => {
                tracing::error!(error = %e, "webauthn");
                ApiError::unavailable(e.to_string())
            }
            E::Keys(k) => k.into(),
            E::Storage(s) => s.into(),
        }
    }
}

impl From<EnrollmentError> for ApiError {
    fn from(e: EnrollmentError) -> Self {
        match e {
            EnrollmentError::NotOnRegister => ApiError::not_found(e.to_string()),
            EnrollmentError::NoFreeCodeId => ApiError::unavailable(e.to_string()),
            EnrollmentError::Storage(s) => s.into(),
        }
    }
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::NoSuchResident => ApiError::not_found(e.to_string()),
            AccountError::Storage(s) => s.into(),
        }
    }
}

impl From<StatusError> for ApiError {
    fn from(e: StatusError) -> Self {
        match e {
            StatusError::NoSuchList | StatusError::NoSuchResident => {
                ApiError::not_found(e.to_string())
            }
            StatusError::Signing(_) => {
                tracing::error!(error = %e, "status list");
                ApiError::unavailable(e.to_string())
            }
            StatusError::Keys(k) => k.into(),
            StatusError::Storage(s) => s.into(),
        }
    }
}

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        match e {
            PlatformError::InvalidId | PlatformError::InvalidName => {
                ApiError::bad_request("invalid_request", e.to_string())
            }
            PlatformError::Storage(s) => s.into(),
        }
    }
}

impl From<RotationError> for ApiError {
    fn from(e: RotationError) -> Self {
        match e {
            RotationError::Keys(k) => k.into(),
            RotationError::KeyFile(_) => {
                tracing::error!(error = %e, "key rotation");
                ApiError::unavailable("the new keys could not be saved; try again later")
            }
            RotationError::Storage(s) => s.into(),
        }
    }
}
