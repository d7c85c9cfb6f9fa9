//! The one error type of the protocol core.
//!
//! Every rejection rule has its own variant, so callers (and tests) can tell exactly which rule failed.

use thiserror::Error;

/// Why an SD-JWT, key-binding JWT, status list or credential was rejected or could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    // ---- encoding -------------------------------------------------------------------------
    /// A base64url part could not be decoded.
    #[error("invalid base64url in {0}")]
    Base64(&'static str),
    /// A part that must be JSON is not valid JSON (or not the expected JSON type).
    #[error("invalid JSON in {0}")]
    Json(&'static str),
    /// The input is larger than this implementation accepts.
    #[error("input too large: {0}")]
    TooLarge(&'static str),

    // ---- JWS and keys ---------------------------------------------------------------------
    /// A compact JWS is not of the form `header.payload.signature`.
    #[error("malformed JWS: {0}")]
    MalformedJws(&'static str),
    /// The `alg` is not on the allow-list (ES256, EdDSA). `none` and HMAC algorithms land here.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// The `alg` in a header does not match the key that is supposed to verify it.
    #[error("algorithm {alg} does not match the key type")]
    AlgorithmKeyMismatch {
        /// The algorithm named in the header.
        alg: String,
    },
    /// A JWK is malformed, of an unsupported type, or its parts are inconsistent.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The signature does not verify.
    #[error("signature verification failed")]
    InvalidSignature,
    /// Signing failed inside the crypto backend.
    #[error("signing failed")]
    SigningFailed,
    /// The randomness source failed.
    #[error("randomness source failed")]
    Randomness,
    /// The JOSE header `typ` is not the one the profile requires.
    #[error("unexpected typ: expected {expected}, found {found:?}")]
    UnexpectedType {
        /// The `typ` required here.
        expected: &'static str,
        /// The `typ` found, if any.
        found: Option<String>,
    },
    /// A required claim or header parameter is missing.
    #[error("missing claim: {0}")]
    MissingClaim(&'static str),
    /// A claim or header parameter has the wrong type or an invalid value.
    #[error("invalid claim: {0}")]
    InvalidClaim(&'static str),
    /// An X.509 certificate or chain is malformed, unsupported or not trusted ([`crate::x509`]).
    #[error("certificate: {0}")]
    Certificate(&'static str),

    // ---- SD-JWT (RFC 9901) ----------------------------------------------------------------
    /// The `~`-separated serialization is malformed.
    #[error("malformed SD-JWT: {0}")]
    MalformedSdJwt(&'static str),
    /// A disclosure is not a JSON array of 2 or 3 elements with a string salt (and name).
    #[error("malformed disclosure: {0}")]
    MalformedDisclosure(&'static str),
    /// `_sd_alg` names a hash algorithm other than sha-256.
    #[error("unsupported _sd_alg: {0}")]
    UnsupportedSdAlg(String),
    /// A disclosure's digest is not referenced from the payload or from another disclosure.
    #[error("unreferenced disclosure (digest {0})")]
    UnreferencedDisclosure(String),
    /// A digest appears more than once in the payload and disclosures, or a disclosure is sent twice.
    #[error("duplicate digest {0}")]
    DuplicateDigest(String),
    /// A disclosure uses a reserved claim name (`_sd`, `...`), or claims to issue use one.
    #[error("reserved claim name {0:?}")]
    ReservedClaimName(String),
    /// A disclosed claim name already exists at the same level of the object.
    #[error("claim name collision: {0:?}")]
    ClaimNameCollision(String),
    /// An object-property disclosure is referenced from an array, or an array-element disclosure from `_sd`.
    #[error("disclosure kind does not fit where it is referenced (digest {0})")]
    DisclosureKindMismatch(String),
    /// A claim path given for issuance or presentation does not exist in the claims.
    #[error("claim path not found: {0}")]
    ClaimPathNotFound(String),

    // ---- key binding ----------------------------------------------------------------------
    /// Key binding is required but the presentation has no KB-JWT.
    #[error("key-binding JWT missing")]
    KeyBindingMissing,
    /// The credential has no `cnf.jwk` holder key to bind to.
    #[error("credential has no holder key (cnf.jwk)")]
    MissingHolderKey,
    /// KB-JWT `aud` is not the expected verifier.
    #[error("key-binding audience mismatch")]
    KeyBindingAudienceMismatch,
    /// KB-JWT `nonce` is not the expected nonce.
    #[error("key-binding nonce mismatch")]
    KeyBindingNonceMismatch,
    /// KB-JWT `sd_hash` does not match the presented SD-JWT.
    #[error("key-binding sd_hash mismatch")]
    KeyBindingSdHashMismatch,
    /// KB-JWT `iat` is outside the accepted window.
    #[error("key-binding iat outside the accepted window")]
    KeyBindingIatOutOfWindow,

    // ---- SD-JWT VC profile ----------------------------------------------------------------
    /// The credential's `exp` has passed.
    #[error("credential expired")]
    Expired,
    /// The credential's `nbf` is in the future.
    #[error("credential not yet valid")]
    NotYetValid,
    /// The credential's `iat` is in the future.
    #[error("credential issued in the future")]
    IssuedInFuture,
    /// The credential's `vct` is not the expected type.
    #[error("unexpected vct {0:?}")]
    VctMismatch(String),
    /// A claim that must never be selectively disclosable was disclosed.
    #[error("claim {0:?} must not be selectively disclosable")]
    NonDisclosableClaim(String),
    /// The header `kid` does not belong to the `iss` of the credential.
    #[error("kid {kid:?} is not bound to issuer {iss:?}")]
    KidNotBoundToIssuer {
        /// The issuer identifier from the payload.
        iss: String,
        /// The key id from the header.
        kid: String,
    },
    /// No key is known for this issuer and key id.
    #[error("no key for issuer {iss:?} with kid {kid:?}")]
    IssuerKeyNotFound {
        /// The issuer identifier from the payload.
        iss: String,
        /// The key id from the header.
        kid: String,
    },

    // ---- Token Status List ----------------------------------------------------------------
    /// `bits` is not 1, 2, 4 or 8.
    #[error("invalid status list bits: {0}")]
    InvalidStatusBits(u64),
    /// A status value does not fit in the list's `bits`.
    #[error("status value {value} does not fit in {bits} bits")]
    StatusValueTooLarge {
        /// The value to store.
        value: u8,
        /// Bits per status.
        bits: u8,
    },
    /// The index is beyond the end of the status list.
    #[error("status list index {idx} out of range (list holds {len})")]
    StatusListIndexOutOfRange {
        /// The index asked for.
        idx: u64,
        /// How many statuses the list holds.
        len: u64,
    },
    /// The `lst` is not valid zlib data.
    #[error("status list is not valid zlib data")]
    StatusListCompression,
    /// The status list token's `sub` is not the URI the credential refers to.
    #[error("status list token sub {0:?} does not match the referenced uri")]
    StatusListSubjectMismatch(String),
    /// The status list token has expired.
    #[error("status list token expired")]
    StatusListExpired,

    // ---- OID4VCI proofs -------------------------------------------------------------------
    /// The proof JWT's `aud` is not this credential issuer.
    #[error("proof audience mismatch")]
    ProofAudienceMismatch,
    /// The proof JWT's `iat` is outside the accepted window.
    #[error("proof iat outside the accepted window")]
    ProofIatOutOfWindow,
    /// The proof JWT carries no usable `jwk` header (or also names a `kid`/`x5c`).
    #[error("proof key: {0}")]
    ProofKey(&'static str),

    // ---- residency model ------------------------------------------------------------------
    /// A date is not a valid `YYYY-MM-DD` calendar date.
    #[error("invalid date {0:?}")]
    InvalidDate(String),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;
