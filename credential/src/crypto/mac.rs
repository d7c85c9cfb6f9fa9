//! HMAC-SHA-256 (RFC 2104), the one keyed hash behind pseudonyms, stateless nonces, WebAuthn user
//! handles, webhook signatures and browser bindings.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// SHA-256's block size: HMAC pads (or first hashes) the key to this length.
const BLOCK: usize = 64;

/// HMAC-SHA-256 of the concatenation of `parts` under `key`. Any key length is accepted, as
/// RFC 2104 says: a longer key is hashed first, a shorter one padded with zeros. There is no
/// error case, so callers have nothing impossible to handle.
pub fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        let digest = Sha256::digest(key);
        block.iter_mut().zip(digest).for_each(|(b, k)| *b = k);
    } else {
        block.iter_mut().zip(key).for_each(|(b, k)| *b = *k);
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn rfc_4231_vectors() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], &[b"Hi There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(
                b"Jefe",
                &[b"what do ya want ", b"for nothing?"]
            )),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_block_sized_key_is_used_as_is() {
        let key = [7u8; BLOCK];
        let Ok(mut reference) = <Hmac<Sha256> as Mac>::new_from_slice(&key) else {
            panic!("HMAC takes keys of any length");
        };
        reference.update(b"m");
        assert_eq!(
            hmac_sha256(&key, &[b"m"]),
            <[u8; 32]>::from(reference.finalize().into_bytes())
        );
    }
}
