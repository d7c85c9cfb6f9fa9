use super::*;
use crate::crypto::{Algorithm, SigningKey};
use rand::rngs::OsRng;

const HTU: &str = "https://id.example/credential";
const NOW: i64 = 1_800_000_000;

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap()
}

fn claims<'a>(token: Option<&'a str>, nonce: Option<&'a str>) -> ProofClaims<'a> {
    ProofClaims {
        htm: "POST",
        htu: HTU,
        iat: NOW,
        jti: "a-unique-id-0123456789",
        nonce,
        access_token: token,
    }
}

fn expect(token: Option<&str>) -> Expectation<'_> {
    Expectation {
        htm: "POST",
        htu: HTU,
        now: NOW,
        max_age: 60,
        clock_skew: 5,
        access_token: token,
    }
}

#[test]
fn a_proof_verifies_and_names_its_key_by_thumbprint() {
    let k = key();
    let jwt = proof(&k, k.public_jwk(), &claims(Some("tok"), Some("n1"))).unwrap();
    let v = verify(&jwt, &expect(Some("tok"))).unwrap();
    assert_eq!(v.jkt, k.public_jwk().thumbprint().unwrap());
    assert_eq!(v.nonce.as_deref(), Some("n1"));
    assert_eq!(v.jti, "a-unique-id-0123456789");
    // The URL compares as origin and path: case, default port, query and fragment aside.
    let loose = Expectation {
        htu: "HTTPS://ID.example:443/credential",
        ..expect(Some("tok"))
    };
    assert!(verify(&jwt, &loose).is_ok());
    let with_query = proof(
        &k,
        k.public_jwk(),
        &ProofClaims {
            htu: "https://id.example/credential?x=1#f",
            ..claims(Some("tok"), None)
        },
    )
    .unwrap();
    assert!(verify(&with_query, &expect(Some("tok"))).is_ok());
}

#[test]
fn each_broken_rule_has_its_own_refusal() {
    let k = key();
    let good = claims(Some("tok"), None);
    let sign = |c: &ProofClaims<'_>| proof(&k, k.public_jwk(), c).unwrap();
    let cases: Vec<(&str, String, Expectation<'_>, DpopError)> = vec![
        (
            "another method",
            sign(&ProofClaims { htm: "GET", ..good }),
            expect(Some("tok")),
            DpopError::WrongMethod,
        ),
        (
            "another URL",
            sign(&ProofClaims {
                htu: "https://id.example/token",
                ..good
            }),
            expect(Some("tok")),
            DpopError::WrongUrl,
        ),
        (
            "another host",
            sign(&ProofClaims {
                htu: "https://evil.example/credential",
                ..good
            }),
            expect(Some("tok")),
            DpopError::WrongUrl,
        ),
        (
            "too old",
            sign(&ProofClaims {
                iat: NOW - 61,
                ..good
            }),
            expect(Some("tok")),
            DpopError::Stale,
        ),
        (
            "from the future",
            sign(&ProofClaims {
                iat: NOW + 6,
                ..good
            }),
            expect(Some("tok")),
            DpopError::Stale,
        ),
        (
            "another token",
            sign(&good),
            expect(Some("stolen")),
            DpopError::WrongToken,
        ),
        (
            "no ath",
            sign(&claims(None, None)),
            expect(Some("tok")),
            DpopError::WrongToken,
        ),
    ];
    for (what, jwt, e, want) in cases {
        assert_eq!(verify(&jwt, &e), Err(want), "{what}");
    }
    // Form: typ, the key in the header, the signature, jti.
    let mut payload = Map::new();
    payload.insert("htm".into(), "POST".into());
    payload.insert("htu".into(), HTU.into());
    payload.insert("iat".into(), NOW.into());
    let no_jti = jws::sign_with_jwk(DPOP_TYP, k.public_jwk(), &payload, &k).unwrap();
    assert!(matches!(
        verify(&no_jti, &expect(None)),
        Err(DpopError::Invalid(Error::MissingClaim("jti")))
    ));
    payload.insert("jti".into(), "j".into());
    let wrong_typ = jws::sign_with_jwk("jwt", k.public_jwk(), &payload, &k).unwrap();
    assert!(matches!(
        verify(&wrong_typ, &expect(None)),
        Err(DpopError::Invalid(Error::UnexpectedType { .. }))
    ));
    let other = key();
    let forged = jws::sign_with_jwk(DPOP_TYP, other.public_jwk(), &payload, &k).unwrap();
    assert_eq!(
        verify(&forged, &expect(None)),
        Err(DpopError::Invalid(Error::InvalidSignature))
    );
    let private = jws::sign_with_jwk(DPOP_TYP, &k.to_private_jwk(), &payload, &k).unwrap();
    assert!(
        verify(&private, &expect(None)).is_ok(),
        "the private part is stripped on signing"
    );
    let mut header = Map::new();
    header.insert("jwk".into(), serde_json::to_value(k.public_jwk()).unwrap());
    header.insert("kid".into(), "k".into());
    let with_kid = jws::sign(DPOP_TYP, header, &payload, &k).unwrap();
    assert!(matches!(
        verify(&with_kid, &expect(None)),
        Err(DpopError::Invalid(Error::ProofKey(_)))
    ));
    assert!(matches!(
        verify("not a jwt", &expect(None)),
        Err(DpopError::Invalid(_))
    ));
}

#[test]
fn error_codes_are_the_rfcs() {
    assert_eq!(DpopError::NonceRequired.code(), "use_dpop_nonce");
    assert_eq!(DpopError::Replayed.code(), "invalid_dpop_proof");
    assert_eq!(DpopError::WrongKey.code(), "invalid_dpop_proof");
}

#[test]
fn dpop_authorization_headers_are_read_strictly() {
    assert_eq!(dpop_token("DPoP abc.DEF-1~"), Some("abc.DEF-1~"));
    assert_eq!(dpop_token("dpop  x=="), Some("x=="));
    assert_eq!(dpop_token("Bearer abc"), None);
    assert_eq!(dpop_token("DPoP a b"), None);
    assert_eq!(dpop_token("DPoP "), None);
}

#[test]
fn ath_is_the_rfcs_example() {
    // RFC 9449 §7.1: the access token and its `ath`.
    assert_eq!(
        access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"),
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"
    );
}
