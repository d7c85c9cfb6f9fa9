//! Pairwise pseudonyms: one stable identifier per (resident, platform), unlinkable across platforms.
//!
//! The issuer computes `HMAC-SHA256(secret, "civic-id pseudonym v1" ‖ platform ‖ subject)` with a
//! secret only it holds, so platforms cannot compute, reverse or correlate each other's values.

use crate::crypto::hmac_sha256;
use crate::encoding::b64_encode;

/// Derives the pseudonym of `subject` (the issuer's register id) for `platform_id`.
pub fn pairwise_pseudonym(secret: &[u8], platform_id: &str, subject: &str) -> String {
    // Length prefixes keep (platform, subject) pairs unambiguous.
    b64_encode(&hmac_sha256(
        secret,
        &[
            b"civic-id pseudonym v1\0",
            &(platform_id.len() as u64).to_be_bytes(),
            platform_id.as_bytes(),
            &(subject.len() as u64).to_be_bytes(),
            subject.as_bytes(),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value is part of issued credentials: it must never change. Computed independently
    /// with Python's `hmac` over the same input.
    #[test]
    fn fixed_vector() {
        assert_eq!(
            pairwise_pseudonym(b"k", "https://budget.example", "R1"),
            "EhrZwDz53vMpJrOtzhnhDTX2U0YlSrthseNOI2zoPeE"
        );
    }

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
