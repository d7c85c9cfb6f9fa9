//! Issuers trusted by certificate (HAIP 1.0 §6.1.1): the trust list gives an issuer's X.509
//! anchors instead of a place to fetch keys. Its credentials and status list tokens then carry
//! the chain in `x5c`; the verifier takes the key from the leaf after checking the chain to
//! the anchors and the leaf's name against `iss`. The request's DCQL names the anchors in
//! `trusted_authorities` (`aki`). Each refusal below is one check taken away.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

mod support;

use std::sync::Arc;

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::encoding::b64_encode;
use civic_credential::oid4vp::{AuthorizationRequest, AKI};
use civic_credential::status_list::{Status, StatusList, StatusListToken};
use civic_credential::x509::Certificate;
use civic_service::certificate::{dev_ca, DevCa};
use civic_testkit::credentials::{
    aged, holder_key, issue, resident, Contents, ISSUER, PLATFORMS, VCT,
};
use civic_verifier::fetch::StaticFetcher;
use civic_verifier::flow::Flow;
use civic_verifier::session::SessionStatus;
use civic_verifier::TrustList;
use support::wall_clock;

const HOST: &str = "id.teststad.example";
const STATUS_URI: &str = "https://id.teststad.example/status/0";

/// The issuer's key, and a development CA that certified it for `host`.
fn certified(host: &str) -> (SigningKey, DevCa) {
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng)
        .unwrap()
        .with_kid("key-1");
    let ca = dev_ca(
        "Teststad",
        &[host.to_owned()],
        30,
        Some(&key.to_pkcs8_der().unwrap()),
    )
    .unwrap();
    let key = key.with_x5c(vec![ca.leaf_der().unwrap()]);
    (key, ca)
}

fn trust_list(anchor_pem: &str) -> String {
    serde_json::json!({
        "issuer": [{
            "id": ISSUER,
            "vct": [VCT],
            "municipality_codes": ["0363"],
            "trust_anchors": [anchor_pem],
        }]
    })
    .to_string()
}

/// A status list token with index 1 revoked, signed by `key`.
fn status_token(key: &SigningKey, now: i64) -> String {
    let mut list = StatusList::new(1, 16).unwrap();
    list.set(1, Status::Invalid).unwrap();
    StatusListToken {
        sub: STATUS_URI.into(),
        iat: now - 10,
        exp: None,
        ttl: Some(60),
        list,
    }
    .sign(key)
    .unwrap()
}

/// A flow trusting `anchor_pem` for the test issuer, with `status` served as its status list.
fn flow(anchor_pem: &str, status: &str, now: i64) -> Flow {
    let mut fetcher = StaticFetcher::new();
    fetcher.insert(STATUS_URI, status.as_bytes().to_vec());
    support::flow_at(
        &trust_list(anchor_pem),
        Arc::new(fetcher),
        PLATFORMS[0],
        vec![support::platform(PLATFORMS[0], "sixteen", false)],
        now,
    )
}

/// The outcome of presenting a credential signed by `key` (status index `idx`) to `flow`.
async fn present(flow: &Flow, key: &SigningKey, idx: u64, now: i64) -> SessionStatus {
    let (id, req) = support::open(flow, PLATFORMS[0], "sixteen");
    let holder = holder_key();
    let record = resident("Noor", aged(30, now), "0363", None);
    let pseudonyms = [(
        PLATFORMS[0].to_owned(),
        civic_testkit::credentials::pseudonym(PLATFORMS[0], "R-1"),
    )]
    .into();
    let issued = issue(
        key,
        ISSUER,
        VCT,
        &Contents {
            record: &record,
            holder: holder.public_jwk(),
            iat: now - 60,
            today: now,
            nbf: None,
            exp: now + 86_400,
            status: Some((STATUS_URI, idx)),
            pseudonyms,
        },
    );
    let credential = civic_testkit::credentials::Credential { issued, holder };
    let paths = req.dcql_query.credentials[0].requested_paths();
    let presentation = credential.present(&paths, &req.client_id, &req.nonce, now);
    flow.answer(&id, &support::answer_form(&req, &presentation))
        .await
        .unwrap()
        .outcome
}

fn rule(outcome: &SessionStatus) -> &str {
    match outcome {
        SessionStatus::Rejected { rejection } => &rejection.rule,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_credential_and_status_list_with_x5c_are_verified_against_the_anchor() {
    let now = wall_clock();
    let (key, ca) = certified(HOST);
    let flow = flow(&ca.ca_pem, &status_token(&key, now), now);

    // The query names the anchor's key identifier, which the leaf carries as its AKI.
    let (_, req): (String, AuthorizationRequest) = support::open(&flow, PLATFORMS[0], "sixteen");
    let authorities = req.dcql_query.credentials[0]
        .trusted_authorities
        .clone()
        .expect("trusted_authorities");
    let anchor = Certificate::parse(&ca.ca_der().unwrap()).unwrap();
    let leaf = Certificate::parse(&ca.leaf_der().unwrap()).unwrap();
    assert_eq!(
        authorities,
        serde_json::json!([{"type": AKI, "values": [b64_encode(anchor.subject_key_id().unwrap())]}])
    );
    assert_eq!(leaf.authority_key_id(), anchor.subject_key_id());
    assert!(req.dcql_query.credentials[0]
        .accepts_authorities(|| vec![b64_encode(leaf.authority_key_id().unwrap())]));
    assert!(!req.dcql_query.credentials[0].accepts_authorities(|| vec!["other".into()]));

    match present(&flow, &key, 0, now).await {
        SessionStatus::Complete { eligibility } => assert!(eligibility.eligible),
        other => panic!("{other:?}"),
    }
    // The status list token was checked with the same chain: index 1 is revoked.
    assert_eq!(rule(&present(&flow, &key, 1, now).await), "revoked");
}

#[tokio::test]
async fn a_chain_to_another_anchor_a_leaf_for_another_host_or_no_x5c_is_refused() {
    let now = wall_clock();
    let (key, ca) = certified(HOST);
    let trusted = flow(&ca.ca_pem, &status_token(&key, now), now);

    // The same key, certified by a CA the verifier does not trust.
    let (_, rogue) = certified(HOST);
    let plain = SigningKey::from_jwk(&key.to_private_jwk()).unwrap();
    let rogue_key = SigningKey::from_jwk(&key.to_private_jwk())
        .unwrap()
        .with_x5c(vec![rogue.leaf_der().unwrap()]);
    assert_eq!(
        rule(&present(&trusted, &rogue_key, 0, now).await),
        "issuer_certificate"
    );

    // A leaf the trusted CA made for another host does not speak for this issuer.
    let (elsewhere_key, elsewhere) = certified("elsewhere.example");
    let flow_elsewhere = flow(&elsewhere.ca_pem, &status_token(&elsewhere_key, now), now);
    assert_eq!(
        rule(&present(&flow_elsewhere, &elsewhere_key, 0, now).await),
        "issuer_certificate"
    );

    // Without x5c the kid alone names nothing: the issuer is trusted by certificate only.
    assert_eq!(
        rule(&present(&trusted, &plain, 0, now).await),
        "issuer_key_not_found"
    );
}

#[tokio::test]
async fn a_status_list_token_without_the_chain_fails_closed() {
    let now = wall_clock();
    let (key, ca) = certified(HOST);
    let unsigned_by_chain = SigningKey::from_jwk(&key.to_private_jwk()).unwrap();
    let flow = flow(&ca.ca_pem, &status_token(&unsigned_by_chain, now), now);
    assert_eq!(
        rule(&present(&flow, &key, 0, now).await),
        "status_unavailable"
    );
}

#[test]
fn trust_anchors_are_checked_when_the_trust_list_loads() {
    let (_, ca) = certified(HOST);
    assert!(TrustList::parse(&trust_list(&ca.ca_pem)).is_ok());
    let base64_der = b64_std(&ca.ca_der().unwrap());
    assert!(TrustList::parse(&trust_list(&base64_der)).is_ok());
    for bad in [
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ] {
        let err = TrustList::parse(&trust_list(bad)).unwrap_err().to_string();
        assert!(err.contains("trust anchor"), "{err}");
    }
    let did = serde_json::json!({"issuer": [{
        "id": "did:jwk:eyJ9", "vct": [VCT], "trust_anchors": [ca.ca_pem],
    }]});
    let err = TrustList::parse(&did.to_string()).unwrap_err().to_string();
    assert!(err.contains("https issuer"), "{err}");
}

fn b64_std(der: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(der)
}
