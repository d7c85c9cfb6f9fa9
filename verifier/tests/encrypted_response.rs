//! Encrypted answers (`direct_post.jwt`): a session that asks for one carries a fresh ephemeral
//! key in its request, takes the answer sealed by the wallet's code (`civic_credential::jwe`)
//! or by josekit in either AES-GCM size (and josekit opens the wallet's), and refuses a plain answer, an answer to
//! another key, a tampered one, and one that names an algorithm it did not offer, without using
//! the session up. A session that did not ask refuses an encrypted answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use rand::rngs::OsRng;
use serde_json::{json, Map, Value};

use civic_credential::encoding::{b64_encode, json_b64};
use civic_credential::jwe::{Enc, ResponseEncryption, ENC_VALUES};
use civic_credential::oid4vp::{AuthorizationRequest, DIRECT_POST, DIRECT_POST_JWT};
use civic_testkit::credentials::{aged, resident, Credential, TestIssuer, PLATFORMS};
use civic_verifier::encrypted_response::DecryptError;
use civic_verifier::flow::{Flow, FlowError};
use civic_verifier::session::SessionStatus;
use support::{form, sealed, NOW};

/// A flow whose deployment-wide setting is `encrypt` (`None`: the library's default) and whose
/// platform overrides it with `platform_encrypts` (`None`: it follows the deployment).
fn flow_with(issuer: &TestIssuer, encrypt: Option<bool>, platform_encrypts: Option<bool>) -> Flow {
    let mut platform = support::platform(PLATFORMS[0], "sixteen", false);
    platform.encrypt_responses = platform_encrypts;
    let flow = support::flow(&issuer.trust_list(), PLATFORMS[0], vec![platform]);
    match encrypt {
        Some(on) => flow.with_encrypted_responses(on),
        None => flow,
    }
}

fn flow(issuer: &TestIssuer, encrypt: bool) -> Flow {
    flow_with(issuer, Some(encrypt), None)
}

fn open(flow: &Flow) -> (String, AuthorizationRequest) {
    support::open(flow, PLATFORMS[0], "sixteen")
}

/// The response parameters answering `req` with `credential`.
fn params(req: &AuthorizationRequest, credential: &Credential) -> Map<String, Value> {
    let paths = req.dcql_query.credentials[0].requested_paths();
    support::params(
        req,
        &credential.present(&paths, &req.client_id, &req.nonce, NOW),
    )
}

fn plain_form(p: &Map<String, Value>) -> Vec<u8> {
    let vp = p["vp_token"].to_string();
    form(&[("vp_token", &vp), ("state", p["state"].as_str().unwrap())])
}

fn encryption_error(r: Result<impl std::fmt::Debug, FlowError>) -> DecryptError {
    match r {
        Err(FlowError::Encryption(e)) => e,
        other => panic!("expected an encryption error, got {other:?}"),
    }
}

fn pending(flow: &Flow, id: &str) -> bool {
    flow.session(id).unwrap().unwrap().status == SessionStatus::Pending
}

#[tokio::test]
async fn an_encrypted_session_offers_a_fresh_key_and_takes_a_sealed_answer() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer, true);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let (id, req) = open(&flow);
    assert_eq!(req.response_mode, DIRECT_POST_JWT);
    let meta = req.client_metadata.clone().unwrap();
    let keys = meta["jwks"]["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kty"], "EC");
    assert_eq!(keys[0]["crv"], "P-256");
    assert_eq!(keys[0]["alg"], "ECDH-ES");
    assert_eq!(keys[0]["use"], "enc");
    assert!(keys[0].get("d").is_none(), "the private key stays home");
    assert_eq!(meta[ENC_VALUES], json!(["A128GCM", "A256GCM"]));
    // Each session its own key.
    let (_, other) = open(&flow);
    assert_ne!(
        other.client_metadata.unwrap()["jwks"]["keys"][0]["x"],
        keys[0]["x"]
    );

    let p = params(&req, &noor);
    let answered = flow
        .answer(&id, &form(&[("response", &sealed(&req, &p))]))
        .await
        .expect("answered");
    match answered.outcome {
        SessionStatus::Complete { eligibility } => assert!(eligibility.eligible),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn both_aes_gcm_sizes_and_a_sealed_decline_are_read() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer, true);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    for enc in Enc::ALL {
        let (id, req) = open(&flow);
        let mut e = ResponseEncryption::from_client_metadata(req.client_metadata.as_ref()).unwrap();
        e.enc = enc;
        let jwe = e.seal(&params(&req, &noor), &mut OsRng).unwrap();
        let header =
            civic_credential::encoding::b64_json_object(jwe.split('.').next().unwrap(), "header")
                .unwrap();
        assert_eq!(header["enc"], enc.name());
        let answered = flow.answer(&id, &form(&[("response", &jwe)])).await;
        assert!(
            matches!(
                answered.expect("answered").outcome,
                SessionStatus::Complete { .. }
            ),
            "{enc:?}"
        );
    }
    let (id, req) = open(&flow);
    let mut decline = Map::new();
    decline.insert("error".into(), "access_denied".into());
    decline.insert("state".into(), req.state.clone().unwrap().into());
    let answered = flow
        .answer(&id, &form(&[("response", &sealed(&req, &decline))]))
        .await
        .expect("answered");
    assert_eq!(answered.outcome, SessionStatus::Declined);
}

#[tokio::test]
async fn a_plain_or_broken_answer_to_an_encrypted_session_is_refused_and_uses_nothing_up() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer, true);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let (id, req) = open(&flow);
    let p = params(&req, &noor);

    // In plain text.
    assert_eq!(
        encryption_error(flow.begin_answer(&id, &plain_form(&p))),
        DecryptError::PlainAnswer
    );
    // To another key: another session's, named as another key, or passed off as this one.
    let (_, other_req) = open(&flow);
    assert_eq!(
        encryption_error(flow.begin_answer(&id, &form(&[("response", &sealed(&other_req, &p))]))),
        DecryptError::NotOffered("another key id".into())
    );
    let ours = ResponseEncryption::from_client_metadata(req.client_metadata.as_ref()).unwrap();
    let mut theirs =
        ResponseEncryption::from_client_metadata(other_req.client_metadata.as_ref()).unwrap();
    theirs.jwk.kid = ours.jwk.kid.clone();
    assert_eq!(
        encryption_error(flow.begin_answer(
            &id,
            &form(&[("response", &theirs.seal(&p, &mut OsRng).unwrap())])
        )),
        DecryptError::Undecryptable
    );
    // Tampered ciphertext.
    let jwe = sealed(&req, &p);
    let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
    let mut ct = civic_credential::encoding::b64_decode(&parts[3], "ct").unwrap();
    ct[0] ^= 1;
    parts[3] = b64_encode(&ct);
    assert_eq!(
        encryption_error(flow.begin_answer(&id, &form(&[("response", &parts.join("."))]))),
        DecryptError::Undecryptable
    );
    // A header naming what was not offered (key wrapping, CBC, another kid).
    for (name, value) in [
        ("alg", json!("ECDH-ES+A128KW")),
        ("enc", json!("A128CBC-HS256")),
        ("kid", json!("someone-else")),
    ] {
        let mut parts: Vec<String> = jwe.split('.').map(str::to_owned).collect();
        let mut header = civic_credential::encoding::b64_json_object(&parts[0], "header").unwrap();
        header.insert(name.into(), value);
        parts[0] = json_b64(&header).unwrap();
        assert!(
            matches!(
                encryption_error(flow.begin_answer(&id, &form(&[("response", &parts.join("."))]))),
                DecryptError::NotOffered(_)
            ),
            "{name}"
        );
    }
    // Parameters beside `response`.
    assert_eq!(
        encryption_error(flow.begin_answer(
            &id,
            &form(&[("response", &jwe), ("state", req.state.as_deref().unwrap())])
        )),
        DecryptError::ParametersBeside
    );
    // Something that decrypts but is no response.
    let e = ResponseEncryption::from_client_metadata(req.client_metadata.as_ref()).unwrap();
    let mut odd = Map::new();
    odd.insert("vp_token".into(), json!(42));
    assert!(matches!(
        encryption_error(flow.begin_answer(
            &id,
            &form(&[("response", &e.seal(&odd, &mut OsRng).unwrap())])
        )),
        DecryptError::NotAResponse(_)
    ));

    // None of it used the session up: the wallet's own answer still counts.
    assert!(pending(&flow, &id));
    let answered = flow
        .answer(&id, &form(&[("response", &jwe)]))
        .await
        .expect("answered");
    assert!(matches!(answered.outcome, SessionStatus::Complete { .. }));
    // And a replay of it is refused like any replay.
    assert!(matches!(
        flow.begin_answer(&id, &form(&[("response", &jwe)])),
        Err(FlowError::AlreadyAnswered)
    ));
}

#[tokio::test]
async fn a_platform_can_ask_for_encryption_on_its_own() {
    let issuer = TestIssuer::new();
    let flow = flow_with(&issuer, Some(false), Some(true));
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let (id, req) = open(&flow);
    assert_eq!(req.response_mode, DIRECT_POST_JWT);
    let p = params(&req, &noor);
    assert_eq!(
        encryption_error(flow.begin_answer(&id, &plain_form(&p))),
        DecryptError::PlainAnswer
    );
    let answered = flow
        .answer(&id, &form(&[("response", &sealed(&req, &p))]))
        .await
        .expect("answered");
    assert!(matches!(answered.outcome, SessionStatus::Complete { .. }));
}

#[tokio::test]
async fn a_plain_session_refuses_an_encrypted_answer() {
    let issuer = TestIssuer::new();
    let plain = flow(&issuer, false);
    let encrypting = flow(&issuer, true);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let (id, req) = open(&plain);
    assert_eq!(req.response_mode, DIRECT_POST);
    assert!(req.client_metadata.as_ref().unwrap().get("jwks").is_none());
    let (_, keyed) = open(&encrypting);
    let p = params(&req, &noor);
    assert_eq!(
        encryption_error(plain.begin_answer(&id, &form(&[("response", &sealed(&keyed, &p))]))),
        DecryptError::NotAsked
    );
    assert!(pending(&plain, &id));
    let answered = plain.answer(&id, &plain_form(&p)).await.expect("answered");
    assert!(matches!(answered.outcome, SessionStatus::Complete { .. }));
}

#[tokio::test]
async fn answers_are_encrypted_by_default_and_a_platform_may_opt_out() {
    let issuer = TestIssuer::new();
    let (_, req) = open(&flow_with(&issuer, None, None));
    assert_eq!(req.response_mode, DIRECT_POST_JWT);
    let jwks = req.client_metadata.as_ref().and_then(|m| m.get("jwks"));
    assert!(jwks.is_some(), "an encrypted session offers its key");

    let opted_out = flow_with(&issuer, None, Some(false));
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let (id, req) = open(&opted_out);
    assert_eq!(req.response_mode, DIRECT_POST);
    let answered = opted_out
        .answer(&id, &plain_form(&params(&req, &noor)))
        .await
        .expect("answered");
    assert!(matches!(answered.outcome, SessionStatus::Complete { .. }));
}

/// josekit, an implementation we did not write (OpenSSL underneath), both ways: the flow reads
/// what josekit seals to the session's key in either AES-GCM size (with and without `kid`, and
/// with `apu`/`apv`), and josekit opens what the wallet's code seals to the same key with the
/// plaintext the flow reads.
#[tokio::test]
async fn josekit_sealed_answers_are_read_and_josekit_opens_the_wallets() {
    use josekit::jwe::{self, JweHeader, ECDH_ES};

    let issuer = TestIssuer::new();
    let flow = flow(&issuer, true);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    for (i, enc) in Enc::ALL.into_iter().enumerate() {
        let (id, req) = open(&flow);
        let public = &req.client_metadata.as_ref().unwrap()["jwks"]["keys"][0];
        let jwk = josekit::jwk::Jwk::from_bytes(public.to_string()).unwrap();
        let encrypter = ECDH_ES.encrypter_from_jwk(&jwk).unwrap();
        let mut header = JweHeader::new();
        header.set_content_encryption(enc.name());
        if i == 0 {
            header.set_key_id(public["kid"].as_str().unwrap());
        } else {
            header
                .set_claim("apu", Some(json!(b64_encode(b"wallet"))))
                .unwrap();
            header
                .set_claim("apv", Some(json!(b64_encode(b"verifier"))))
                .unwrap();
        }
        let payload = serde_json::to_vec(&params(&req, &noor)).unwrap();
        let sealed = jwe::serialize_compact(&payload, &header, &encrypter).unwrap();
        let answered = flow
            .answer(&id, &form(&[("response", &sealed)]))
            .await
            .expect("a josekit-sealed answer");
        assert!(
            matches!(answered.outcome, SessionStatus::Complete { .. }),
            "{enc:?}"
        );
    }

    // The other way: what the wallet seals, josekit opens with the session's private key.
    let (id, req) = open(&flow);
    let private = flow.session(&id).unwrap().unwrap().response_key.unwrap();
    let private = josekit::jwk::Jwk::from_bytes(serde_json::to_vec(&private).unwrap()).unwrap();
    let decrypter = ECDH_ES.decrypter_from_jwk(&private).unwrap();
    let p = params(&req, &noor);
    let (plain, _) = jwe::deserialize_compact(&sealed(&req, &p), &decrypter).unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&plain).unwrap(),
        Value::Object(p)
    );
}
