//! Encrypted answers (`direct_post.jwt`, OpenID4VP 1.0 §8.3, HAIP 1.0): the wallet's `response`
//! is a JWE (ECDH-ES on P-256, A128GCM or A256GCM) to the session's ephemeral key
//! ([`crate::session::Session::response_key`]). Only what the request offered is accepted (the
//! session's key id, ECDH-ES, the two AES-GCM encodings); [`civic_credential::jwe::open`]
//! decrypts.

use civic_credential::jwk::Jwk;
use civic_credential::oid4vp::DirectPostResponse;

use crate::session::Session;

/// Why an encrypted answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The session asked for an encrypted answer and got a plain one.
    #[error("this session asks for an encrypted answer (direct_post.jwt); a plain one is refused")]
    PlainAnswer,
    /// The session asked for a plain answer and got an encrypted one.
    #[error("this session did not ask for an encrypted answer")]
    NotAsked,
    /// An encrypted answer came with other parameters beside `response`.
    #[error("an encrypted answer carries everything inside `response`, nothing beside it")]
    ParametersBeside,
    /// The JWE uses an algorithm, encoding or key the request did not offer.
    #[error("the encrypted answer does not use what the request offered: {0}")]
    NotOffered(String),
    /// The JWE does not decrypt (malformed, tampered, or for another key).
    #[error("the encrypted answer does not decrypt")]
    Undecryptable,
    /// What decrypted is not a response (a JSON object of response parameters).
    #[error("the decrypted answer is not a response: {0}")]
    NotAResponse(String),
}

/// The answer `posted` to `session` as plain response parameters: decrypted when the session
/// asked for encryption (and then only `response` may be posted), as posted otherwise.
pub fn open(
    session: &Session,
    posted: DirectPostResponse,
) -> Result<DirectPostResponse, DecryptError> {
    match (&session.response_key, &posted.response) {
        (None, None) => Ok(posted),
        (None, Some(_)) => Err(DecryptError::NotAsked),
        (Some(_), None) => Err(DecryptError::PlainAnswer),
        (Some(key), Some(jwe)) => {
            if posted.vp_token.is_some() || posted.state.is_some() || posted.error.is_some() {
                return Err(DecryptError::ParametersBeside);
            }
            let plain = decrypt(key, jwe)?;
            DirectPostResponse::from_decrypted(&plain)
                .map_err(|e| DecryptError::NotAResponse(e.to_string()))
        }
    }
}

/// Decrypts `jwe` with the session's private `key`; returns the plaintext (the response
/// parameters as JSON). The header is checked against what the request offered first, then
/// [`civic_credential::jwe::open`] opens it (the code the wallet's sealing shares; josekit,
/// the independent implementation, opens the same answers in this crate's tests).
pub fn decrypt(key: &Jwk, jwe: &str) -> Result<Vec<u8>, DecryptError> {
    let header = header(jwe)?;
    let member = |name: &str| header.get(name).and_then(serde_json::Value::as_str);
    check_header(member("alg"), member("enc"), member("kid"), key)?;
    civic_credential::jwe::open(jwe, key).map_err(|_| DecryptError::Undecryptable)
}

/// The protected header of compact `jwe`, decoded.
fn header(jwe: &str) -> Result<serde_json::Map<String, serde_json::Value>, DecryptError> {
    if jwe.split('.').count() != 5 {
        return Err(DecryptError::Undecryptable);
    }
    let first = jwe.split('.').next().unwrap_or_default();
    civic_credential::encoding::b64_json_object(first, "JWE header")
        .map_err(|_| DecryptError::Undecryptable)
}

/// The header must name what the session's request offered.
fn check_header(
    alg: Option<&str>,
    enc: Option<&str>,
    kid: Option<&str>,
    key: &Jwk,
) -> Result<(), DecryptError> {
    use civic_credential::jwe::{Enc, ECDH_ES};

    if alg != Some(ECDH_ES) {
        return Err(DecryptError::NotOffered(format!("alg {alg:?}")));
    }
    if enc.and_then(Enc::from_name).is_none() {
        return Err(DecryptError::NotOffered(format!("enc {enc:?}")));
    }
    if kid.is_some() && kid != key.kid.as_deref() {
        return Err(DecryptError::NotOffered("another key id".into()));
    }
    Ok(())
}
