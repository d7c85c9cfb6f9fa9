//! Encrypted OpenID4VP answers (`direct_post.jwt`, OpenID4VP 1.0 §8.3, HAIP 1.0): a JWE in
//! compact serialization (RFC 7516) with ECDH-ES direct key agreement on P-256 and A128GCM or
//! A256GCM content encryption (RFC 7518 §4.6, §5.3).
//!
//! The verifier puts a fresh ephemeral public key per request in `client_metadata.jwks` with the
//! content encryption it accepts in `encrypted_response_enc_values_supported`
//! ([`ResponseEncryption::client_metadata`]); the wallet reads them back
//! ([`ResponseEncryption::from_client_metadata`]) and seals the response parameters
//! ([`ResponseEncryption::seal`]), and the verifier opens them with [`open`]. Pure Rust (p256,
//! aes-gcm) so the wallet can use it in WebAssembly; on servers the key agreement of [`open`]
//! goes through aws-lc-rs.
//!
//! The other way round, an issuer seals a credential response to the wallet's key (OID4VCI 1.0
//! §8.3, josekit in civic-issuer) and the wallet opens it with [`open`].

use aes_gcm::{AeadInOut, Aes128Gcm, Aes256Gcm, KeyInit};
use p256::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use p256::{EncodedPoint, PublicKey, SecretKey};
use rand_core::CryptoRngCore;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::encoding::{b64_decode, b64_encode, json_b64};
use crate::error::{Error, Result};
use crate::jwk::{Jwk, SecretString};

/// The key management algorithm: ECDH-ES, direct key agreement.
pub const ECDH_ES: &str = "ECDH-ES";
/// `client_metadata` member listing the content encryption algorithms a verifier accepts.
pub const ENC_VALUES: &str = "encrypted_response_enc_values_supported";

/// Content encryption: AES-GCM with a 128 or 256 bit key (HAIP 1.0 asks for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Enc {
    /// `A128GCM`, the default of OpenID4VP when a verifier names none.
    #[serde(rename = "A128GCM")]
    A128Gcm,
    /// `A256GCM`.
    #[serde(rename = "A256GCM")]
    A256Gcm,
}

impl Enc {
    /// Every supported value, in order of preference.
    pub const ALL: [Enc; 2] = [Enc::A128Gcm, Enc::A256Gcm];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Enc::A128Gcm => "A128GCM",
            Enc::A256Gcm => "A256GCM",
        }
    }

    /// Reads a JOSE name; `None` for anything this module does not do.
    pub fn from_name(name: &str) -> Option<Enc> {
        Enc::ALL.into_iter().find(|e| e.name() == name)
    }

    fn key_len(self) -> usize {
        match self {
            Enc::A128Gcm => 16,
            Enc::A256Gcm => 32,
        }
    }
}

/// Where and how a wallet encrypts its answer: the verifier's public key and the content
/// encryption to use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseEncryption {
    /// The verifier's ephemeral public key (EC P-256, for ECDH-ES).
    pub jwk: Jwk,
    /// The content encryption.
    pub enc: Enc,
}

/// A new P-256 private JWK. On servers through aws-lc-rs (a verifier makes one per session; the
/// pure-Rust point multiplication was a tenth of the verifier service's CPU); in the wasm wallet
/// with p256, as before.
fn fresh_p256_key(rng: &mut impl CryptoRngCore) -> Jwk {
    #[cfg(not(target_arch = "wasm32"))]
    if let Ok(key) = crate::crypto::SigningKey::generate(crate::crypto::Algorithm::Es256, rng) {
        return key.to_private_jwk();
    }
    // (On servers only a failing random source gets here.)
    let secret = SecretKey::random(rng);
    let point = secret.public_key().to_encoded_point(false);
    Jwk {
        kty: "EC".into(),
        crv: Some("P-256".into()),
        x: point.x().map(|x| b64_encode(x)),
        y: point.y().map(|y| b64_encode(y)),
        d: Some(SecretString::new(b64_encode(&secret.to_bytes()))),
        kid: None,
        alg: None,
        use_: None,
    }
}

impl ResponseEncryption {
    /// A fresh ephemeral recipient key pair for one request: the private JWK (kept by the
    /// verifier with its session) with a random `kid`, `use: enc` and `alg: ECDH-ES`.
    pub fn generate_key(rng: &mut impl CryptoRngCore) -> Jwk {
        let mut kid = [0u8; 12];
        rng.fill_bytes(&mut kid);
        Jwk {
            kid: Some(b64_encode(&kid)),
            alg: Some(ECDH_ES.into()),
            use_: Some("enc".into()),
            ..fresh_p256_key(rng)
        }
    }

    /// The `client_metadata` members that ask for an encrypted answer to `key` (its public
    /// part only) with any of `accepted`.
    pub fn client_metadata(key: &Jwk, accepted: &[Enc]) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("jwks".into(), json!({ "keys": [key.to_public()] }));
        m.insert(
            ENC_VALUES.into(),
            accepted.iter().map(|e| Value::from(e.name())).collect(),
        );
        m
    }

    /// Reads a request's `client_metadata`: the first key of `jwks` usable for ECDH-ES on
    /// P-256 (`use` absent or `enc`, `alg` absent or `ECDH-ES`), and the content encryption:
    /// `A256GCM` when `encrypted_response_enc_values_supported` offers it (HAIP 1.0 §5: a wallet
    /// that supports both should use it), else `A128GCM` (also OpenID4VP's default when absent).
    pub fn from_client_metadata(metadata: Option<&Value>) -> Result<Self> {
        let keys = metadata
            .and_then(|m| m.get("jwks"))
            .and_then(|j| j.get("keys"))
            .and_then(Value::as_array)
            .ok_or(Error::MissingClaim("client_metadata.jwks"))?;
        let jwk = keys
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .find(|k| {
                k.kty == "EC"
                    && k.crv.as_deref() == Some("P-256")
                    && k.use_.as_deref().is_none_or(|u| u == "enc")
                    && k.alg.as_deref().is_none_or(|a| a == ECDH_ES)
                    && k.d.is_none()
                    && public_key(k).is_ok()
            })
            .ok_or(Error::InvalidKey(
                "client_metadata.jwks has no P-256 ECDH-ES key",
            ))?;
        let enc = match metadata.and_then(|m| m.get(ENC_VALUES)) {
            None => Enc::A128Gcm,
            Some(values) => {
                let offered: Vec<Enc> = values
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter_map(Enc::from_name)
                    .collect();
                [Enc::A256Gcm, Enc::A128Gcm]
                    .into_iter()
                    .find(|e| offered.contains(e))
                    .ok_or(Error::InvalidClaim(ENC_VALUES))?
            }
        };
        Ok(ResponseEncryption { jwk, enc })
    }

    /// Seals `params` (the response parameters: `vp_token`, `state`, or `error`) as a JWE for
    /// the `response` form field.
    pub fn seal(
        &self,
        params: &Map<String, Value>,
        rng: &mut impl CryptoRngCore,
    ) -> Result<String> {
        let recipient = public_key(&self.jwk)?;
        let ephemeral = SecretKey::random(rng);
        let z = Zeroizing::new(shared_secret(&ephemeral, &recipient));
        let key = concat_kdf(z.as_slice(), self.enc.name(), self.enc.key_len(), b"", b"");
        let epk = ephemeral.public_key().to_encoded_point(false);
        let mut header = Map::new();
        header.insert("alg".into(), ECDH_ES.into());
        header.insert("enc".into(), self.enc.name().into());
        if let Some(kid) = &self.jwk.kid {
            header.insert("kid".into(), kid.clone().into());
        }
        header.insert(
            "epk".into(),
            json!({
                "kty": "EC",
                "crv": "P-256",
                "x": epk.x().map(|x| b64_encode(x)),
                "y": epk.y().map(|y| b64_encode(y)),
            }),
        );
        let protected = json_b64(&header)?;
        let mut iv = [0u8; 12];
        rng.fill_bytes(&mut iv);
        let mut data = serde_json::to_vec(params).map_err(|_| Error::Json("response"))?;
        let tag = match self.enc {
            Enc::A128Gcm => Aes128Gcm::new_from_slice(&key)
                .map_err(|_| Error::InvalidKey("A128GCM key"))?
                .encrypt_inout_detached(
                    &iv.into(),
                    protected.as_bytes(),
                    data.as_mut_slice().into(),
                )
                .map(|t| t.to_vec()),
            Enc::A256Gcm => Aes256Gcm::new_from_slice(&key)
                .map_err(|_| Error::InvalidKey("A256GCM key"))?
                .encrypt_inout_detached(
                    &iv.into(),
                    protected.as_bytes(),
                    data.as_mut_slice().into(),
                )
                .map(|t| t.to_vec()),
        }
        .map_err(|_| Error::TooLarge("response"))?;
        Ok(format!(
            "{protected}..{}.{}.{}",
            b64_encode(&iv),
            b64_encode(&data),
            b64_encode(&tag)
        ))
    }
}

/// Opens a compact JWE sealed to `recipient` (a private P-256 JWK) with ECDH-ES direct key
/// agreement and A128GCM or A256GCM: the plaintext. Anything else (another algorithm, an
/// encrypted key, a missing or off-curve `epk`, a wrong tag) is refused.
pub fn open(jwe: &str, recipient: &Jwk) -> Result<Vec<u8>> {
    let bad = Error::MalformedJws;
    let mut parts = jwe.split('.');
    let (Some(protected), Some(encrypted_key), Some(iv), Some(data), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad("a compact JWE has five parts"));
    };
    if !encrypted_key.is_empty() {
        return Err(bad("ECDH-ES direct agreement has no encrypted key"));
    }
    let header = crate::encoding::b64_json_object(protected, "JWE header")?;
    let member = |name: &'static str| header.get(name).and_then(Value::as_str);
    if member("alg") != Some(ECDH_ES) {
        return Err(Error::AlgorithmNotAllowed(
            member("alg").unwrap_or_default().to_owned(),
        ));
    }
    let enc = member("enc")
        .and_then(Enc::from_name)
        .ok_or(Error::InvalidClaim("enc"))?;
    // Nothing this reader does not understand (RFC 7516 §4.1.13), and no compression.
    if header.contains_key("crit") || header.contains_key("zip") {
        return Err(Error::InvalidClaim("crit"));
    }
    let epk: Jwk = header
        .get("epk")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .filter(|k: &Jwk| k.kty == "EC" && k.crv.as_deref() == Some("P-256") && !k.is_private())
        .ok_or(Error::MissingClaim("epk"))?;
    let party = |name: &'static str| match member(name) {
        Some(v) => b64_decode(v, name),
        None => Ok(Vec::new()),
    };
    let (apu, apv) = (party("apu")?, party("apv")?);
    let d = recipient
        .d
        .as_ref()
        .ok_or(Error::InvalidKey("no private key"))?;
    let secret = Zeroizing::new(b64_decode(d.expose(), "d")?);
    let z = agree(&secret, &epk)?;
    let key = concat_kdf(z.as_slice(), enc.name(), enc.key_len(), &apu, &apv);
    let iv: [u8; 12] = b64_decode(iv, "iv")?
        .try_into()
        .map_err(|_| bad("a 96-bit iv"))?;
    let tag: [u8; 16] = b64_decode(tag, "tag")?
        .try_into()
        .map_err(|_| bad("a 128-bit tag"))?;
    let mut plain = b64_decode(data, "ciphertext")?;
    let (nonce, tag) = ((&iv).into(), (&tag).into());
    let opened = match enc {
        Enc::A128Gcm => Aes128Gcm::new_from_slice(&key)
            .map_err(|_| Error::InvalidKey("A128GCM key"))?
            .decrypt_inout_detached(
                nonce,
                protected.as_bytes(),
                plain.as_mut_slice().into(),
                tag,
            ),
        Enc::A256Gcm => Aes256Gcm::new_from_slice(&key)
            .map_err(|_| Error::InvalidKey("A256GCM key"))?
            .decrypt_inout_detached(
                nonce,
                protected.as_bytes(),
                plain.as_mut_slice().into(),
                tag,
            ),
    };
    opened.map_err(|_| Error::InvalidSignature)?;
    Ok(plain)
}

/// The x and y coordinates of the P-256 point in `jwk`, 32 bytes each (not yet checked to be
/// on the curve).
fn coordinates(jwk: &Jwk) -> Result<([u8; 32], [u8; 32])> {
    let coord = |c: &Option<String>, what| -> Result<[u8; 32]> {
        let bytes = b64_decode(c.as_deref().ok_or(Error::InvalidKey(what))?, what)?;
        bytes.try_into().map_err(|_| Error::InvalidKey(what))
    };
    Ok((coord(&jwk.x, "x")?, coord(&jwk.y, "y")?))
}

/// The P-256 public key of `jwk`.
fn public_key(jwk: &Jwk) -> Result<PublicKey> {
    let (x, y) = coordinates(jwk)?;
    let point = EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
    Option::from(PublicKey::from_encoded_point(&point)).ok_or(Error::InvalidKey("not on P-256"))
}

/// The ECDH shared secret Z of the private scalar `d` (32 bytes) and the sender's `epk`. On
/// servers through aws-lc-rs, which also checks that the point is on P-256: a verifier opens
/// every encrypted answer, and OpenSSL 3.0's key decoding (josekit's route) was 44% of the
/// verifier service's CPU. In the wasm wallet with p256.
#[cfg(not(target_arch = "wasm32"))]
fn agree(d: &[u8], epk: &Jwk) -> Result<Zeroizing<[u8; 32]>> {
    use aws_lc_rs::agreement::{self, PrivateKey, UnparsedPublicKey, ECDH_P256};

    let (x, y) = coordinates(epk)?;
    // SEC 1 uncompressed: 0x04, x, y.
    let point: Vec<u8> = std::iter::once(0x04).chain(x).chain(y).collect();
    let private =
        PrivateKey::from_private_key(&ECDH_P256, d).map_err(|_| Error::InvalidKey("d"))?;
    agreement::agree(
        &private,
        UnparsedPublicKey::new(&ECDH_P256, &point),
        Error::InvalidKey("not on P-256"),
        |z| {
            let mut out = Zeroizing::new([0u8; 32]);
            if z.len() != out.len() {
                return Err(Error::InvalidKey("not on P-256"));
            }
            out.copy_from_slice(z);
            Ok(out)
        },
    )
}

/// The ECDH shared secret Z of the private scalar `d` and the sender's `epk` (p256).
#[cfg(target_arch = "wasm32")]
fn agree(d: &[u8], epk: &Jwk) -> Result<Zeroizing<[u8; 32]>> {
    let secret = SecretKey::from_slice(d).map_err(|_| Error::InvalidKey("d"))?;
    Ok(Zeroizing::new(shared_secret(&secret, &public_key(epk)?)))
}

/// The ECDH shared secret Z: the x coordinate of `secret` times `public`.
fn shared_secret(secret: &SecretKey, public: &PublicKey) -> [u8; 32] {
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), public.as_affine());
    (*shared.raw_secret_bytes()).into()
}

/// The Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A, one SHA-256 round: keys of at most
/// 256 bits) for direct key agreement: the algorithm id is the `enc` name.
fn concat_kdf(z: &[u8], alg: &str, key_len: usize, apu: &[u8], apv: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut h = Sha256::new();
    h.update(1u32.to_be_bytes());
    h.update(z);
    for part in [alg.as_bytes(), apu, apv] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    h.update(((key_len * 8) as u32).to_be_bytes());
    let mut key = h.finalize().to_vec();
    key.truncate(key_len);
    Zeroizing::new(key)
}

#[cfg(test)]
mod tests {
    use rand_core::OsRng;

    use super::*;

    fn secret(d: &str) -> SecretKey {
        SecretKey::from_slice(&b64_decode(d, "d").unwrap()).unwrap()
    }

    /// RFC 7518 Appendix C: Alice's ephemeral key and Bob's key agree on this A128GCM key with
    /// `apu` "Alice" and `apv` "Bob".
    #[test]
    fn concat_kdf_matches_rfc_7518_appendix_c() {
        let alice = secret("0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo");
        let bob = secret("VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw");
        let bob_public = public_key(&Jwk {
            kty: "EC".into(),
            crv: Some("P-256".into()),
            x: Some("weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ".into()),
            y: Some("e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck".into()),
            d: None,
            kid: None,
            alg: None,
            use_: None,
        })
        .unwrap();
        assert_eq!(bob.public_key(), bob_public);
        let z = shared_secret(&alice, &bob_public);
        assert_eq!(z, shared_secret(&bob, &alice.public_key()));
        let key = concat_kdf(&z, "A128GCM", 16, b"Alice", b"Bob");
        assert_eq!(b64_encode(&key), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn metadata_round_trip_and_choice() {
        let key = ResponseEncryption::generate_key(&mut OsRng);
        assert!(key.is_private());
        // Both offered, in either order: A256GCM.
        let meta = Value::Object(ResponseEncryption::client_metadata(
            &key,
            &[Enc::A128Gcm, Enc::A256Gcm],
        ));
        assert!(!meta.to_string().contains("\"d\""), "only the public key");
        let e = ResponseEncryption::from_client_metadata(Some(&meta)).unwrap();
        assert_eq!(e.enc, Enc::A256Gcm);
        assert_eq!(e.jwk, key.to_public());
        // No enc values: A128GCM; unknown ones only: refused; no usable key: refused.
        let mut m = meta.clone();
        m.as_object_mut().unwrap().remove(ENC_VALUES);
        assert_eq!(
            ResponseEncryption::from_client_metadata(Some(&m))
                .unwrap()
                .enc,
            Enc::A128Gcm
        );
        m[ENC_VALUES] = json!(["A128CBC-HS256"]);
        assert!(ResponseEncryption::from_client_metadata(Some(&m)).is_err());
        let mut m = meta.clone();
        m["jwks"]["keys"][0]["alg"] = json!("ECDH-ES+A128KW");
        assert!(ResponseEncryption::from_client_metadata(Some(&m)).is_err());
        let mut m = meta;
        m["jwks"]["keys"][0]["x"] = json!(b64_encode(&[7u8; 32]));
        assert!(ResponseEncryption::from_client_metadata(Some(&m)).is_err());
        assert!(ResponseEncryption::from_client_metadata(None).is_err());
    }

    #[test]
    fn seal_makes_a_compact_jwe_with_a_fresh_epk_and_iv() {
        let key = ResponseEncryption::generate_key(&mut OsRng);
        let meta = Value::Object(ResponseEncryption::client_metadata(&key, &[Enc::A128Gcm]));
        let e = ResponseEncryption::from_client_metadata(Some(&meta)).unwrap();
        let mut params = Map::new();
        params.insert("state".into(), "s".into());
        let a = e.seal(&params, &mut OsRng).unwrap();
        let b = e.seal(&params, &mut OsRng).unwrap();
        let parts: Vec<&str> = a.split('.').collect();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], "", "direct key agreement has no encrypted key");
        let header = crate::encoding::b64_json_object(parts[0], "header").unwrap();
        assert_eq!(header["alg"], "ECDH-ES");
        assert_eq!(header["enc"], "A128GCM");
        assert_eq!(header["kid"], json!(key.kid));
        let other: Vec<&str> = b.split('.').collect();
        assert_ne!(parts[0], other[0], "a fresh ephemeral key each time");
        assert_ne!(parts[2], other[2], "a fresh iv each time");
        assert!(!a.contains("\"s\""));
    }

    #[test]
    fn what_is_sealed_opens_with_the_recipient_key_only_and_untampered() {
        let key = ResponseEncryption::generate_key(&mut OsRng);
        let other = ResponseEncryption::generate_key(&mut OsRng);
        let params = json!({ "credentials": [{ "credential": "a~b~" }] })
            .as_object()
            .cloned()
            .unwrap();
        for enc in Enc::ALL {
            let sealer = ResponseEncryption {
                jwk: key.to_public(),
                enc,
            };
            let jwe = sealer.seal(&params, &mut OsRng).unwrap();
            let plain = open(&jwe, &key).unwrap();
            assert_eq!(
                serde_json::from_slice::<Value>(&plain).unwrap(),
                Value::Object(params.clone())
            );
            assert!(open(&jwe, &other).is_err(), "another key");
            assert!(open(&jwe, &key.to_public()).is_err(), "no private key");
            let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
            let last = parts[4].pop().unwrap();
            parts[4].push(if last == 'A' { 'B' } else { 'A' });
            assert!(open(&parts.join("."), &key).is_err(), "a wrong tag");
            parts[1] = "x".into();
            assert!(open(&parts.join("."), &key).is_err(), "an encrypted key");
        }
        assert!(open("a.b.c", &key).is_err());
    }

    /// A JWE to `recipient` whose protected header also has `extra` (made here, as no sealer
    /// of ours writes such headers).
    fn sealed_with(recipient: &Jwk, extra: Map<String, Value>) -> String {
        let ephemeral = SecretKey::random(&mut OsRng);
        let z = shared_secret(&ephemeral, &public_key(recipient).unwrap());
        let key = concat_kdf(&z, "A128GCM", 16, b"", b"");
        let epk = ephemeral.public_key().to_encoded_point(false);
        let mut header = extra;
        header.insert("alg".into(), ECDH_ES.into());
        header.insert("enc".into(), "A128GCM".into());
        header.insert(
            "epk".into(),
            json!({"kty": "EC", "crv": "P-256", "x": b64_encode(epk.x().unwrap()), "y": b64_encode(epk.y().unwrap())}),
        );
        let protected = json_b64(&header).unwrap();
        let iv = [7u8; 12];
        let mut data = b"{}".to_vec();
        let tag = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .encrypt_inout_detached(&iv.into(), protected.as_bytes(), data.as_mut_slice().into())
            .unwrap();
        format!(
            "{protected}..{}.{}.{}",
            b64_encode(&iv),
            b64_encode(&data),
            b64_encode(&tag)
        )
    }

    #[test]
    fn headers_this_reader_does_not_understand_are_refused() {
        let key = ResponseEncryption::generate_key(&mut OsRng);
        assert_eq!(
            open(&sealed_with(&key, Map::new()), &key).unwrap(),
            b"{}".to_vec()
        );
        for (name, value) in [("crit", json!(["exp"])), ("zip", json!("DEF"))] {
            let mut extra = Map::new();
            extra.insert(name.into(), value);
            assert!(open(&sealed_with(&key, extra), &key).is_err(), "{name}");
        }
    }

    /// The invalid-curve attack: an `epk` off P-256 (or not a point at all) would leak the
    /// recipient's scalar bit by bit if it were multiplied; it is refused before any agreement.
    #[test]
    fn an_epk_off_the_curve_is_refused() {
        let key = ResponseEncryption::generate_key(&mut OsRng);
        let good = sealed_with(&key, Map::new());
        let protected = good.split('.').next().unwrap();
        let mut header = crate::encoding::b64_json_object(protected, "h").unwrap();
        let x = header["epk"]["x"].as_str().unwrap().to_owned();
        let mut y = b64_decode(header["epk"]["y"].as_str().unwrap(), "y").unwrap();
        y[31] ^= 1;
        let rest: Vec<&str> = good.split('.').skip(1).collect();
        for (x, y) in [
            (x.clone(), b64_encode(&y)),
            (x.clone(), b64_encode(&[0u8; 32])),
            (x.clone(), b64_encode(&[1u8; 31])),
            (b64_encode(&[0u8; 33]), b64_encode(&y)),
        ] {
            header.insert(
                "epk".into(),
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            );
            let jwe = format!("{}.{}", json_b64(&header).unwrap(), rest.join("."));
            assert!(
                matches!(open(&jwe, &key), Err(Error::InvalidKey(_))),
                "{jwe}"
            );
        }
    }
}
