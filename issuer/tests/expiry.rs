//! Expiry on the issuer's own clock: enrollment codes, offers and access tokens. The issuer runs
//! in-process on a clock the test moves forward, so nothing here sleeps.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::{json, Value};

use civic_service::Clock;
use civic_testkit::http::json;
use civic_testkit::services::{start_issuer, IssuerHandle, IssuerSetup};
use civic_testkit::wallet;

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

/// A counter-service offer for `resident`: its pre-authorized code and transaction code.
async fn offer(issuer: &IssuerHandle, resident: &str) -> (String, String) {
    let offer = issuer
        .admin_post(&format!("/admin/api/residents/{resident}/offer"))
        .await;
    (
        wallet::pre_authorized_code(&offer["credential_offer"]),
        offer["tx_code"].as_str().expect("tx_code").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_offers_and_access_tokens_expire_on_the_issuers_clock() {
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let (http, base) = (&issuer.http, issuer.base.as_str());

    // An enrollment code is valid for 30 days.
    let code = issuer
        .issuer
        .enrollment
        .issue_code("D-0001", "test")
        .expect("code")
        .code;
    issuer.issuer.sync().expect("sync");
    issuer.clock.advance(31 * 86_400);
    let (status, body) = json(
        http.post(format!("{base}/api/enroll/start"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "code_expired"), "{body}");

    // An offer's pre-authorized code lives 5 minutes.
    let stale = offer(&issuer, "D-0001").await;
    issuer.clock.advance(301);
    // The wallet's DPoP proofs are made at the issuer's time.
    let clock = issuer.clock.clone();
    let dpop = std::sync::Arc::new(wallet::DpopKey::with_clock(move || clock.now()));
    let (status, body) = wallet::token_with(http, base, &stale.0, Some(&stale.1), &dpop)
        .await
        .expect("token");
    assert_eq!((status, err(&body)), (400, "invalid_grant"), "{body}");

    // An access token lives 5 minutes too; the answer says so in the DPoP challenge.
    let fresh = offer(&issuer, "D-0001").await;
    let (status, token) = wallet::token_with(http, base, &fresh.0, Some(&fresh.1), &dpop)
        .await
        .expect("token");
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["expires_in"], 300);
    let access = token["access_token"].as_str().expect("token");
    let n = wallet::nonce(http, base).await;
    let key = wallet::holder_key();
    let proof = wallet::proof(&key, base, Some(&n), issuer.clock.now());
    issuer.clock.advance(301);
    let url = format!("{base}/credential");
    let presented = wallet::access_headers(&url, access)
        .into_iter()
        .fold(http.post(&url), |req, (name, value)| {
            req.header(name, value)
        });
    let resp = presented
        .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [proof] } }))
        .send()
        .await
        .expect("credential");
    assert_eq!(resp.status(), 401);
    let challenge = resp.headers()["www-authenticate"].to_str().expect("header");
    assert!(
        challenge.starts_with("DPoP ") && challenge.contains("invalid_token"),
        "{challenge}"
    );
}
