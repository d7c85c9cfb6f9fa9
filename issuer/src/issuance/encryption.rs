//! Credential response encryption (OID4VCI 1.0 §8.2, §8.3): a wallet that asks gets its
//! credential response as a JWE (ECDH-ES with A128GCM or A256GCM) to the public key it sent,
//! made with josekit. The key and algorithms are checked before anything is issued, so a request
//! whose answer could not be sealed uses up neither its token nor its nonce.

use josekit::jwe::{self, JweHeader, ECDH_ES};
use serde::Deserialize;
use serde_json::Value;

use civic_credential::jwe::{Enc, ECDH_ES as ALG_ECDH_ES};

use super::IssuanceError;

/// How the wallet wants its response sealed: `credential_response_encryption` of the request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Requested {
    jwk: Value,
    enc: String,
    #[serde(default)]
    zip: Option<String>,
}

/// A checked `credential_response_encryption`: seals one response.
pub(super) struct ResponseSealer {
    jwk: josekit::jwk::Jwk,
    enc: Enc,
}

fn refused(why: &str) -> IssuanceError {
    IssuanceError::EncryptionParameters(why.to_owned())
}

impl ResponseSealer {
    /// Checks the request's parameters: a public P-256 key for `ECDH-ES` (its `alg` says so when
    /// it says anything), an `enc` of A128GCM or A256GCM, no compression.
    pub(super) fn from_request(params: &Value) -> Result<Self, IssuanceError> {
        let requested: Requested = serde_json::from_value(params.clone())
            .map_err(|e| refused(&format!("credential_response_encryption: {e}")))?;
        if requested.zip.is_some() {
            return Err(refused("compressed responses (zip) are not supported"));
        }
        let enc = Enc::from_name(&requested.enc)
            .ok_or_else(|| refused("enc must be A128GCM or A256GCM"))?;
        let key = &requested.jwk;
        let member = |name: &str| key.get(name).and_then(Value::as_str);
        if member("kty") != Some("EC") || member("crv") != Some("P-256") {
            return Err(refused("the key must be an EC P-256 public key"));
        }
        if key.get("d").is_some() {
            return Err(refused("the key must be a public key"));
        }
        if member("alg").is_some_and(|a| a != ALG_ECDH_ES) {
            return Err(refused("alg must be ECDH-ES"));
        }
        let bytes = serde_json::to_vec(key).map_err(|_| refused("the key is not JSON"))?;
        let jwk = josekit::jwk::Jwk::from_bytes(bytes)
            .map_err(|e| refused(&format!("the key is not a valid JWK: {e}")))?;
        // Not a key on the curve: josekit refuses to make an encrypter for it.
        ECDH_ES
            .encrypter_from_jwk(&jwk)
            .map_err(|_| refused("the key is not a valid P-256 public key"))?;
        Ok(ResponseSealer { jwk, enc })
    }

    /// The JWE compact serialization of `response`, for `Content-Type: application/jwt`.
    pub(super) fn seal(&self, response: &[u8]) -> Result<String, IssuanceError> {
        let encrypter = ECDH_ES
            .encrypter_from_jwk(&self.jwk)
            .map_err(|e| IssuanceError::Signing(format!("response encryption: {e}")))?;
        let mut header = JweHeader::new();
        header.set_content_encryption(self.enc.name());
        if let Some(kid) = self.jwk.key_id() {
            header.set_key_id(kid);
        }
        jwe::serialize_compact(response, &header, &encrypter)
            .map_err(|e| IssuanceError::Signing(format!("response encryption: {e}")))
    }
}
