use super::*;
use crate::crypto::{Algorithm, SigningKey};
use crate::encoding::{b64_decode, b64_encode};
use crate::error::Error;
use rand::rngs::OsRng;

const ISSUER: &str = "https://issuer.example";

fn holder() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut OsRng).expect("key")
}

fn expect(now: i64) -> ProofExpectation<'static> {
    ProofExpectation {
        aud: ISSUER,
        now,
        max_age: 300,
        clock_skew: 60,
    }
}

#[test]
fn proof_round_trip_binds_the_holder_key() {
    let key = holder();
    let jwt = build_proof(&key, key.public_jwk(), ISSUER, Some("n-1"), 1000).expect("proof");
    let p = verify_proof(&jwt, &expect(1010)).expect("valid");
    assert_eq!(p.holder_key.thumbprint(), key.public_jwk().thumbprint());
    assert_eq!(p.nonce.as_deref(), Some("n-1"));
    assert_eq!(p.iat, 1000);
    let header = b64_decode(jwt.split('.').next().unwrap_or_default(), "header").expect("b64");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("json");
    assert!(
        header.get("kid").is_none(),
        "the key travels in jwk, not kid"
    );
    assert_eq!(header["typ"], PROOF_TYP);
}

#[test]
fn proof_rejections_name_the_rule() {
    let key = holder();
    let wrong_aud =
        build_proof(&key, key.public_jwk(), "https://other", Some("n"), 1000).expect("p");
    assert_eq!(
        verify_proof(&wrong_aud, &expect(1000)),
        Err(Error::ProofAudienceMismatch)
    );
    let old = build_proof(&key, key.public_jwk(), ISSUER, Some("n"), 100).expect("p");
    assert_eq!(
        verify_proof(&old, &expect(1000)),
        Err(Error::ProofIatOutOfWindow)
    );
    let future = build_proof(&key, key.public_jwk(), ISSUER, Some("n"), 2000).expect("p");
    assert_eq!(
        verify_proof(&future, &expect(1000)),
        Err(Error::ProofIatOutOfWindow)
    );

    // The jwk header names another key than the one that signed.
    let other = holder();
    let forged = build_proof(&key, other.public_jwk(), ISSUER, Some("n"), 1000).expect("p");
    assert_eq!(
        verify_proof(&forged, &expect(1000)),
        Err(Error::InvalidSignature)
    );

    // A tampered payload.
    let mut parts: Vec<String> = build_proof(&key, key.public_jwk(), ISSUER, Some("n"), 1000)
        .expect("p")
        .split('.')
        .map(str::to_owned)
        .collect();
    parts[1] = b64_encode(br#"{"aud":"https://issuer.example","iat":1000,"nonce":"m"}"#);
    assert_eq!(
        verify_proof(&parts.join("."), &expect(1000)),
        Err(Error::InvalidSignature)
    );

    // alg none, before any crypto.
    let none = format!(
        "{}.{}.",
        b64_encode(br#"{"alg":"none","typ":"openid4vci-proof+jwt"}"#),
        b64_encode(br#"{"aud":"https://issuer.example","iat":1000}"#)
    );
    assert!(matches!(
        verify_proof(&none, &expect(1000)),
        Err(Error::AlgorithmNotAllowed(_))
    ));

    // Wrong typ: a KB-JWT is not a proof.
    let kb = crate::jws::sign(
        "kb+jwt",
        serde_json::Map::new(),
        &serde_json::Map::new(),
        &key,
    )
    .expect("s");
    assert!(matches!(
        verify_proof(&kb, &expect(1000)),
        Err(Error::UnexpectedType { .. })
    ));

    // A private key in the header.
    let private =
        build_proof_with_header(&key, serde_json::to_value(key.to_private_jwk()).expect("j"));
    assert_eq!(
        verify_proof(&private, &expect(1000)),
        Err(Error::ProofKey("jwk contains a private key"))
    );
    // No jwk at all.
    let kid_only = crate::jws::sign(
        PROOF_TYP,
        serde_json::Map::new(),
        &claims(),
        &key.with_kid_ref("k1"),
    )
    .expect("s");
    assert!(matches!(
        verify_proof(&kid_only, &expect(1000)),
        Err(Error::ProofKey(_))
    ));
}

fn claims() -> serde_json::Map<String, serde_json::Value> {
    serde_json::json!({"aud": ISSUER, "iat": 1000, "nonce": "n"})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

fn build_proof_with_header(key: &SigningKey, jwk: serde_json::Value) -> String {
    let mut header = serde_json::Map::new();
    header.insert("jwk".into(), jwk);
    crate::jws::sign(
        PROOF_TYP,
        header,
        &claims(),
        &crate::crypto::WithoutKid(key),
    )
    .expect("s")
}

trait KidRef {
    fn with_kid_ref(&self, kid: &str) -> SigningKey;
}

impl KidRef for SigningKey {
    fn with_kid_ref(&self, kid: &str) -> SigningKey {
        SigningKey::from_jwk(&self.to_private_jwk())
            .expect("k")
            .with_kid(kid)
    }
}

#[test]
fn offer_urls_round_trip_both_ways() {
    let by_ref = OfferLocation::ByReference("https://issuer.example/offers/a b?x=1".into());
    let url = by_ref.to_url().unwrap();
    assert!(url.starts_with("openid-credential-offer://?credential_offer_uri=https%3A%2F%2F"));
    assert_eq!(OfferLocation::parse(&url), Ok(by_ref));

    let offer = CredentialOffer {
        credential_issuer: ISSUER.into(),
        credential_configuration_ids: vec!["residency_sd_jwt".into()],
        grants: Some(Grants {
            authorization_code: None,
            pre_authorized_code: Some(PreAuthorizedCodeGrant {
                pre_authorized_code: "abc".into(),
                tx_code: Some(TxCodeSpec {
                    input_mode: Some("numeric".into()),
                    length: Some(6),
                    description: None,
                }),
            }),
        }),
    };
    let by_value = OfferLocation::ByValue(offer.clone());
    let url = by_value.to_url().unwrap();
    assert_eq!(OfferLocation::parse(&url), Ok(by_value));
    let json = serde_json::to_value(&offer).expect("json");
    assert_eq!(
        json["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
        serde_json::json!("abc")
    );

    for bad in [
        "openid-credential-offer://?x=1",
        "credential_offer=%ZZ",
        "credential_offer={",
        "credential_offer_uri=a&credential_offer_uri=b",
    ] {
        let err = OfferLocation::parse(bad).expect_err(bad);
        assert_eq!(err.error, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn credential_request_rejects_unknown_members_and_error_codes_map_to_status() {
    let ok: CredentialRequest = serde_json::from_str(
        r#"{"credential_configuration_id":"residency_sd_jwt","proofs":{"jwt":["a","b"]}}"#,
    )
    .expect("parse");
    assert_eq!(ok.proofs.map(|p| p.jwt.len()), Some(2));
    assert!(serde_json::from_str::<CredentialRequest>(
        r#"{"credential_configuration_id":"x","bogus":1}"#
    )
    .is_err());
    assert_eq!(ErrorCode::InvalidToken.http_status(), 401);
    assert_eq!(ErrorCode::InvalidProof.http_status(), 400);
    let e =
        serde_json::to_value(ProtocolError::new(ErrorCode::InvalidNonce, "used")).expect("json");
    assert_eq!(
        e,
        serde_json::json!({"error": "invalid_nonce", "error_description": "used"})
    );
}

#[test]
fn token_requests_are_read_from_forms_and_repeats_refused() {
    let req = TokenRequest::from_form(
        b"grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code&pre-authorized_code=abc&tx_code=123",
    )
    .unwrap();
    assert_eq!(req.grant_type, PRE_AUTHORIZED_GRANT);
    assert_eq!(req.pre_authorized_code.as_deref(), Some("abc"));
    assert_eq!(req.tx_code.as_deref(), Some("123"));
    let repeated = TokenRequest::from_form(b"grant_type=x&tx_code=1&tx_code=2").unwrap_err();
    assert_eq!(repeated.error, ErrorCode::InvalidRequest);
    assert!(repeated
        .to_string()
        .contains("tx_code appears more than once"));
    assert_eq!(
        TokenRequest::from_form(b"pre-authorized_code=abc")
            .unwrap_err()
            .error,
        ErrorCode::InvalidRequest
    );
}
