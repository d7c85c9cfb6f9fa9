//! Native signature backend: aws-lc-rs.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING, ED25519,
};

use crate::error::{Error, Result};

/// A private key held by aws-lc.
pub(super) enum SecretKey {
    P256(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// DER prefix of an RFC 5915 `ECPrivateKey` for P-256 without the public key;
/// the 32-byte scalar follows, then the curve OID.
const RFC5915_P256_PREFIX: [u8; 7] = [0x30, 0x31, 0x02, 0x01, 0x01, 0x04, 0x20];
const RFC5915_P256_SUFFIX: [u8; 12] = [
    0xa0, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
];

impl SecretKey {
    /// Loads a P-256 scalar; returns the key and its public x and y coordinates.
    pub(super) fn p256_from_scalar(d: &[u8]) -> Result<(Self, Vec<u8>, Vec<u8>)> {
        if d.len() != 32 {
            return Err(Error::InvalidKey("P-256 scalar must be 32 bytes"));
        }
        let mut der = zeroize::Zeroizing::new(Vec::with_capacity(51));
        der.extend_from_slice(&RFC5915_P256_PREFIX);
        der.extend_from_slice(d);
        der.extend_from_slice(&RFC5915_P256_SUFFIX);
        let pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|_| Error::InvalidKey("invalid P-256 private key"))?;
        // An uncompressed point: 0x04 ‖ x (32 bytes) ‖ y (32 bytes).
        let Some((&4, xy)) = pair.public_key().as_ref().split_first() else {
            return Err(Error::InvalidKey("unexpected P-256 public key encoding"));
        };
        let Some((x, y)) = xy.split_at_checked(32).filter(|(_, y)| y.len() == 32) else {
            return Err(Error::InvalidKey("unexpected P-256 public key encoding"));
        };
        let (x, y) = (x.to_vec(), y.to_vec());
        Ok((SecretKey::P256(pair), x, y))
    }

    /// Loads an Ed25519 seed; returns the key and its public key.
    pub(super) fn ed25519_from_seed(seed: &[u8]) -> Result<(Self, Vec<u8>)> {
        let pair = Ed25519KeyPair::from_seed_unchecked(seed)
            .map_err(|_| Error::InvalidKey("invalid Ed25519 seed"))?;
        let public = pair.public_key().as_ref().to_vec();
        Ok((SecretKey::Ed25519(pair), public))
    }

    /// Signs a message: fixed-size r||s for ES256, 64 bytes for Ed25519.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match self {
            SecretKey::P256(pair) => pair
                .sign(&SystemRandom::new(), message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| Error::SigningFailed),
            SecretKey::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

/// A parsed public key.
pub(super) struct PublicKey(ParsedPublicKey);

impl PublicKey {
    /// A P-256 public key from its coordinates; the point must be on the curve.
    pub(super) fn p256(x: &[u8], y: &[u8]) -> Result<Self> {
        let mut point = Vec::with_capacity(65);
        point.push(4);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .map(PublicKey)
            .map_err(|_| Error::InvalidKey("invalid P-256 public key"))
    }

    /// An Ed25519 public key.
    pub(super) fn ed25519(x: &[u8]) -> Result<Self> {
        ParsedPublicKey::new(&ED25519, x)
            .map(PublicKey)
            .map_err(|_| Error::InvalidKey("invalid Ed25519 public key"))
    }

    /// Verifies a signature made by the matching private key.
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        self.0
            .verify_sig(message, signature)
            .map_err(|_| Error::InvalidSignature)
    }
}
