//! Checks of the OpenID conformance suite's OID4VP 1.0 + HAIP verifier plan that run offline,
//! against the library's flow: the request object fetched twice, a `cnf.jwk` with only the key
//! members, a broken KB-JWT signature, a broken issuer signature, and a KB-JWT `iat` a year in
//! the past or the future. The plan's other checks live where docs/haip.md says.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use std::collections::BTreeMap;

use civic_credential::encoding::{b64_decode, b64_encode};
use civic_credential::jwk::Jwk;
use civic_credential::oid4vp::AuthorizationRequest;
use civic_credential::sd_jwt::ClaimPath;
use civic_testkit::credentials::{
    aged, holder_key, issue, pseudonym, resident, Contents, Credential, TestIssuer, ISSUER,
    PLATFORMS, VCT,
};
use civic_verifier::flow::Flow;
use civic_verifier::session::SessionStatus;
use support::NOW;

const YEAR: i64 = 365 * 86_400;

/// A flow whose platform asks for encrypted answers, as HAIP does.
fn flow(issuer: &TestIssuer) -> Flow {
    support::flow(
        &issuer.trust_list(),
        PLATFORMS[0],
        vec![support::platform(PLATFORMS[0], "sixteen", true)],
    )
}

fn open(flow: &Flow) -> (String, AuthorizationRequest) {
    support::open(flow, PLATFORMS[0], "sixteen")
}

/// Answers session `id` with `presentation` (sealed, as the request asks); the outcome.
async fn answer(
    flow: &Flow,
    id: &str,
    req: &AuthorizationRequest,
    presentation: &str,
) -> SessionStatus {
    flow.answer(id, &support::answer_form(req, presentation))
        .await
        .expect("answered")
        .outcome
}

fn rule(outcome: &SessionStatus) -> &str {
    match outcome {
        SessionStatus::Rejected { rejection } => &rejection.rule,
        SessionStatus::Complete { eligibility } if eligibility.eligible => "<eligible>",
        _ => "<neither eligible nor rejected>",
    }
}

/// Flips a bit in the signature of the KB-JWT (`kb`) or of the issuer-signed JWT of
/// `presentation`, as the suite's invalid-signature modules do.
fn break_signature(presentation: &str, kb: bool) -> String {
    let mut parts: Vec<String> = presentation.split('~').map(str::to_owned).collect();
    let at = if kb { parts.len() - 1 } else { 0 };
    let mut jwt: Vec<String> = parts[at].split('.').map(str::to_owned).collect();
    let mut sig = b64_decode(&jwt[2], "signature").unwrap();
    sig[10] ^= 1;
    jwt[2] = b64_encode(&sig);
    parts[at] = jwt.join(".");
    parts.join("~")
}

#[tokio::test]
async fn the_request_object_can_be_fetched_twice_and_stays_the_same_request() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer);
    let created = flow.create(PLATFORMS[0], "sixteen", None).expect("session");
    let first =
        AuthorizationRequest::from_jwt(&flow.request_object(&created.id).unwrap(), None).unwrap();
    let second =
        AuthorizationRequest::from_jwt(&flow.request_object(&created.id).unwrap(), None).unwrap();
    assert_eq!(first, second, "the same nonce, state, key and query");
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let paths = second.dcql_query.credentials[0].requested_paths();
    let p = noor.present(&paths, &second.client_id, &second.nonce, NOW);
    assert_eq!(
        rule(&answer(&flow, &created.id, &second, &p).await),
        "<eligible>"
    );
}

#[tokio::test]
async fn a_cnf_jwk_with_only_the_key_members_is_accepted() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer);
    let holder = holder_key();
    let full = holder.public_jwk();
    let minimal = Jwk {
        kty: full.kty.clone(),
        crv: full.crv.clone(),
        x: full.x.clone(),
        y: full.y.clone(),
        d: None,
        kid: None,
        alg: None,
        use_: None,
    };
    let record = resident("Noor", aged(30, NOW), "0363", None);
    let pseudonyms: BTreeMap<String, String> = PLATFORMS
        .iter()
        .map(|p| (p.to_string(), pseudonym(p, "R-1")))
        .collect();
    let issued = issue(
        issuer.key(),
        ISSUER,
        VCT,
        &Contents {
            record: &record,
            holder: &minimal,
            iat: NOW - 60,
            today: NOW,
            nbf: None,
            exp: NOW + 30 * 86_400,
            status: None,
            pseudonyms,
        },
    );
    let cnf =
        civic_credential::encoding::b64_json_object(issued.split('.').nth(1).unwrap(), "payload")
            .unwrap()["cnf"]["jwk"]
            .clone();
    let mut members: Vec<&str> = cnf
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(members, ["crv", "kty", "x", "y"]);
    let copy = Credential { issued, holder };
    let (id, req) = open(&flow);
    let paths = req.dcql_query.credentials[0].requested_paths();
    let p = copy.present(&paths, &req.client_id, &req.nonce, NOW);
    assert_eq!(rule(&answer(&flow, &id, &req, &p).await), "<eligible>");
}

#[tokio::test]
async fn broken_signatures_and_a_kb_jwt_a_year_off_are_rejected() {
    let issuer = TestIssuer::new();
    let flow = flow(&issuer);
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    type Make = fn(&Credential, &[ClaimPath], &AuthorizationRequest) -> String;
    let cases: [(&str, Make, &str); 4] = [
        (
            "invalid-kb-jwt-signature",
            |c, paths, req| {
                break_signature(&c.present(paths, &req.client_id, &req.nonce, NOW), true)
            },
            "invalid_signature",
        ),
        (
            "invalid-credential-signature",
            |c, paths, req| {
                break_signature(&c.present(paths, &req.client_id, &req.nonce, NOW), false)
            },
            "invalid_signature",
        ),
        (
            "kb-jwt-iat-in-past",
            |c, paths, req| c.present(paths, &req.client_id, &req.nonce, NOW - YEAR),
            "key_binding_iat",
        ),
        (
            "kb-jwt-iat-in-future",
            |c, paths, req| c.present(paths, &req.client_id, &req.nonce, NOW + YEAR),
            "key_binding_iat",
        ),
    ];
    for (module, make, expected) in cases {
        let (id, req) = open(&flow);
        let paths = req.dcql_query.credentials[0].requested_paths();
        let outcome = answer(&flow, &id, &req, &make(&noor, &paths, &req)).await;
        assert_eq!(rule(&outcome), expected, "{module}: {outcome:?}");
    }
}
