//! The examples of RFC 9901 and of the Token Status List draft, kept as data files in
//! `tests/vectors/`, decode and verify with civic-credential.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::path::Path;

use civic_credential::crypto::VerifyingKey;
use civic_credential::jwk::Jwk;
use civic_credential::key_binding::{self, KeyBindingExpectation};
use civic_credential::sd_jwt::{Disclosure, SdJwt};
use civic_credential::status_list::{Status, StatusList, StatusListToken};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn key(v: &Value) -> VerifyingKey {
    let jwk: Jwk = serde_json::from_value(v.clone()).unwrap();
    VerifyingKey::from_jwk(&jwk).unwrap()
}

#[test]
fn rfc9901_disclosure_digests() {
    let file = load("rfc9901_disclosure_digests.json");
    let cases = file["cases"].as_array().unwrap();
    assert!(cases.len() >= 80);
    for case in cases {
        let d = Disclosure::parse(case["disclosure"].as_str().unwrap()).unwrap();
        assert_eq!(d.digest, case["digest"].as_str().unwrap(), "{case}");
        assert_eq!(d.salt, case["salt"].as_str().unwrap());
        assert_eq!(d.name.as_deref(), case["name"].as_str());
        assert_eq!(d.value, case["value"]);
    }
}

const SD_JWT_FILES: [&str; 8] = [
    "rfc9901_section5_issuance.json",
    "rfc9901_section5_presentation_kb.json",
    "rfc9901_appendix_a1_simple_structured.json",
    "rfc9901_appendix_a2_complex_structured.json",
    "rfc9901_appendix_a3_sd_jwt_vc_issuance.json",
    "rfc9901_appendix_a3_sd_jwt_vc_presentation_kb.json",
    "rfc9901_appendix_a4_w3c_vc_issuance.json",
    "rfc9901_appendix_a4_w3c_vc_presentation_kb.json",
];

#[test]
fn rfc9901_examples_verify_and_process_to_the_expected_payload() {
    for name in SD_JWT_FILES {
        let v = load(name);
        let text = v["sd_jwt"].as_str().unwrap();
        let sd = SdJwt::parse(text).unwrap();
        let processed = sd
            .verify(&key(&v["issuer_jwk"]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            Value::Object(processed.claims),
            v["expected_payload"],
            "{name}: processed payload"
        );
        if let Some(kb) = v.get("key_binding") {
            let kb_jwt = sd.kb_jwt.expect("presentation has a KB-JWT");
            let iat = kb["iat"].as_i64().unwrap();
            let expect = KeyBindingExpectation {
                aud: kb["aud"].as_str().unwrap(),
                nonce: kb["nonce"].as_str().unwrap(),
                now: iat + 10,
                max_age: 300,
                clock_skew: 60,
            };
            let got = key_binding::verify(kb_jwt, sd.hashed_part, &key(&v["holder_jwk"]), &expect)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.sd_hash, kb["sd_hash"].as_str().unwrap());
        } else {
            assert!(sd.kb_jwt.is_none(), "{name}");
        }
    }
}

#[test]
fn rfc9901_sd_jwt_vc_example_has_the_profile_typ() {
    let v = load("rfc9901_appendix_a3_sd_jwt_vc_issuance.json");
    let sd = SdJwt::parse(v["sd_jwt"].as_str().unwrap()).unwrap();
    sd.jwt.require_typ("dc+sd-jwt").unwrap();
}

#[test]
fn rfc9901_example_rejects_a_foreign_key() {
    let v = load("rfc9901_section5_issuance.json");
    let sd = SdJwt::parse(v["sd_jwt"].as_str().unwrap()).unwrap();
    let keys = load("rfc9901_example_keys.json");
    assert_eq!(
        sd.verify(&key(&keys["holder_jwk"])).map(|_| ()),
        Err(civic_credential::Error::InvalidSignature)
    );
}

#[test]
fn status_list_draft_examples_decode() {
    let v = load("status_list_draft_examples.json");
    for case in v["cases"].as_array().unwrap() {
        let bits = case["bits"].as_u64().unwrap() as u8;
        let list = StatusList::from_lst(bits, case["lst"].as_str().unwrap()).unwrap();
        let statuses: Vec<u8> = serde_json::from_value(case["statuses"].clone()).unwrap();
        for (i, s) in statuses.iter().enumerate() {
            assert_eq!(
                list.get(i as u64).unwrap(),
                Status::from(*s),
                "bits {bits} idx {i}"
            );
        }
        let hex: String = list.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, case["bytes_hex"].as_str().unwrap());
        // Our own encoding decodes to the same bytes.
        let again = StatusList::from_lst(bits, &list.to_lst()).unwrap();
        assert_eq!(again, list);
    }
}

#[test]
fn status_list_draft_appendix_c_vectors_decode() {
    let v = load("status_list_draft_appendix_c.json");
    for case in v["cases"].as_array().unwrap() {
        let bits = case["bits"].as_u64().unwrap() as u8;
        let size = case["size"].as_u64().unwrap();
        let list = StatusList::from_lst(bits, case["lst"].as_str().unwrap()).unwrap();
        assert_eq!(list.len(), size, "bits {bits}");
        let set: Vec<(u64, u8)> = serde_json::from_value(case["set_statuses"].clone()).unwrap();
        let mut expected = StatusList::new(bits, size as usize).unwrap();
        for (idx, value) in &set {
            assert_eq!(
                list.get(*idx).unwrap(),
                Status::from(*value),
                "bits {bits} idx {idx}"
            );
            expected.set(*idx, Status::from(*value)).unwrap();
        }
        // Every index not listed is VALID: the whole list equals one built from the set entries.
        assert_eq!(list, expected, "bits {bits}");
    }
}

#[test]
fn status_list_draft_token_verifies() {
    let v = load("status_list_token_example.json");
    let resp = &v["status_list_token_jwt_response"];
    let token = resp["jwt"].as_str().unwrap();
    let sub = resp["payload"]["sub"].as_str().unwrap();
    let iat = resp["payload"]["iat"].as_i64().unwrap();
    let parsed =
        StatusListToken::verify(token, &key(&v["verification_jwk"]), sub, iat, 60).unwrap();
    let expected: Vec<u8> =
        serde_json::from_value(v["status_list_token_jwt"]["expected_statuses"].clone()).unwrap();
    for (i, s) in expected.iter().enumerate() {
        assert_eq!(parsed.list.get(i as u64).unwrap(), Status::from(*s));
    }
    assert_eq!(
        StatusListToken::verify(
            token,
            &key(&v["verification_jwk"]),
            "https://other.example/1",
            iat,
            60
        ),
        Err(civic_credential::Error::StatusListSubjectMismatch(
            sub.to_owned()
        ))
    );
    let exp = resp["payload"]["exp"].as_i64().unwrap();
    assert_eq!(
        StatusListToken::verify(token, &key(&v["verification_jwk"]), sub, exp + 61, 60),
        Err(civic_credential::Error::StatusListExpired)
    );
}

#[test]
fn status_list_draft_referenced_token_status_claim_parses() {
    let v = load("status_list_token_example.json");
    let r: civic_credential::status_list::StatusReference =
        serde_json::from_value(v["referenced_token"]["status"].clone()).unwrap();
    assert_eq!(r.status_list.idx, 0);
    assert_eq!(r.status_list.uri, "https://example.com/statuslists/1");
}
