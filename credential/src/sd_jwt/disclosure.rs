//! Disclosures: `[salt, name, value]` for object properties, `[salt, value]` for array elements.

use rand_core::CryptoRngCore;
use serde_json::Value;

use crate::encoding::{b64_decode, b64_encode, sha256_b64};
use crate::error::{Error, Result};

/// Salt length in bytes: 128 bits, as RFC 9901 recommends at minimum.
pub const SALT_BYTES: usize = 16;

/// One disclosure, with its encoded form and its digest.
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    /// The base64url text exactly as it travels (the digest is over this text).
    pub encoded: String,
    /// base64url SHA-256 of `encoded`.
    pub digest: String,
    /// The salt.
    pub salt: String,
    /// The claim name for an object property; `None` for an array element.
    pub name: Option<String>,
    /// The disclosed value.
    pub value: Value,
}

/// Whether a claim name is reserved by SD-JWT and may not be disclosed.
pub fn is_reserved_name(name: &str) -> bool {
    name == "_sd" || name == "..."
}

impl Disclosure {
    /// Makes a disclosure with a fresh salt from `rng`.
    pub fn new(name: Option<&str>, value: Value, rng: &mut impl CryptoRngCore) -> Result<Self> {
        if let Some(n) = name {
            if is_reserved_name(n) {
                return Err(Error::ReservedClaimName(n.to_owned()));
            }
        }
        let salt = random_b64(rng)?;
        let array = match name {
            Some(n) => Value::Array(vec![salt.clone().into(), n.into(), value.clone()]),
            None => Value::Array(vec![salt.clone().into(), value.clone()]),
        };
        let json = serde_json::to_string(&array).map_err(|_| Error::Json("disclosure"))?;
        let encoded = b64_encode(json.as_bytes());
        Ok(Disclosure {
            digest: sha256_b64(&encoded),
            encoded,
            salt,
            name: name.map(str::to_owned),
            value,
        })
    }

    /// Parses an encoded disclosure.
    pub fn parse(encoded: &str) -> Result<Self> {
        let bytes = b64_decode(encoded, "disclosure")?;
        let Ok(Value::Array(mut items)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(Error::MalformedDisclosure("not a JSON array"));
        };
        let (salt, name, value) = match items.len() {
            2 => {
                let value = items.pop().unwrap_or(Value::Null);
                (items.pop(), None, value)
            }
            3 => {
                let value = items.pop().unwrap_or(Value::Null);
                let name = match items.pop() {
                    Some(Value::String(n)) => n,
                    _ => return Err(Error::MalformedDisclosure("claim name is not a string")),
                };
                (items.pop(), Some(name), value)
            }
            _ => return Err(Error::MalformedDisclosure("must have 2 or 3 elements")),
        };
        let salt = match salt {
            Some(Value::String(s)) => s,
            _ => return Err(Error::MalformedDisclosure("salt is not a string")),
        };
        if let Some(n) = &name {
            if is_reserved_name(n) {
                return Err(Error::ReservedClaimName(n.clone()));
            }
        }
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            digest: sha256_b64(encoded),
            salt,
            name,
            value,
        })
    }
}

/// 128 random bits, base64url: a salt, or the preimage of a decoy digest.
pub(crate) fn random_b64(rng: &mut impl CryptoRngCore) -> Result<String> {
    let mut bytes = [0u8; SALT_BYTES];
    rng.try_fill_bytes(&mut bytes)
        .map_err(|_| Error::Randomness)?;
    Ok(b64_encode(&bytes))
}

/// A decoy digest: the hash of random bytes, indistinguishable from a real digest.
pub(crate) fn decoy_digest(rng: &mut impl CryptoRngCore) -> Result<String> {
    Ok(sha256_b64(&random_b64(rng)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;
    use serde_json::json;

    #[test]
    fn round_trip_and_salt_entropy() {
        let d = Disclosure::new(Some("given_name"), json!("Ada"), &mut OsRng).unwrap();
        assert_eq!(b64_decode(&d.salt, "s").unwrap().len(), SALT_BYTES);
        assert_eq!(Disclosure::parse(&d.encoded).unwrap(), d);
        let e = Disclosure::new(None, json!("NL"), &mut OsRng).unwrap();
        assert_eq!(Disclosure::parse(&e.encoded).unwrap().name, None);
    }

    #[test]
    fn malformed_disclosures() {
        let enc = |v: Value| b64_encode(v.to_string().as_bytes());
        for (v, why) in [
            (json!({"a": 1}), "not a JSON array"),
            (json!(["s"]), "must have 2 or 3 elements"),
            (json!(["s", "n", 1, 2]), "must have 2 or 3 elements"),
            (json!([1, "n", 1]), "salt is not a string"),
            (json!(["s", 5, 1]), "claim name is not a string"),
        ] {
            assert_eq!(
                Disclosure::parse(&enc(v)),
                Err(Error::MalformedDisclosure(why))
            );
        }
        assert_eq!(Disclosure::parse("***"), Err(Error::Base64("disclosure")));
        assert_eq!(
            Disclosure::parse(&enc(json!(["s", "_sd", 1]))),
            Err(Error::ReservedClaimName("_sd".into()))
        );
        assert_eq!(
            Disclosure::parse(&enc(json!(["s", "...", 1]))),
            Err(Error::ReservedClaimName("...".into()))
        );
    }
}
