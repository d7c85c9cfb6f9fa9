//! Pairwise pseudonyms: one stable identifier per (resident, platform), unlinkable across platforms.
//!
//! The issuer computes `HMAC-SHA256(secret, "civic-id pseudonym v1" ‖ platform ‖ subject)` with a
//! secret only it holds, so platforms cannot compute, reverse or correlate each other's values.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::encoding::b64_encode;

/// Derives the pseudonym of `subject` (the issuer's register id) for `platform_id`.
pub fn pairwise_pseudonym(secret: &[u8], platform_id: &str, subject: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(b"civic-id pseudonym v1\0");
    // Length prefixes keep (platform, subject) pairs unambiguous.
    mac.update(&(platform_id.len() as u64).to_be_bytes());
    mac.update(platform_id.as_bytes());
    mac.update(&(subject.len() as u64).to_be_bytes());
    mac.update(subject.as_bytes());
    b64_encode(&mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_per_platform_and_unlinkable_across() {
        let a = pairwise_pseudonym(b"k", "https://budget.example", "R1");
        assert_eq!(a, pairwise_pseudonym(b"k", "https://budget.example", "R1"));
        assert_ne!(
            a,
            pairwise_pseudonym(b"k", "https://petitions.example", "R1")
        );
        assert_ne!(a, pairwise_pseudonym(b"k", "https://budget.example", "R2"));
        assert_ne!(
            a,
            pairwise_pseudonym(b"other", "https://budget.example", "R1")
        );
        assert_ne!(
            pairwise_pseudonym(b"k", "ab", "c"),
            pairwise_pseudonym(b"k", "a", "bc")
        );
    }
}
