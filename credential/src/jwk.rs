//! JSON Web Keys (RFC 7517) for the two key types this project uses: EC P-256 and OKP Ed25519.
//!
//! Holder keys travel as plain JWKs in `cnf.jwk`; issuer keys are published as JWKs in the issuer
//! metadata and DID document. The private part `d` is never printed by `Debug` and is wiped on drop.

use serde::{Deserialize, Serialize};
use serde_json::json;
use zeroize::Zeroize;

use crate::encoding::b64_encode;
use crate::error::{Error, Result};

/// A JWK. Only the members this project reads are kept; unknown members are ignored.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC` or `OKP`.
    pub kty: String,
    /// Curve: `P-256` or `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// Public x coordinate (EC) or public key (OKP), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// Public y coordinate (EC only), base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// Private scalar or seed, base64url. Present only in private keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d: Option<SecretString>,
    /// Key id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Intended algorithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use (`sig`).
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
}

impl Jwk {
    /// A copy without the private part.
    pub fn to_public(&self) -> Jwk {
        Jwk {
            d: None,
            ..self.clone()
        }
    }

    /// Whether this JWK carries a private key.
    pub fn is_private(&self) -> bool {
        self.d.is_some()
    }

    /// Sets the key id.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key.
    pub fn thumbprint(&self) -> Result<String> {
        let canonical = match (self.kty.as_str(), self.crv.as_deref()) {
            ("EC", Some(crv)) => json!({
                "crv": crv,
                "kty": "EC",
                "x": self.x.as_deref().ok_or(Error::InvalidKey("EC key without x"))?,
                "y": self.y.as_deref().ok_or(Error::InvalidKey("EC key without y"))?,
            }),
            ("OKP", Some(crv)) => json!({
                "crv": crv,
                "kty": "OKP",
                "x": self.x.as_deref().ok_or(Error::InvalidKey("OKP key without x"))?,
            }),
            _ => return Err(Error::InvalidKey("unsupported key type")),
        };
        // serde_json's map is ordered by key, which is the lexicographic order RFC 7638 asks for.
        let text = serde_json::to_string(&canonical).map_err(|_| Error::Json("jwk"))?;
        Ok(b64_encode(&crate::encoding::sha256(text.as_bytes())))
    }
}

impl core::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("d", &self.d.as_ref().map(|_| "<redacted>"))
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish()
    }
}

/// A string holding private key material: wiped on drop, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps private key material.
    pub fn new(value: String) -> Self {
        SecretString(value)
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for SecretString {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7638_style_thumbprint_is_stable_and_ignores_private_and_kid() {
        let jwk: Jwk = serde_json::from_value(json!({
            "kty": "EC", "crv": "P-256",
            "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
            "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ",
            "kid": "a", "d": "c2VjcmV0"
        }))
        .unwrap();
        let t1 = jwk.thumbprint().unwrap();
        let t2 = jwk.to_public().with_kid("b").thumbprint().unwrap();
        assert_eq!(t1, t2);
        assert_eq!(t1.len(), 43);
        assert!(!format!("{jwk:?}").contains("c2VjcmV0"));
    }
}
