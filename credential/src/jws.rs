//! Compact JWS (RFC 7515): parse once, sign, verify against the allow-list.

use serde_json::{Map, Value};

use crate::crypto::{Algorithm, JwsSigner, VerifyingKey};
use crate::encoding::{b64_decode, b64_json_object, json_b64, MAX_TOKEN_BYTES};
use crate::error::{Error, Result};
use crate::jwk::Jwk;

/// A parsed compact JWS. The signature is not checked until [`Jws::verify`].
#[derive(Debug, Clone)]
pub struct Jws<'a> {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The payload, which must be a JSON object.
    pub payload: Map<String, Value>,
    /// The allowed algorithm named in the header.
    pub alg: Algorithm,
    signing_input: &'a str,
    signature: Vec<u8>,
}

impl<'a> Jws<'a> {
    /// Parses `header.payload.signature`. Fails on a non-allow-listed `alg` before any crypto.
    pub fn parse(token: &'a str) -> Result<Self> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(Error::TooLarge("JWS"));
        }
        let mut parts = token.splitn(4, '.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedJws("expected three dot-separated parts"));
        };
        let header = b64_json_object(h, "JWS header")?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => Algorithm::from_jose(alg)?,
            Some(_) => return Err(Error::InvalidClaim("alg")),
            None => return Err(Error::MissingClaim("alg")),
        };
        if header.contains_key("crit") {
            return Err(Error::InvalidClaim("crit"));
        }
        let payload = b64_json_object(p, "JWS payload")?;
        let signature = b64_decode(s, "JWS signature")?;
        Ok(Jws {
            header,
            payload,
            alg,
            signing_input: &token[..h.len() + 1 + p.len()],
            signature,
        })
    }

    /// Verifies the signature with `key` (whose algorithm must be the header's).
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        key.verify(self.alg, self.signing_input.as_bytes(), &self.signature)
    }

    /// The header `typ`, if present and a string.
    pub fn typ(&self) -> Option<&str> {
        self.header.get("typ").and_then(Value::as_str)
    }

    /// Fails unless the header `typ` is `expected`.
    pub fn require_typ(&self, expected: &'static str) -> Result<()> {
        match self.typ() {
            Some(t) if t == expected => Ok(()),
            found => Err(Error::UnexpectedType {
                expected,
                found: found.map(str::to_owned),
            }),
        }
    }

    /// The header `kid`, if present and a string.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }
}

/// The extra header of what an issuer signs: the signer's certificate chain as `x5c`, if it
/// has one. (Kept out of [`sign`], which the wallet links for its own signatures, which never
/// carry a certificate.)
pub fn chain_header(signer: &dyn JwsSigner) -> Map<String, Value> {
    let mut header = Map::new();
    if let Some(chain) = signer.x5c() {
        header.insert("x5c".into(), crate::x509::x5c_value(chain));
    }
    header
}

/// Signs a JWS with header `{alg, typ, jwk}` over `payload`: the public key travels in the
/// header and no `kid` is set (OID4VCI proofs, DPoP proofs).
pub fn sign_with_jwk(
    typ: &str,
    public: &Jwk,
    payload: &Map<String, Value>,
    signer: &dyn JwsSigner,
) -> Result<String> {
    let mut header = Map::new();
    let jwk = serde_json::to_value(public.to_public()).map_err(|_| Error::Json("jwk"))?;
    header.insert("jwk".into(), jwk);
    sign(typ, header, payload, &crate::crypto::WithoutKid(signer))
}

/// The public key in a JWS's `jwk` header, which must be the only key reference (no `kid`, no
/// `x5c`) and hold no private part. The signature is not checked here.
pub fn embedded_jwk(jws: &Jws<'_>) -> Result<Jwk> {
    if jws.header.contains_key("kid") || jws.header.contains_key("x5c") {
        return Err(Error::ProofKey(
            "use exactly one of jwk, kid, x5c; a jwk is required here",
        ));
    }
    let jwk: Jwk = match jws.header.get("jwk") {
        Some(v @ Value::Object(_)) => serde_json::from_value(v.clone())
            .map_err(|_| Error::ProofKey("jwk is not a valid JWK"))?,
        Some(_) => return Err(Error::ProofKey("jwk is not an object")),
        None => return Err(Error::ProofKey("missing jwk header")),
    };
    if jwk.is_private() {
        return Err(Error::ProofKey("jwk contains a private key"));
    }
    Ok(jwk)
}

/// Signs a JWS with header `{alg, typ, kid?}` plus `extra_header`, over `payload`.
pub fn sign(
    typ: &str,
    extra_header: Map<String, Value>,
    payload: &Map<String, Value>,
    signer: &dyn JwsSigner,
) -> Result<String> {
    let mut header = extra_header;
    header.insert("alg".into(), signer.algorithm().as_jose().into());
    header.insert("typ".into(), typ.into());
    if let Some(kid) = signer.key_id() {
        header.insert("kid".into(), kid.into());
    }
    let mut token = json_b64(&header)?;
    token.push('.');
    token.push_str(&json_b64(payload)?);
    let signature = signer.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&crate::encoding::b64_encode(&signature));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::SigningKey;
    use crate::encoding::b64_encode;
    use rand::rngs::OsRng;
    use serde_json::json;

    fn payload() -> Map<String, Value> {
        json!({"a": 1}).as_object().cloned().unwrap()
    }

    #[test]
    fn round_trip() {
        let key = SigningKey::generate(Algorithm::Es256, &mut OsRng)
            .unwrap()
            .with_kid("k");
        let token = sign("x+jwt", Map::new(), &payload(), &key).unwrap();
        let jws = Jws::parse(&token).unwrap();
        jws.verify(&key.verifying_key().unwrap()).unwrap();
        assert_eq!(jws.kid(), Some("k"));
        jws.require_typ("x+jwt").unwrap();
        assert!(matches!(
            jws.require_typ("y"),
            Err(Error::UnexpectedType { .. })
        ));
    }

    #[test]
    fn rejects_alg_none_and_hmac_before_crypto() {
        for alg in ["none", "HS256"] {
            let h = b64_encode(format!(r#"{{"alg":"{alg}"}}"#).as_bytes());
            let token = format!("{h}.{}.", b64_encode(b"{}"));
            assert_eq!(
                Jws::parse(&token).map(|_| ()),
                Err(Error::AlgorithmNotAllowed(alg.into()))
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        assert!(matches!(Jws::parse("a.b"), Err(Error::MalformedJws(_))));
        assert!(matches!(Jws::parse("a.b.c.d"), Err(Error::MalformedJws(_))));
        assert!(matches!(Jws::parse("!.b.c"), Err(Error::Base64(_))));
        let h = b64_encode(b"[1]");
        assert!(matches!(
            Jws::parse(&format!("{h}.e30.")),
            Err(Error::Json(_))
        ));
        let h = b64_encode(br#"{"alg":"ES256","crit":["x"]}"#);
        assert!(matches!(
            Jws::parse(&format!("{h}.e30.")),
            Err(Error::InvalidClaim("crit"))
        ));
    }

    #[test]
    fn tampered_payload_fails() {
        let key = SigningKey::generate(Algorithm::EdDsa, &mut OsRng).unwrap();
        let token = sign("jwt", Map::new(), &payload(), &key).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], b64_encode(br#"{"a":2}"#), parts[2]);
        let jws = Jws::parse(&forged).unwrap();
        assert_eq!(
            jws.verify(&key.verifying_key().unwrap()),
            Err(Error::InvalidSignature)
        );
    }
}
