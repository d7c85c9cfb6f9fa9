//! Disclosures: `[salt, name, value]` for object properties, `[salt, value]` for array elements.

use rand_core::CryptoRngCore;
use serde_json::Value;

use crate::encoding::{b64_encode, sha256_b64, with_b64_decoded};
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
pub(crate) fn is_reserved_name(name: &str) -> bool {
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
        let Elements(mut items, count) = with_b64_decoded(encoded, "disclosure", |bytes| {
            crate::encoding::json_from_bytes::<Elements>(bytes)
                .ok_or(Error::MalformedDisclosure("not a JSON array"))
        })?;
        let (salt, name, value) = match count {
            2 => (
                items[0].take(),
                None,
                items[1].take().unwrap_or(Value::Null),
            ),
            3 => {
                let name = match items[1].take() {
                    Some(Value::String(n)) => n,
                    _ => return Err(Error::MalformedDisclosure("claim name is not a string")),
                };
                (
                    items[0].take(),
                    Some(name),
                    items[2].take().unwrap_or(Value::Null),
                )
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

/// A disclosure's JSON array read without an intermediate `Vec`: its first three elements and
/// how many there are (elements past the third are skipped, and only counted).
struct Elements([Option<Value>; 3], usize);

impl<'de> serde::Deserialize<'de> for Elements {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Elements;
            fn expecting(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("a JSON array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> core::result::Result<Elements, A::Error> {
                let mut items: [Option<Value>; 3] = [None, None, None];
                let mut count = 0;
                for slot in &mut items {
                    match seq.next_element::<Value>()? {
                        Some(v) => *slot = Some(v),
                        None => return Ok(Elements(items, count)),
                    }
                    count += 1;
                }
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    count += 1;
                }
                Ok(Elements(items, count))
            }
        }
        d.deserialize_seq(Visit)
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
    use crate::encoding::b64_decode;
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
