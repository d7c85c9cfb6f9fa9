//! Stateless `c_nonce` values for the OID4VCI nonce endpoint.
//!
//! A nonce is `base64url(expires ‖ random ‖ tag)`, where `tag` is an HMAC-SHA-256 (truncated to
//! 128 bits) over the expiry and the random part, under a key derived from the issuer's secret.
//! Handing one out writes nothing, so the endpoint is cheap and cannot be used to fill the
//! database. It survives restarts because the key does. Single use is enforced when a nonce is
//! spent: the credential endpoint records it, atomically with the credentials it pays for, until
//! it expires.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use civic_credential::crypto::hmac_sha256;

const EXPIRY_BYTES: usize = 8;
const RANDOM_BYTES: usize = 16;
const TAG_BYTES: usize = 16;
const NONCE_BYTES: usize = EXPIRY_BYTES + RANDOM_BYTES + TAG_BYTES;
/// Domain separation for deriving the nonce key from the issuer secret.
const KEY_LABEL: &[u8] = b"civic-id oid4vci c_nonce v1";
/// The label of the `DPoP-Nonce` key: a c_nonce is no DPoP nonce, nor the other way round.
const DPOP_KEY_LABEL: &[u8] = b"civic-id dpop nonce v1";

/// Why a presented nonce is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceError {
    /// Not one of ours: wrong length, encoding or tag.
    Unknown,
    /// Ours, but past its expiry.
    Expired,
}

/// Mints and checks nonces under one key.
pub struct NonceKey {
    key: zeroize::Zeroizing<[u8; 32]>,
}

impl NonceKey {
    /// Derives the `c_nonce` key from the issuer's long-term secret.
    pub fn derive(issuer_secret: &[u8]) -> Self {
        Self::derive_labelled(issuer_secret, KEY_LABEL)
    }

    /// Derives the `DPoP-Nonce` key from the issuer's long-term secret. Every instance of the
    /// issuer derives the same key, so a nonce one hands out is good at all of them.
    pub fn derive_dpop(issuer_secret: &[u8]) -> Self {
        Self::derive_labelled(issuer_secret, DPOP_KEY_LABEL)
    }

    fn derive_labelled(issuer_secret: &[u8], label: &[u8]) -> Self {
        let mut key = zeroize::Zeroizing::new([0u8; 32]);
        *key = hmac_sha256(issuer_secret, &[label]);
        NonceKey { key }
    }

    /// A fresh nonce valid until `expires` (seconds since the epoch).
    pub fn mint(&self, expires: i64, rng: &mut impl RngCore) -> String {
        let mut bytes = [0u8; NONCE_BYTES];
        let (body, tag) = bytes.split_at_mut(EXPIRY_BYTES + RANDOM_BYTES);
        let (expiry, random) = body.split_at_mut(EXPIRY_BYTES);
        expiry.copy_from_slice(&expires.to_be_bytes());
        rng.fill_bytes(random);
        let mac = hmac_sha256(&*self.key, &[body]);
        tag.iter_mut().zip(mac).for_each(|(t, m)| *t = m);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Checks that `nonce` is ours and not expired at `now`; returns its expiry.
    pub fn check(&self, nonce: &str, now: i64) -> Result<i64, NonceError> {
        if nonce.len() > 64 {
            return Err(NonceError::Unknown);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(nonce.as_bytes())
            .map_err(|_| NonceError::Unknown)?;
        if bytes.len() != NONCE_BYTES {
            return Err(NonceError::Unknown);
        }
        let (body, tag) = bytes.split_at(EXPIRY_BYTES + RANDOM_BYTES);
        let expected = hmac_sha256(&*self.key, &[body]);
        if !civic_credential::encoding::ct_eq(tag, expected.get(..TAG_BYTES).unwrap_or_default()) {
            return Err(NonceError::Unknown);
        }
        let mut expiry = [0u8; EXPIRY_BYTES];
        expiry.iter_mut().zip(body).for_each(|(e, b)| *e = *b);
        let expires = i64::from_be_bytes(expiry);
        if expires <= now {
            return Err(NonceError::Expired);
        }
        Ok(expires)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_nonces_check_until_they_expire_and_forgeries_fail() {
        let key = NonceKey::derive(b"issuer secret");
        let n = key.mint(1_000, &mut rand::rngs::OsRng);
        assert_eq!(key.check(&n, 999), Ok(1_000));
        assert_eq!(key.check(&n, 1_000), Err(NonceError::Expired));
        let other = NonceKey::derive(b"another issuer");
        assert_eq!(other.check(&n, 0), Err(NonceError::Unknown));
        // Flip one character of the tag, of the expiry, and truncate.
        let mut chars: Vec<char> = n.chars().collect();
        let last = chars.len() - 1;
        chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
        assert_eq!(
            key.check(&chars.iter().collect::<String>(), 0),
            Err(NonceError::Unknown)
        );
        let mut later = [0u8; NONCE_BYTES];
        later.copy_from_slice(&URL_SAFE_NO_PAD.decode(&n).expect("ours"));
        later[0] = 0x7f;
        assert_eq!(
            key.check(&URL_SAFE_NO_PAD.encode(later), 0),
            Err(NonceError::Unknown)
        );
        assert_eq!(key.check(&n[..n.len() - 2], 0), Err(NonceError::Unknown));
        assert_eq!(key.check("", 0), Err(NonceError::Unknown));
        assert_eq!(key.check(&"A".repeat(10_000), 0), Err(NonceError::Unknown));
        assert_ne!(n, key.mint(1_000, &mut rand::rngs::OsRng));
        let dpop = NonceKey::derive_dpop(b"issuer secret");
        assert_eq!(
            dpop.check(&n, 0),
            Err(NonceError::Unknown),
            "a c_nonce is no DPoP nonce"
        );
    }
}
