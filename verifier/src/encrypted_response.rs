//! Encrypted answers (`direct_post.jwt`, OpenID4VP 1.0 §8.3, HAIP 1.0): the wallet's `response`
//! is a JWE (ECDH-ES on P-256, A128GCM or A256GCM) to the session's ephemeral key
//! ([`crate::session::Session::response_key`]). Decrypted with josekit; only what the request
//! offered is accepted (the session's key id, ECDH-ES, the two AES-GCM encodings).

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
/// parameters as JSON).
#[cfg(not(target_arch = "wasm32"))]
pub fn decrypt(key: &Jwk, jwe: &str) -> Result<Vec<u8>, DecryptError> {
    use josekit::jwe::{self, ECDH_ES as JOSE_ECDH_ES};

    let json = serde_json::to_vec(key).map_err(|_| DecryptError::Undecryptable)?;
    let jwk = josekit::jwk::Jwk::from_bytes(json).map_err(|_| DecryptError::Undecryptable)?;
    let decrypter = JOSE_ECDH_ES
        .decrypter_from_jwk(&jwk)
        .map_err(|_| DecryptError::Undecryptable)?;
    let header =
        jwe::JweHeader::from_bytes(&header_bytes(jwe)?).map_err(|_| DecryptError::Undecryptable)?;
    check_header(
        header.algorithm(),
        header.content_encryption(),
        header.key_id(),
        key,
    )?;
    let (plaintext, _) =
        jwe::deserialize_compact(jwe, &decrypter).map_err(|_| DecryptError::Undecryptable)?;
    Ok(plaintext)
}

/// Encrypted answers need the native build (josekit, OpenSSL).
#[cfg(target_arch = "wasm32")]
pub fn decrypt(_key: &Jwk, _jwe: &str) -> Result<Vec<u8>, DecryptError> {
    Err(DecryptError::NotOffered(
        "encrypted answers are decrypted by the native build only".into(),
    ))
}

/// The protected header of compact `jwe`, decoded.
#[cfg(not(target_arch = "wasm32"))]
fn header_bytes(jwe: &str) -> Result<Vec<u8>, DecryptError> {
    let first = jwe.split('.').next().unwrap_or_default();
    if jwe.split('.').count() != 5 {
        return Err(DecryptError::Undecryptable);
    }
    civic_credential::encoding::b64_decode(first, "JWE header")
        .map_err(|_| DecryptError::Undecryptable)
}

/// The header must name what the session's request offered.
#[cfg(not(target_arch = "wasm32"))]
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
