//! Proof-of-possession JWTs (`openid4vci-proof+jwt`, OID4VCI §8.2.1.1 and Appendix F.1).
//!
//! The wallet signs one per holder key; the issuer verifies each and binds the credential it issues
//! to the key in the proof's `jwk` header.

use serde_json::{Map, Value};

use crate::crypto::{JwsSigner, VerifyingKey};
use crate::encoding::{numeric_date, required_str};
use crate::error::{Error, Result};
use crate::jwk::Jwk;
use crate::jws::{self, Jws};

/// The `typ` of a proof JWT.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// Signs a proof JWT with the holder key, carrying its public key in the `jwk` header.
pub fn build_proof(
    holder: &dyn JwsSigner,
    holder_public: &Jwk,
    aud: &str,
    nonce: Option<&str>,
    iat: i64,
) -> Result<String> {
    let mut claims = Map::new();
    claims.insert("aud".into(), aud.into());
    claims.insert("iat".into(), iat.into());
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), nonce.into());
    }
    jws::sign_with_jwk(PROOF_TYP, holder_public, &claims, holder)
}

/// What the issuer requires of a proof.
#[derive(Debug, Clone, Copy)]
pub struct ProofExpectation<'a> {
    /// The credential issuer identifier.
    pub aud: &'a str,
    /// The current time.
    pub now: i64,
    /// How old a proof may be, in seconds.
    pub max_age: i64,
    /// Allowed clock difference for proofs from the future.
    pub clock_skew: i64,
}

/// A proof whose signature, `typ`, `aud` and `iat` checked out. The issuer still has to check
/// `nonce` against the nonces it handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The holder's public key, to put in the credential's `cnf`.
    pub holder_key: Jwk,
    /// The proof's `nonce`, if any.
    pub nonce: Option<String>,
    /// The proof's `iat`.
    pub iat: i64,
    /// The key attestation in the proof's header (OID4VCI 1.0 Appendix D), when it has one:
    /// the issuer checks it with [`super::attestation::verify_key_attestation`].
    pub key_attestation: Option<String>,
}

/// Verifies a proof JWT: allow-listed `alg`, `typ`, a public `jwk` header (and no `kid` or
/// `x5c`), the signature with that key, `aud`, and `iat` within the window.
pub fn verify_proof(jwt: &str, expect: &ProofExpectation<'_>) -> Result<VerifiedProof> {
    let jws = Jws::parse(jwt)?;
    jws.require_typ(PROOF_TYP)?;
    let jwk = jws::embedded_jwk(&jws)?;
    let key = VerifyingKey::from_jwk(&jwk)?;
    jws.verify(&key)?;
    let c = &jws.payload;
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == expect.aud,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(expect.aud)),
        Some(_) => return Err(Error::InvalidClaim("aud")),
        None => return Err(Error::MissingClaim("aud")),
    };
    if !aud_ok {
        return Err(Error::ProofAudienceMismatch);
    }
    let iat = c
        .get("iat")
        .ok_or(Error::MissingClaim("iat"))
        .and_then(|v| numeric_date(v).ok_or(Error::InvalidClaim("iat")))?;
    if iat > expect.now.saturating_add(expect.clock_skew)
        || iat < expect.now.saturating_sub(expect.max_age)
    {
        return Err(Error::ProofIatOutOfWindow);
    }
    let nonce = match c.get("nonce") {
        None => None,
        Some(_) => Some(required_str(c, "nonce")?.to_owned()),
    };
    let key_attestation = match jws.header.get("key_attestation") {
        None => None,
        Some(Value::String(a)) => Some(a.clone()),
        Some(_) => return Err(Error::InvalidClaim("key_attestation")),
    };
    Ok(VerifiedProof {
        holder_key: jwk.to_public(),
        nonce,
        iat,
        key_attestation,
    })
}
