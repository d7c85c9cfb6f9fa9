//! Signed credential issuer metadata (OID4VCI 1.0 §12.2.3, HAIP 1.0 §4.1) against the real
//! binary: a wallet that asks with `Accept: application/jwt` gets the metadata as a JWT signed by
//! the issuer's certified key, its chain in `x5c` leading to the CA `dev-ca` wrote; the same
//! members as the JSON, with `sub` and `iss` the issuer. Without a certificate, JSON only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::Value;

use civic_credential::jws::Jws;
use civic_credential::oid4vci::metadata::SIGNED_METADATA_TYP;
use civic_credential::x509::{self, Certificate};
use civic_testkit::issuer_process::TestIssuer;

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const PATH: &str = "/.well-known/openid-credential-issuer";

/// The metadata asked for with `accept`: status, content type, `Vary`, body.
async fn metadata(t: &TestIssuer, accept: &str) -> (u16, String, String, String) {
    let resp = t
        .http
        .get(t.url(PATH))
        .header("accept", accept)
        .send()
        .await
        .expect("metadata");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let (content_type, vary) = (header("content-type"), header("vary"));
    (
        resp.status().as_u16(),
        content_type,
        vary,
        resp.text().await.expect("body"),
    )
}

#[tokio::test]
async fn a_wallet_that_asks_gets_the_metadata_signed_through_the_certificate_chain() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    // No certificate yet: JSON whatever is asked.
    let (s, content_type, _, body) = metadata(&t, "application/jwt").await;
    assert_eq!(s, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let json: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(json["credential_issuer"], t.base.as_str());

    t.kill();
    let out = t.cli(&["dev-ca"]);
    assert!(out.contains("issuer-chain.pem"), "{out}");
    t.start().await;
    let anchor_pem = std::fs::read_to_string(t.data.join("issuer-ca.pem")).expect("ca");
    let anchor = Certificate::parse(pem::parse(&anchor_pem).expect("pem").contents()).expect("ca");

    let (s, content_type, vary, plain) = metadata(&t, "application/json").await;
    assert_eq!(s, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert_eq!(vary.to_ascii_lowercase(), "accept");
    let plain: Value = serde_json::from_str(&plain).expect("json");

    // The npm client's Accept: both, JWT first.
    let (s, content_type, vary, jwt) = metadata(&t, "application/jwt, application/json").await;
    assert_eq!(s, 200);
    assert_eq!(content_type, "application/jwt");
    assert_eq!(vary.to_ascii_lowercase(), "accept");
    let jws = Jws::parse(jwt.trim()).expect("jws");
    jws.require_typ(SIGNED_METADATA_TYP).expect("typ");
    let chain = x509::chain_from_header(&jws.header)
        .expect("x5c")
        .expect("an x5c chain");
    let now = civic_testkit::now();
    let leaf = x509::verify_chain(&chain, std::slice::from_ref(&anchor), now).expect("chain");
    assert!(leaf.names_host("localhost"));
    jws.verify(&leaf.verifying_key().expect("key"))
        .expect("signature");
    let mut claims = jws.payload.clone();
    assert_eq!(claims.remove("sub"), Some(Value::from(t.base.as_str())));
    assert_eq!(claims.remove("iss"), Some(Value::from(t.base.as_str())));
    let iat = claims.remove("iat").and_then(|v| v.as_i64()).expect("iat");
    assert!((iat - now).abs() <= 60, "iat {iat}, now {now}");
    assert_eq!(
        Value::Object(claims),
        plain,
        "the signed members are the JSON's"
    );

    // A rogue anchor does not lead there.
    let rogue = civic_service::certificate::dev_ca("Rogue", &["localhost".into()], 30, None)
        .expect("rogue ca");
    let rogue = Certificate::parse(&rogue.ca_der().expect("der")).expect("rogue");
    assert!(x509::verify_chain(&chain, &[rogue], now).is_err());
}
