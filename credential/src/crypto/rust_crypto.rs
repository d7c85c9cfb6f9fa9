//! wasm32 signature backend: RustCrypto `p256` and `ed25519-dalek` (pure Rust).

use ed25519_dalek::Signer as _;
use p256::ecdsa::signature::Verifier as _;

use crate::error::{Error, Result};

/// A private key held in WASM memory (both types zeroize on drop).
pub(super) enum SecretKey {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl SecretKey {
    /// Loads a P-256 scalar; returns the key and its public x and y coordinates.
    pub(super) fn p256_from_scalar(d: &[u8]) -> Result<(Self, Vec<u8>, Vec<u8>)> {
        let key = p256::ecdsa::SigningKey::from_slice(d)
            .map_err(|_| Error::InvalidKey("invalid P-256 private key"))?;
        let point = key.verifying_key().to_encoded_point(false);
        let (x, y) = match (point.x(), point.y()) {
            (Some(x), Some(y)) => (x.to_vec(), y.to_vec()),
            _ => return Err(Error::InvalidKey("unexpected P-256 public key encoding")),
        };
        Ok((SecretKey::P256(key), x, y))
    }

    /// Loads an Ed25519 seed; returns the key and its public key.
    pub(super) fn ed25519_from_seed(seed: &[u8]) -> Result<(Self, Vec<u8>)> {
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| Error::InvalidKey("Ed25519 seed must be 32 bytes"))?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let public = key.verifying_key().to_bytes().to_vec();
        Ok((SecretKey::Ed25519(key), public))
    }

    /// Signs a message: fixed-size r||s for ES256, 64 bytes for Ed25519.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            SecretKey::P256(key) => {
                let sig: p256::ecdsa::Signature =
                    key.try_sign(message).map_err(|_| Error::SigningFailed)?;
                Ok(sig.to_bytes().to_vec())
            }
            SecretKey::Ed25519(key) => Ok(key.sign(message).to_bytes().to_vec()),
        }
    }
}

/// A parsed public key.
pub(super) enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// A P-256 public key from its coordinates; the point must be on the curve.
    pub(super) fn p256(x: &[u8], y: &[u8]) -> Result<Self> {
        let coordinate = |c: &[u8]| -> Result<p256::FieldBytes> {
            let bytes: [u8; 32] = c
                .try_into()
                .map_err(|_| Error::InvalidKey("P-256 coordinates must be 32 bytes"))?;
            Ok(p256::FieldBytes::from(bytes))
        };
        let point =
            p256::EncodedPoint::from_affine_coordinates(&coordinate(x)?, &coordinate(y)?, false);
        p256::ecdsa::VerifyingKey::from_encoded_point(&point)
            .map(PublicKey::P256)
            .map_err(|_| Error::InvalidKey("invalid P-256 public key"))
    }

    /// An Ed25519 public key.
    pub(super) fn ed25519(x: &[u8]) -> Result<Self> {
        let bytes: [u8; 32] = x
            .try_into()
            .map_err(|_| Error::InvalidKey("Ed25519 public key must be 32 bytes"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey::Ed25519)
            .map_err(|_| Error::InvalidKey("invalid Ed25519 public key"))
    }

    /// Verifies a signature made by the matching private key.
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        match self {
            PublicKey::P256(key) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| Error::InvalidSignature)?;
                key.verify(message, &sig)
                    .map_err(|_| Error::InvalidSignature)
            }
            PublicKey::Ed25519(key) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| Error::InvalidSignature)?;
                key.verify_strict(message, &sig)
                    .map_err(|_| Error::InvalidSignature)
            }
        }
    }
}
