//! Requests by value (OpenID4VP §5): a platform that asks for them gets links that carry an
//! unsigned `redirect_uri:` request in the link itself, the same request its `request_uri`
//! serves, answered like any other (plain or encrypted). A signed (DID) request never goes by
//! value, and platforms that did not ask keep links by reference.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vp::{AuthorizationRequest, LinkedRequest, DIRECT_POST_JWT};
use civic_testkit::credentials::{aged, resident, TestIssuer, PLATFORMS};
use civic_verifier::flow::{Flow, RequestSigner};
use civic_verifier::session::SessionStatus;
use support::{answer_form, NOW};

fn flow(issuer: &TestIssuer, by_value: bool, platform_by_value: bool, encrypt: bool) -> Flow {
    let mut platform = support::platform(PLATFORMS[0], "sixteen", false);
    platform.requests_by_value = platform_by_value;
    platform.encrypt_responses = None;
    support::flow(&issuer.trust_list(), PLATFORMS[0], vec![platform])
        .with_requests_by_value(by_value)
        .with_encrypted_responses(encrypt)
}

/// The request a wallet reads from a by-value link, and the link's session.
fn by_value(flow: &Flow) -> (String, AuthorizationRequest) {
    let created = flow.create(PLATFORMS[0], "sixteen", None).expect("session");
    assert!(!created.openid4vp_url.contains("request_uri="));
    // About 1 KB plain, 1.5 KB with the encryption key: fine for a same-device link.
    let url = &created.openid4vp_url;
    assert!(url.len() < 2_000, "{} bytes: {url}", url.len());
    println!("request by value: {} bytes", url.len());
    match LinkedRequest::parse(&created.openid4vp_url).expect("link") {
        LinkedRequest::Parameters(req) => {
            // The same request the session serves by reference (minus the object's aud/iat).
            let served =
                AuthorizationRequest::from_jwt(&flow.request_object(&created.id).unwrap(), None)
                    .unwrap();
            assert_eq!(
                *req,
                AuthorizationRequest {
                    aud: None,
                    iat: None,
                    ..served
                }
            );
            (created.id, *req)
        }
        other => panic!("expected a request by value, got {other:?}"),
    }
}

#[tokio::test]
async fn a_request_by_value_is_answered_plain_or_encrypted() {
    let issuer = TestIssuer::new();
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    for (deployment, platform, encrypt) in [(true, false, false), (false, true, true)] {
        let flow = flow(&issuer, deployment, platform, encrypt);
        let (id, req) = by_value(&flow);
        assert_eq!(req.response_mode == DIRECT_POST_JWT, encrypt);
        let paths = req.dcql_query.credentials[0].requested_paths();
        let presentation = noor.present(&paths, &req.client_id, &req.nonce, NOW);
        let answered = flow
            .answer(&id, &answer_form(&req, &presentation))
            .await
            .expect("answered");
        match answered.outcome {
            SessionStatus::Complete { eligibility } => assert!(eligibility.eligible),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn links_stay_by_reference_unless_asked_and_signed_requests_always() {
    let issuer = TestIssuer::new();
    let created = flow(&issuer, false, false, false)
        .create(PLATFORMS[0], "sixteen", None)
        .unwrap();
    assert!(matches!(
        LinkedRequest::parse(&created.openid4vp_url).unwrap(),
        LinkedRequest::ByReference(_)
    ));

    // A DID-signed deployment asked for requests by value still signs them, by reference.
    let did = "did:web:verifier.example";
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).unwrap();
    let signed = support::flow(
        &issuer.trust_list(),
        "https://verifier.example",
        vec![support::platform(did, "sixteen", false)],
    )
    .with_signer(RequestSigner::new(key, did.into()))
    .with_requests_by_value(true);
    let created = signed.create(did, "sixteen", None).unwrap();
    match LinkedRequest::parse(&created.openid4vp_url).unwrap() {
        LinkedRequest::ByReference(link) => {
            assert!(link.client_id.starts_with("decentralized_identifier:"));
            assert!(link.wants_post());
        }
        other => panic!("a signed request went by value: {other:?}"),
    }
}
