//! Certificate verifiers (HAIP 1.0): with `[request_certificate]`, sessions ask under
//! `x509_hash:` (or `x509_san_dns:`) with request objects signed by the certificate's key, the
//! chain in `x5c`, fetched by reference (by POST with the wallet's nonce). A wallet whose anchors
//! vouch for the chain learns the verified name and gives the platform its pseudonym; one whose
//! anchors do not gets no binding. Answers are encrypted, and a plain one is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use civic_credential::oid4vp::{
    AuthorizationRequest, CertifiedVerifier, LinkedRequest, DIRECT_POST_JWT, X509_HASH_PREFIX,
};
use civic_credential::pseudonym::{self, BindingError};
use civic_credential::x509::Certificate;
use civic_testkit::credentials::{aged, resident, TestIssuer, PLATFORMS};
use civic_verifier::certificate::{dev_ca, DevCa, RequestCertificate, X509Prefix};
use civic_verifier::flow::{Flow, FlowError};
use civic_verifier::session::SessionStatus;
use support::{answer_form, form, params, wall_clock, NOW};

const HOST: &str = "budget.teststad.example";

fn anchor(ca: &DevCa) -> Certificate {
    Certificate::parse(&ca.ca_der().unwrap()).unwrap()
}

fn flow(issuer: &TestIssuer, ca: &DevCa, prefix: X509Prefix) -> Flow {
    let certificate =
        RequestCertificate::from_pem(&ca.chain_pem, &ca.key_pem, prefix, PLATFORMS[0]).unwrap();
    support::flow(
        &issuer.trust_list(),
        PLATFORMS[0],
        vec![support::platform(PLATFORMS[0], "sixteen", true)],
    )
    .with_certificate(certificate)
}

/// A session's link and the request object it serves (fetched by POST with a wallet nonce).
fn open(flow: &Flow) -> (String, String) {
    let created = flow.create(PLATFORMS[0], "sixteen", None).unwrap();
    let link = match LinkedRequest::parse(&created.openid4vp_url).unwrap() {
        LinkedRequest::ByReference(link) => link,
        other => panic!("a signed request goes by reference: {other:?}"),
    };
    assert!(
        link.wants_post(),
        "fetched by POST, with the wallet's nonce"
    );
    assert!(link.client_id.starts_with("x509_"));
    let jwt = flow
        .request_object_for(&created.id, Some("wallet-nonce-1".into()))
        .unwrap();
    (created.id, jwt)
}

#[tokio::test]
async fn an_x509_hash_session_is_verified_by_the_wallet_and_answered_encrypted() {
    let issuer = TestIssuer::new();
    let ca = dev_ca("Participatory Budget Teststad", &[HOST.to_string()], 30).unwrap();
    let flow = flow(&issuer, &ca, X509Prefix::X509Hash);
    let (id, jwt) = open(&flow);

    // What a wallet whose platform registry holds the CA establishes.
    let (req, trust) =
        AuthorizationRequest::from_jwt_with_x5c(&jwt, &[anchor(&ca)], wall_clock()).unwrap();
    let leaf = Certificate::parse(&ca.leaf_der().unwrap()).unwrap();
    assert_eq!(
        req.client_id,
        format!("{X509_HASH_PREFIX}{}", leaf.x509_hash())
    );
    assert_eq!(req.wallet_nonce.as_deref(), Some("wallet-nonce-1"));
    assert_eq!(req.response_mode, DIRECT_POST_JWT);
    assert_eq!(
        trust,
        CertifiedVerifier::Anchored {
            name: "Participatory Budget Teststad".into(),
            platform: PLATFORMS[0].into(),
        }
    );
    let paths = req.dcql_query.credentials[0].requested_paths();
    assert_eq!(
        pseudonym::check_request(&paths, &req.client_id, Some(PLATFORMS[0])),
        Ok(Some(PLATFORMS[0].to_owned()))
    );

    // A plain answer to this session is refused; the session still waits for the real one.
    let noor = issuer.issue(&resident("Noor", aged(30, NOW), "0363", None), "R-1", NOW);
    let presentation = noor.present(&paths, &req.client_id, &req.nonce, NOW);
    let plain = params(&req, &presentation);
    let vp = plain["vp_token"].to_string();
    let refused = flow
        .answer(
            &id,
            &form(&[("vp_token", &vp), ("state", req.state.as_deref().unwrap())]),
        )
        .await;
    assert!(
        matches!(refused, Err(FlowError::Encryption(_))),
        "{refused:?}"
    );

    let answered = flow
        .answer(&id, &answer_form(&req, &presentation))
        .await
        .unwrap();
    match answered.outcome {
        SessionStatus::Complete { eligibility } => {
            assert!(eligibility.eligible);
            assert!(eligibility.pseudonym.is_some());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_chain_the_wallet_does_not_anchor_gets_no_pseudonym() {
    let issuer = TestIssuer::new();
    let ca = dev_ca("Participatory Budget Teststad", &[HOST.to_string()], 30).unwrap();
    let rogue = dev_ca("Somebody", &[HOST.to_string()], 30).unwrap();
    let (_, jwt) = open(&flow(&issuer, &ca, X509Prefix::X509Hash));
    for anchors in [vec![anchor(&rogue)], vec![]] {
        let (req, trust) =
            AuthorizationRequest::from_jwt_with_x5c(&jwt, &anchors, wall_clock()).unwrap();
        let CertifiedVerifier::Unanchored { reason } = trust else {
            panic!("anchored by {anchors:?}")
        };
        assert!(reason.contains("trusted anchor"), "{reason}");
        let paths = req.dcql_query.credentials[0].requested_paths();
        assert!(matches!(
            pseudonym::check_request(&paths, &req.client_id, None),
            Err(BindingError::Unbound(_))
        ));
    }
    // Once expired, the anchored chain is no longer trusted either.
    let (_, trust) =
        AuthorizationRequest::from_jwt_with_x5c(&jwt, &[anchor(&ca)], wall_clock() + 40 * 86_400)
            .unwrap();
    assert!(matches!(trust, CertifiedVerifier::Unanchored { .. }));
}

#[test]
fn x509_san_dns_names_the_host_and_a_foreign_certificate_is_refused_at_start() {
    let issuer = TestIssuer::new();
    let ca = dev_ca("Participatory Budget Teststad", &[HOST.to_string()], 30).unwrap();
    let (_, jwt) = open(&flow(&issuer, &ca, X509Prefix::X509SanDns));
    let (req, trust) =
        AuthorizationRequest::from_jwt_with_x5c(&jwt, &[anchor(&ca)], wall_clock()).unwrap();
    assert_eq!(req.client_id, format!("x509_san_dns:{HOST}"));
    assert!(matches!(trust, CertifiedVerifier::Anchored { .. }));

    // A certificate for another host cannot be this verifier's: wallets would send the
    // answers to a host it does not name.
    let other = dev_ca("Elsewhere", &["consult.teststad.example".to_string()], 30).unwrap();
    let err = RequestCertificate::from_pem(
        &other.chain_pem,
        &other.key_pem,
        X509Prefix::X509Hash,
        PLATFORMS[0],
    )
    .err()
    .unwrap();
    assert!(
        err.contains("does not name budget.teststad.example"),
        "{err}"
    );
}
