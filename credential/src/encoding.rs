//! base64url and JSON helpers shared by every format in this crate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Largest compact token (SD-JWT with disclosures, KB-JWT, status list token) accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 1 << 20;

/// base64url without padding, as JOSE and SD-JWT require.
pub fn b64_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `what` names the part for the error.
pub fn b64_decode(text: &str, what: &'static str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(text.as_bytes())
        .map_err(|_| Error::Base64(what))
}

/// SHA-256: aws-lc-rs's assembly on servers (a verifier hashes every disclosure and the whole
/// presentation), the pure-Rust `sha2` in the browser wallet.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    #[cfg(not(target_arch = "wasm32"))]
    {
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }
    #[cfg(target_arch = "wasm32")]
    {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(bytes);
        let mut out = [0u8; 32];
        out.copy_from_slice(&d);
        out
    }
}

/// The base64url SHA-256 digest of an ASCII string, as used for disclosure digests and `sd_hash`.
pub fn sha256_b64(text: &str) -> String {
    b64_encode(&sha256(text.as_bytes()))
}

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// SHA-256 of a secret (a token, an API key, a response code), as hex: the form in which
/// services store and compare secrets.
pub fn sha256_hex(secret: &str) -> String {
    hex(&sha256(secret.as_bytes()))
}

/// Decodes base64url `text` into a buffer this thread reuses, and hands the bytes to `read` (to
/// parse them into owned values: a verifier decodes a dozen parts per presentation, and this
/// spares an allocation for each).
pub fn with_b64_decoded<T>(
    text: &str,
    what: &'static str,
    read: impl FnOnce(&[u8]) -> Result<T>,
) -> Result<T> {
    /// A buffer that grew past this is not kept.
    const KEEP: usize = 64 * 1024;
    std::thread_local! {
        static BUFFER: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|cell| {
        let Ok(mut buf) = cell.try_borrow_mut() else {
            // Called from inside `read`: use a buffer of its own.
            return read(&b64_decode(text, what)?);
        };
        buf.clear();
        let decoded = URL_SAFE_NO_PAD
            .decode_vec(text.as_bytes(), &mut buf)
            .map_err(|_| Error::Base64(what));
        let result = decoded.and_then(|()| read(&buf));
        if buf.capacity() > KEEP {
            *buf = Vec::new();
        }
        result
    })
}

/// Parses JSON from bytes, which must be UTF-8. Every byte input goes through here and
/// `serde_json::from_str`, so the browser wallet links one JSON reader per type instead of a
/// second one for byte slices (several KB of WebAssembly).
pub fn json_from_bytes<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    serde_json::from_str(core::str::from_utf8(bytes).ok()?).ok()
}

/// Decodes a base64url part that holds a JSON object.
pub fn b64_json_object(text: &str, what: &'static str) -> Result<Map<String, Value>> {
    with_b64_decoded(text, what, |bytes| {
        match json_from_bytes::<Value>(bytes).ok_or(Error::Json(what))? {
            Value::Object(map) => Ok(map),
            _ => Err(Error::Json(what)),
        }
    })
}

/// Serializes a JSON value and base64url-encodes it.
pub fn json_b64(value: &impl serde::Serialize) -> Result<String> {
    let bytes = serde_json::to_vec(value).map_err(|_| Error::Json("serialization"))?;
    Ok(b64_encode(&bytes))
}

/// Reads a JWT NumericDate (seconds since the epoch; fractions are truncated).
pub fn numeric_date(value: &Value) -> Option<i64> {
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    value
        .as_f64()
        .filter(|f| f.is_finite() && f.abs() < 1e15)
        .map(|f| f as i64)
}

/// Reads an optional NumericDate claim; a present but non-numeric value is an error.
pub fn optional_date(claims: &Map<String, Value>, name: &'static str) -> Result<Option<i64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => numeric_date(v).map(Some).ok_or(Error::InvalidClaim(name)),
    }
}

/// Reads a required string claim.
pub fn required_str<'a>(claims: &'a Map<String, Value>, name: &'static str) -> Result<&'a str> {
    match claims.get(name) {
        None => Err(Error::MissingClaim(name)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::InvalidClaim(name)),
    }
}

/// Constant-time equality for short secrets such as nonces and hashes.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_secret_hashes() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn base64url_rejects_padding_and_std_alphabet() {
        assert_eq!(b64_decode("YQ", "t").unwrap(), b"a");
        assert_eq!(b64_decode("YQ==", "t"), Err(Error::Base64("t")));
        assert_eq!(b64_decode("+/", "t"), Err(Error::Base64("t")));
    }

    #[test]
    fn numeric_dates() {
        assert_eq!(numeric_date(&serde_json::json!(5)), Some(5));
        assert_eq!(numeric_date(&serde_json::json!(5.9)), Some(5));
        assert_eq!(numeric_date(&serde_json::json!("5")), None);
        assert_eq!(numeric_date(&serde_json::json!(1e300)), None);
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
