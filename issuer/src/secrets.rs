//! Random tokens, enrollment codes, and how secrets are hashed and compared.
//!
//! Every bearer secret (session cookie, access token, pre-authorized code, admin token, code) is
//! high-entropy, stored only as its SHA-256, and compared in constant time.

use base64::Engine;
use rand::{rngs::OsRng, Rng, RngCore};
use sha2::{Digest, Sha256};

/// A fresh random token of 256 bits, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a secret, as hex: the key under which it is stored.
pub use civic_credential::encoding::sha256_hex as hash_hex;

/// Constant-time equality.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    civic_credential::encoding::ct_eq(a, b)
}

/// A numeric transaction code of `len` digits.
pub fn numeric_code(len: usize) -> String {
    (0..len)
        .map(|_| char::from(b'0' + OsRng.gen_range(0..10u8)))
        .collect()
}

/// Crockford base32: no I, L, O or U, so codes are easy to read aloud and type.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in the public lookup part.
const ID_LEN: usize = 5;
/// Characters in the secret part (15 × 5 = 75 bits).
const SECRET_LEN: usize = 15;

/// An enrollment code as printed on a letter: `ABCDE-FGHJK-MNPQR-STVWX`. The first group looks
/// the code up (so wrong tries can be counted per code); the other three are the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollmentCodeText {
    /// The lookup part.
    pub code_id: String,
    secret: String,
}

impl core::fmt::Debug for EnrollmentCodeText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EnrollmentCodeText({}-…)", self.code_id)
    }
}

impl EnrollmentCodeText {
    /// A new random code.
    pub fn generate() -> Self {
        let pick = |n| -> String {
            (0..n)
                .map(|_| {
                    let at = OsRng.gen_range(0..ALPHABET.len());
                    ALPHABET.get(at).map_or('0', |b| char::from(*b))
                })
                .collect()
        };
        EnrollmentCodeText {
            code_id: pick(ID_LEN),
            secret: pick(SECRET_LEN),
        }
    }

    /// Parses what a resident typed: case, spaces and dashes are ignored, and the look-alikes
    /// O→0, I/L→1 are mapped. `None` if it cannot be a code.
    pub fn parse(input: &str) -> Option<Self> {
        if input.len() > 64 {
            return None;
        }
        let mut chars = String::with_capacity(ID_LEN + SECRET_LEN);
        for c in input.chars() {
            let c = match c.to_ascii_uppercase() {
                ' ' | '-' | '\t' => continue,
                'O' => '0',
                'I' | 'L' => '1',
                c if c.is_ascii() && ALPHABET.contains(&(c as u8)) => c,
                _ => return None,
            };
            chars.push(c);
        }
        if chars.len() != ID_LEN + SECRET_LEN {
            return None;
        }
        let (id, secret) = chars.split_at(ID_LEN);
        Some(EnrollmentCodeText {
            code_id: id.to_owned(),
            secret: secret.to_owned(),
        })
    }

    /// SHA-256 of the secret part.
    pub fn secret_hash(&self) -> [u8; 32] {
        Sha256::digest(self.secret.as_bytes()).into()
    }

    /// The printable form, in groups of five.
    pub fn display(&self) -> String {
        let all = format!("{}{}", self.code_id, self.secret);
        all.as_bytes()
            .chunks(5)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_leniently_and_hash_stably() {
        let code = EnrollmentCodeText::generate();
        let shown = code.display();
        assert_eq!(shown.len(), 23);
        let typed = shown.to_lowercase().replace('-', " ");
        let parsed = EnrollmentCodeText::parse(&typed).expect("parses");
        assert_eq!(parsed, code);
        assert_eq!(parsed.secret_hash(), code.secret_hash());
        assert_eq!(
            EnrollmentCodeText::parse("OOOOO-IIIII-LLLLL-00000").map(|c| c.display()),
            Some("00000-11111-11111-00000".into())
        );
        for bad in [
            "",
            "ABCDE",
            "ABCDE-FGHJK-MNPQR-STVWXY",
            "ABCDE-FGHJK-MNPQR-STVW!",
            "ÄBCDE-FGHJK-MNPQR-STVWX",
        ] {
            assert!(EnrollmentCodeText::parse(bad).is_none(), "{bad}");
        }
        assert!(!format!("{code:?}").contains(&code.secret));
    }

    #[test]
    fn tokens_are_distinct_and_hashes_hex() {
        assert_ne!(random_token(), random_token());
        assert_eq!(hash_hex("abc").len(), 64);
        assert_eq!(numeric_code(6).len(), 6);
    }
}
