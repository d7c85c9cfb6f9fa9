//! Signature algorithms behind an allow-list, and the keys that use them.
//!
//! Only ES256 and EdDSA (Ed25519) are accepted. `none`, HMAC and every other `alg` are rejected,
//! and a key verifies only signatures of its own algorithm.
//!
//! The backend is chosen at compile time and hidden behind [`SigningKey`] / [`VerifyingKey`]:
//! aws-lc-rs natively (about 5x RustCrypto's ES256 speed on our hardware), RustCrypto (`p256`,
//! `ed25519-dalek`) on wasm32. Code that holds its key elsewhere (an HSM, WebCrypto) implements
//! [`JwsSigner`].

#[cfg(not(target_arch = "wasm32"))]
#[path = "aws_lc.rs"]
mod backend;
#[cfg(target_arch = "wasm32")]
#[path = "rust_crypto.rs"]
mod backend;
mod mac;

pub use mac::hmac_sha256;

use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode};
use crate::error::{Error, Result};
use crate::jwk::{Jwk, SecretString};

/// A JWS algorithm on the allow-list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// Ed25519 (RFC 8037 `EdDSA`).
    EdDsa,
}

impl Algorithm {
    /// Parses a JOSE `alg` value, rejecting everything not on the allow-list.
    pub fn from_jose(alg: &str) -> Result<Self> {
        match alg {
            "ES256" => Ok(Algorithm::Es256),
            "EdDSA" | "Ed25519" => Ok(Algorithm::EdDsa),
            other => Err(Error::AlgorithmNotAllowed(other.to_owned())),
        }
    }

    /// The JOSE name of the algorithm.
    pub fn as_jose(self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::EdDsa => "EdDSA",
        }
    }
}

/// Something that produces JWS signatures.
pub trait JwsSigner {
    /// The algorithm of the signatures, written into the JOSE header.
    fn algorithm(&self) -> Algorithm;
    /// The `kid` to put in the JOSE header, if any.
    fn key_id(&self) -> Option<&str>;
    /// Signs the JWS signing input, returning the raw JWS signature bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
    /// The certificate chain of the key (DER, leaf first) to put in `x5c`, if it has one.
    fn x5c(&self) -> Option<&[Vec<u8>]> {
        None
    }
}

/// Wraps a signer so that no `kid` goes into the header (KB-JWTs and proof JWTs, whose key travels
/// elsewhere; a kid would only help a tracker).
pub struct WithoutKid<'a>(pub &'a dyn JwsSigner);

impl JwsSigner for WithoutKid<'_> {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        None
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.0.sign(message)
    }
}

/// Wraps a signer so that the header names it by another `kid` (one key published under several
/// identifiers, such as a verifier's per-platform DIDs).
pub struct WithKid<'a>(pub &'a dyn JwsSigner, pub &'a str);

impl JwsSigner for WithKid<'_> {
    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        Some(self.1)
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.0.sign(message)
    }
}

/// A private signing key (ES256 or Ed25519).
pub struct SigningKey {
    alg: Algorithm,
    kid: Option<String>,
    secret: backend::SecretKey,
    public: Jwk,
    private_bytes: Zeroizing<Vec<u8>>,
    x5c: Option<Vec<Vec<u8>>>,
}

impl SigningKey {
    /// Generates a new key from the given cryptographic randomness.
    pub fn generate(alg: Algorithm, rng: &mut impl CryptoRngCore) -> Result<Self> {
        // Rejection sampling: a random 32-byte string is a valid P-256 scalar with
        // probability ~1 - 2^-32, so more than a few tries means a broken RNG.
        for _ in 0..8 {
            let mut bytes = Zeroizing::new(vec![0u8; 32]);
            rng.try_fill_bytes(&mut bytes)
                .map_err(|_| Error::Randomness)?;
            if let Ok(key) = Self::from_private_bytes(alg, bytes) {
                return Ok(key);
            }
        }
        Err(Error::Randomness)
    }

    fn from_private_bytes(alg: Algorithm, bytes: Zeroizing<Vec<u8>>) -> Result<Self> {
        let (secret, public) = match alg {
            Algorithm::Es256 => {
                let (secret, x, y) = backend::SecretKey::p256_from_scalar(&bytes)?;
                (secret, ec_jwk(&x, &y))
            }
            Algorithm::EdDsa => {
                let (secret, x) = backend::SecretKey::ed25519_from_seed(&bytes)?;
                (secret, okp_jwk(&x))
            }
        };
        let public = Jwk {
            alg: Some(alg.as_jose().to_owned()),
            ..public
        };
        Ok(SigningKey {
            alg,
            kid: None,
            secret,
            public,
            private_bytes: bytes,
            x5c: None,
        })
    }

    /// Loads a private JWK (`d` present). The public part must match the private part.
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let d = jwk
            .d
            .as_ref()
            .map(|d| d.expose())
            .ok_or(Error::InvalidKey("JWK has no private part"))?;
        let bytes = Zeroizing::new(b64_decode(d, "jwk d")?);
        let alg = key_algorithm(jwk)?;
        if bytes.len() != 32 {
            return Err(Error::InvalidKey("private key must be 32 bytes"));
        }
        let key = Self::from_private_bytes(alg, bytes)?;
        if key.public.x != jwk.x || key.public.y != jwk.y {
            return Err(Error::InvalidKey("public and private parts do not match"));
        }
        Ok(match &jwk.kid {
            Some(kid) => key.with_kid(kid.clone()),
            None => key,
        })
    }

    /// Loads a PKCS#8 (DER) P-256 private key, the form certificate tools write.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self> {
        Self::from_private_bytes(Algorithm::Es256, crate::x509::pkcs8_p256_scalar(der)?)
    }

    /// Sets the key id written into JOSE headers and the public JWK.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        let kid = kid.into();
        self.public.kid = Some(kid.clone());
        self.kid = Some(kid);
        self
    }

    /// Sets the certificate chain (DER, leaf first, without the trust anchor) written into
    /// JOSE headers as `x5c`. The caller checks that the leaf is for this key.
    pub fn with_x5c(mut self, chain: Vec<Vec<u8>>) -> Self {
        self.x5c = Some(chain);
        self
    }

    /// The key as PKCS#8 DER (RFC 5958 with an RFC 5915 `ECPrivateKey`, public key included),
    /// for certificate tools. P-256 only.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        const PREFIX: &[u8] = &[
            0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
            0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x04,
            0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20,
        ];
        if self.alg != Algorithm::Es256 {
            return Err(Error::InvalidKey("PKCS#8 export is for P-256 keys"));
        }
        let x = b64_decode(self.public.x.as_deref().unwrap_or_default(), "jwk x")?;
        let y = b64_decode(self.public.y.as_deref().unwrap_or_default(), "jwk y")?;
        let mut der = Zeroizing::new(PREFIX.to_vec());
        der.extend_from_slice(&self.private_bytes);
        der.extend_from_slice(&[0xa1, 0x44, 0x03, 0x42, 0x00, 0x04]);
        der.extend_from_slice(&x);
        der.extend_from_slice(&y);
        Ok(der)
    }

    /// The public key as a JWK (with `kid` and `alg` when known).
    pub fn public_jwk(&self) -> &Jwk {
        &self.public
    }

    /// The private key as a JWK, for storage. Handle with care.
    pub fn to_private_jwk(&self) -> Jwk {
        Jwk {
            d: Some(SecretString::new(b64_encode(&self.private_bytes))),
            ..self.public.clone()
        }
    }

    /// The matching verifying key.
    pub fn verifying_key(&self) -> Result<VerifyingKey> {
        VerifyingKey::from_jwk(&self.public)
    }
}

impl JwsSigner for SigningKey {
    fn algorithm(&self) -> Algorithm {
        self.alg
    }
    fn key_id(&self) -> Option<&str> {
        self.kid.as_deref()
    }
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.secret.sign(message)
    }
    fn x5c(&self) -> Option<&[Vec<u8>]> {
        self.x5c.as_deref()
    }
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SigningKey")
            .field("alg", &self.alg)
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

/// A public key, parsed once, that verifies JWS signatures of its own algorithm only.
pub struct VerifyingKey {
    alg: Algorithm,
    key: backend::PublicKey,
    jwk: Jwk,
}

impl VerifyingKey {
    /// Parses a public JWK (a private one is accepted; its `d` is ignored).
    pub fn from_jwk(jwk: &Jwk) -> Result<Self> {
        let alg = key_algorithm(jwk)?;
        let x = b64_decode(
            jwk.x.as_deref().ok_or(Error::InvalidKey("missing x"))?,
            "jwk x",
        )?;
        let key = match alg {
            Algorithm::Es256 => {
                let y = b64_decode(
                    jwk.y.as_deref().ok_or(Error::InvalidKey("missing y"))?,
                    "jwk y",
                )?;
                if x.len() != 32 || y.len() != 32 {
                    return Err(Error::InvalidKey("P-256 coordinates must be 32 bytes"));
                }
                backend::PublicKey::p256(&x, &y)?
            }
            Algorithm::EdDsa => {
                if x.len() != 32 {
                    return Err(Error::InvalidKey("Ed25519 public key must be 32 bytes"));
                }
                backend::PublicKey::ed25519(&x)?
            }
        };
        Ok(VerifyingKey {
            alg,
            key,
            jwk: jwk.to_public(),
        })
    }

    /// The algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public JWK.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Verifies `signature` over `message` for the header algorithm `alg`.
    pub fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> Result<()> {
        if alg != self.alg {
            return Err(Error::AlgorithmKeyMismatch {
                alg: alg.as_jose().to_owned(),
            });
        }
        self.key.verify(message, signature)
    }
}

impl core::fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("alg", &self.alg)
            .field("jwk", &self.jwk)
            .finish()
    }
}

/// The algorithm a JWK is for, from its `kty`/`crv` (and its `alg`, when it names one).
fn key_algorithm(jwk: &Jwk) -> Result<Algorithm> {
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("EC", Some("P-256")) => Algorithm::Es256,
        ("OKP", Some("Ed25519")) => Algorithm::EdDsa,
        _ => {
            return Err(Error::InvalidKey(
                "only EC P-256 and OKP Ed25519 keys are supported",
            ))
        }
    };
    if let Some(named) = jwk.alg.as_deref() {
        if Algorithm::from_jose(named)? != alg {
            return Err(Error::AlgorithmKeyMismatch {
                alg: named.to_owned(),
            });
        }
    }
    Ok(alg)
}

fn ec_jwk(x: &[u8], y: &[u8]) -> Jwk {
    Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: Some(b64_encode(x)),
        y: Some(b64_encode(y)),
        d: None,
        kid: None,
        alg: None,
        use_: None,
    }
}

fn okp_jwk(x: &[u8]) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: Some("Ed25519".into()),
        x: Some(b64_encode(x)),
        y: None,
        d: None,
        kid: None,
        alg: None,
        use_: None,
    }
}

/// The wasm32 backend compiled natively, so tests can check both backends agree.
#[cfg(all(test, not(target_arch = "wasm32")))]
#[path = "rust_crypto.rs"]
#[allow(dead_code)]
mod rust_crypto_parity;

#[cfg(test)]
mod tests;
