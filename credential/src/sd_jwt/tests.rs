//! SD-JWT rules, one test per rejection rule, each asserting the precise error.

use rand::rngs::OsRng;
use serde_json::{json, Map, Value};

use super::*;
use crate::crypto::{Algorithm, SigningKey};
use crate::encoding::b64_encode;
use crate::error::Error;
use crate::jws;

fn key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut OsRng).unwrap()
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

/// Signs an arbitrary payload and appends the given disclosures: a malicious or buggy issuer.
fn forge(k: &SigningKey, payload: Value, disclosures: &[&Disclosure]) -> String {
    let jwt = jws::sign("example+sd-jwt", Map::new(), &obj(payload), k).unwrap();
    serialize(&jwt, disclosures.iter().copied())
}

fn disc(name: Option<&str>, value: Value) -> Disclosure {
    Disclosure::new(name, value, &mut OsRng).unwrap()
}

fn verify(k: &SigningKey, text: &str) -> Result<Processed> {
    SdJwt::parse(text)?.verify(&k.verifying_key()?)
}

fn issue(k: &SigningKey, claims: Value, paths: &[ClaimPath], decoys: usize) -> String {
    let c = conceal(obj(claims), paths, decoys, &mut OsRng).unwrap();
    let jwt = jws::sign("example+sd-jwt", Map::new(), &c.payload, k).unwrap();
    serialize(&jwt, &c.disclosures)
}

fn path(v: Value) -> ClaimPath {
    serde_json::from_value(v).unwrap()
}

fn sample() -> Value {
    json!({
        "sub": "u1",
        "given_name": "Ada",
        "address": {"locality": "Amsterdam", "country": "NL"},
        "nationalities": ["NL", "DE"],
    })
}

fn sample_paths() -> Vec<ClaimPath> {
    vec![
        path(json!(["given_name"])),
        path(json!(["address"])),
        path(json!(["address", "locality"])),
        path(json!(["nationalities", null])),
    ]
}

#[test]
fn issue_and_verify_everything() {
    let k = key();
    let text = issue(&k, sample(), &sample_paths(), 3);
    let p = verify(&k, &text).unwrap();
    assert_eq!(Value::Object(p.claims), sample());
    // given_name, address, address.locality, 2 nationalities
    assert_eq!(p.disclosed.len(), 5);
}

#[test]
fn concealed_payload_hides_values_and_has_decoys() {
    let k = key();
    let text = issue(&k, sample(), &sample_paths(), 2);
    let sd = SdJwt::parse(&text).unwrap();
    let payload = Value::Object(sd.jwt.payload.clone());
    let s = payload.to_string();
    assert!(!s.contains("Ada") && !s.contains("Amsterdam") && !s.contains("\"NL\""));
    assert_eq!(payload["_sd_alg"], "sha-256");
    // given_name + address digests + 2 decoys at the top.
    assert_eq!(payload["_sd"].as_array().unwrap().len(), 4);
    assert_eq!(payload["sub"], "u1");
}

#[test]
fn present_selects_parents_and_only_what_is_asked() {
    let k = key();
    let text = issue(&k, sample(), &sample_paths(), 1);
    let sd = SdJwt::parse(&text).unwrap();
    let chosen = select_disclosures(&sd, &[path(json!(["address", "locality"]))]).unwrap();
    let presented = serialize(sd.issuer_jwt(), chosen.iter().map(|&i| &sd.disclosures[i]));
    let p = verify(&k, &presented).unwrap();
    assert_eq!(
        Value::Object(p.claims),
        json!({"sub": "u1", "address": {"locality": "Amsterdam", "country": "NL"}, "nationalities": []})
    );

    let chosen = select_disclosures(&sd, &[path(json!(["nationalities", 1]))]).unwrap();
    let presented = serialize(sd.issuer_jwt(), chosen.iter().map(|&i| &sd.disclosures[i]));
    let p = verify(&k, &presented).unwrap();
    assert_eq!(p.claims["nationalities"], json!(["DE"]));
    assert!(!p.claims.contains_key("address"));

    assert_eq!(
        select_disclosures(&sd, &[path(json!(["address", "street"]))]),
        Err(Error::ClaimPathNotFound("address.street".into()))
    );
}

#[test]
fn issuing_a_missing_path_or_reserved_name_fails() {
    assert_eq!(
        conceal(obj(sample()), &[path(json!(["nope"]))], 0, &mut OsRng).map(|_| ()),
        Err(Error::ClaimPathNotFound("nope".into()))
    );
    assert_eq!(
        conceal(obj(json!({"a": {"_sd": 1}})), &[], 0, &mut OsRng).map(|_| ()),
        Err(Error::ReservedClaimName("_sd".into()))
    );
    assert_eq!(
        conceal(obj(json!({"...": 1})), &[], 0, &mut OsRng).map(|_| ()),
        Err(Error::ReservedClaimName("...".into()))
    );
}

#[test]
fn rejects_unreferenced_disclosure() {
    let k = key();
    let d = disc(Some("given_name"), json!("Ada"));
    let stray = disc(Some("family_name"), json!("Lovelace"));
    let text = forge(&k, json!({"_sd": [d.digest]}), &[&d, &stray]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::UnreferencedDisclosure(stray.digest))
    );
}

#[test]
fn rejects_duplicate_digest_in_payload() {
    let k = key();
    let d = disc(Some("given_name"), json!("Ada"));
    let text = forge(&k, json!({"_sd": [d.digest, d.digest]}), &[&d]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DuplicateDigest(d.digest.clone()))
    );
    // The same digest in two places of the tree.
    let text = forge(
        &k,
        json!({"_sd": [d.digest], "o": {"_sd": [d.digest]}}),
        &[&d],
    );
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DuplicateDigest(d.digest.clone()))
    );
    // A decoy repeated is a duplicate too.
    let text = forge(&k, json!({"_sd": ["decoy", "decoy"]}), &[]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DuplicateDigest("decoy".into()))
    );
}

#[test]
fn rejects_the_same_disclosure_sent_twice() {
    let k = key();
    let d = disc(Some("given_name"), json!("Ada"));
    let text = forge(&k, json!({"_sd": [d.digest]}), &[&d, &d]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DuplicateDigest(d.digest.clone()))
    );
}

#[test]
fn rejects_reserved_claim_names_in_disclosures() {
    let k = key();
    for name in ["_sd", "..."] {
        let salt = b64_encode(&[1u8; 16]);
        let encoded = b64_encode(json!([salt, name, 1]).to_string().as_bytes());
        let jwt = jws::sign(
            "x",
            Map::new(),
            &obj(json!({"_sd": [crate::encoding::sha256_b64(&encoded)]})),
            &k,
        )
        .unwrap();
        let text = format!("{jwt}~{encoded}~");
        assert_eq!(
            verify(&k, &text).map(|_| ()),
            Err(Error::ReservedClaimName(name.into()))
        );
    }
}

#[test]
fn rejects_claim_name_collision() {
    let k = key();
    let d = disc(Some("given_name"), json!("Eve"));
    let text = forge(&k, json!({"given_name": "Ada", "_sd": [d.digest]}), &[&d]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::ClaimNameCollision("given_name".into()))
    );
    // Two disclosures of the same name in one object.
    let d2 = disc(Some("given_name"), json!("Mallory"));
    let text = forge(&k, json!({"_sd": [d.digest, d2.digest]}), &[&d, &d2]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::ClaimNameCollision("given_name".into()))
    );
}

#[test]
fn rejects_malformed_disclosure() {
    let k = key();
    let jwt = jws::sign("x", Map::new(), &obj(json!({})), &k).unwrap();
    for bad in [json!(["only-salt"]), json!({"a": 1}), json!([1, "n", "v"])] {
        let encoded = b64_encode(bad.to_string().as_bytes());
        assert!(matches!(
            verify(&k, &format!("{jwt}~{encoded}~")),
            Err(Error::MalformedDisclosure(_))
        ));
    }
    assert_eq!(
        verify(&k, &format!("{jwt}~%%%~")).map(|_| ()),
        Err(Error::Base64("disclosure"))
    );
    assert_eq!(
        verify(&k, &format!("{jwt}~~")).map(|_| ()),
        Err(Error::MalformedSdJwt("empty disclosure"))
    );
    assert_eq!(
        verify(&k, &jwt).map(|_| ()),
        Err(Error::MalformedSdJwt("no '~' separator"))
    );
}

#[test]
fn rejects_disclosure_kind_mismatch() {
    let k = key();
    let element = disc(None, json!("NL"));
    let text = forge(&k, json!({"_sd": [element.digest]}), &[&element]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DisclosureKindMismatch(element.digest.clone()))
    );
    let property = disc(Some("n"), json!("NL"));
    let text = forge(&k, json!({"a": [{"...": property.digest}]}), &[&property]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::DisclosureKindMismatch(property.digest.clone()))
    );
}

#[test]
fn rejects_unsupported_sd_alg_and_bad_sd_shapes() {
    let k = key();
    let text = forge(&k, json!({"_sd_alg": "sha-1"}), &[]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::UnsupportedSdAlg("sha-1".into()))
    );
    let text = forge(&k, json!({"_sd": "abc"}), &[]);
    assert!(matches!(verify(&k, &text), Err(Error::MalformedSdJwt(_))));
    let text = forge(&k, json!({"_sd": [1]}), &[]);
    assert!(matches!(verify(&k, &text), Err(Error::MalformedSdJwt(_))));
    let text = forge(&k, json!({"a": [{"...": "x", "b": 1}]}), &[]);
    assert!(matches!(verify(&k, &text), Err(Error::MalformedSdJwt(_))));
}

#[test]
fn rejects_tampered_disclosure_value() {
    let k = key();
    let text = issue(
        &k,
        json!({"age_over_18": false}),
        &[path(json!(["age_over_18"]))],
        0,
    );
    let sd = SdJwt::parse(&text).unwrap();
    let d = &sd.disclosures[0];
    let forged = Disclosure::parse(&b64_encode(
        json!([d.salt, "age_over_18", true]).to_string().as_bytes(),
    ))
    .unwrap();
    let text = serialize(sd.issuer_jwt(), [&forged]);
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::UnreferencedDisclosure(forged.digest))
    );
}

#[test]
fn disclosure_cycles_and_deep_nesting_are_bounded() {
    let k = key();
    // A chain of 200 disclosures, each holding the digest of the next: too deep.
    let mut inner = disc(Some("leaf"), json!(1));
    let mut all = vec![inner.clone()];
    for _ in 0..200 {
        inner = disc(Some("n"), json!({"_sd": [inner.digest]}));
        all.push(inner.clone());
    }
    let text = forge(
        &k,
        json!({"_sd": [inner.digest]}),
        &all.iter().collect::<Vec<_>>(),
    );
    assert_eq!(
        verify(&k, &text).map(|_| ()),
        Err(Error::TooLarge("nesting depth"))
    );
}

#[test]
fn parse_rejects_non_jwt_and_oversize() {
    assert!(matches!(SdJwt::parse("abc~"), Err(Error::MalformedJws(_))));
    let huge = "a".repeat(crate::encoding::MAX_TOKEN_BYTES + 1);
    assert!(matches!(SdJwt::parse(&huge), Err(Error::TooLarge(_))));
    let many = format!("a.b.c{}", "~".repeat(MAX_DISCLOSURES + 2));
    assert_eq!(
        SdJwt::parse(&many).map(|_| ()),
        Err(Error::TooLarge("too many disclosures"))
    );
}
