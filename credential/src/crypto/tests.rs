use rand::rngs::OsRng;

use super::*;

fn both() -> [Algorithm; 2] {
    [Algorithm::Es256, Algorithm::EdDsa]
}

#[test]
fn sign_verify_round_trip_for_each_algorithm() {
    for alg in both() {
        let key = SigningKey::generate(alg, &mut OsRng).unwrap();
        let sig = key.sign(b"hello").unwrap();
        let vk = key.verifying_key().unwrap();
        vk.verify(alg, b"hello", &sig).unwrap();
        assert_eq!(vk.verify(alg, b"hellp", &sig), Err(Error::InvalidSignature));
    }
}

#[test]
fn allow_list_rejects_none_hmac_and_others() {
    for alg in ["none", "HS256", "HS512", "RS256", "ES384", "PS256", ""] {
        assert_eq!(
            Algorithm::from_jose(alg),
            Err(Error::AlgorithmNotAllowed(alg.to_owned()))
        );
    }
}

#[test]
fn key_rejects_signature_of_other_algorithm() {
    let ec = SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap();
    let sig = ec.sign(b"m").unwrap();
    let vk = ec.verifying_key().unwrap();
    assert_eq!(
        vk.verify(Algorithm::EdDsa, b"m", &sig),
        Err(Error::AlgorithmKeyMismatch {
            alg: "EdDSA".into()
        })
    );
}

#[test]
fn jwk_alg_must_match_key_type() {
    let ec = SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap();
    let mut jwk = ec.public_jwk().clone();
    jwk.alg = Some("EdDSA".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(Error::AlgorithmKeyMismatch { .. })
    ));
    jwk.alg = Some("HS256".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(Error::AlgorithmNotAllowed(_))
    ));
}

#[test]
fn private_jwk_round_trip_and_inconsistency() {
    for alg in both() {
        let key = SigningKey::generate(alg, &mut OsRng)
            .unwrap()
            .with_kid("k1");
        let jwk = key.to_private_jwk();
        let again = SigningKey::from_jwk(&jwk).unwrap();
        assert_eq!(again.public_jwk(), key.public_jwk());
        assert_eq!(again.key_id(), Some("k1"));
        let other = SigningKey::generate(alg, &mut OsRng).unwrap();
        let mut mixed = jwk.clone();
        mixed.x = other.public_jwk().x.clone();
        assert_eq!(
            SigningKey::from_jwk(&mixed).map(|_| ()),
            Err(Error::InvalidKey("public and private parts do not match"))
        );
    }
}

#[test]
fn off_curve_and_short_keys_are_rejected() {
    let key = SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap();
    let mut jwk = key.public_jwk().clone();
    jwk.y = jwk.x.clone();
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(Error::InvalidKey(_))
    ));
    jwk.y = Some("AAAA".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&jwk),
        Err(Error::InvalidKey(_))
    ));
}

#[test]
fn truncated_and_garbage_signatures_are_rejected() {
    for alg in both() {
        let key = SigningKey::generate(alg, &mut OsRng).unwrap();
        let vk = key.verifying_key().unwrap();
        let sig = key.sign(b"m").unwrap();
        assert_eq!(
            vk.verify(alg, b"m", &sig[..63]),
            Err(Error::InvalidSignature)
        );
        assert_eq!(vk.verify(alg, b"m", &[]), Err(Error::InvalidSignature));
        assert_eq!(
            vk.verify(alg, b"m", &[0xff; 64]),
            Err(Error::InvalidSignature)
        );
    }
}

/// The wasm32 backend compiled natively: both backends must agree on keys and signatures.
#[cfg(not(target_arch = "wasm32"))]
mod backend_parity {
    use super::super::rust_crypto_parity as rust_crypto;
    use super::*;

    #[test]
    fn p256_and_ed25519_agree_across_backends() {
        let scalar = [7u8; 32];
        let (native, nx, ny) = backend::SecretKey::p256_from_scalar(&scalar).unwrap();
        let (pure, px, py) = rust_crypto::SecretKey::p256_from_scalar(&scalar).unwrap();
        assert_eq!((&nx, &ny), (&px, &py));
        let s1 = native.sign(b"msg").unwrap();
        let s2 = pure.sign(b"msg").unwrap();
        rust_crypto::PublicKey::p256(&px, &py)
            .unwrap()
            .verify(b"msg", &s1)
            .unwrap();
        backend::PublicKey::p256(&nx, &ny)
            .unwrap()
            .verify(b"msg", &s2)
            .unwrap();

        let (native, npk) = backend::SecretKey::ed25519_from_seed(&scalar).unwrap();
        let (pure, ppk) = rust_crypto::SecretKey::ed25519_from_seed(&scalar).unwrap();
        assert_eq!(npk, ppk);
        // Ed25519 is deterministic: identical signatures.
        assert_eq!(native.sign(b"msg").unwrap(), pure.sign(b"msg").unwrap());
    }
}
