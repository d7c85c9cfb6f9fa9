//! Encrypted answers (`direct_post.jwt`) over HTTP on 127.0.0.1: with `encrypt_responses` the
//! verifier service's request objects carry a fresh key, a wallet's sealed answer completes the
//! session, and a plain answer gets 400 `invalid_request` without using the session up.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_credential::oid4vp::DIRECT_POST_JWT;
use civic_testkit::services::*;
use civic_testkit::wallet::Presenter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_asks_for_encryption_takes_only_a_sealed_answer() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (issuer, verifier) =
        start_issuer_and_verifier(tmp.path(), "encrypt_responses = true").await;
    let copies = issuer.credentials("D-0001", 2).await;

    let (s, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{created}");
    let link = created["openid4vp_url"].as_str().expect("url");
    let id = created["id"].as_str().expect("id");
    let wallet = Presenter {
        http: &verifier.http,
        credential: &copies[0],
    };
    let req = wallet.request(link).await;
    assert_eq!(req.response_mode, DIRECT_POST_JWT);
    let meta = req.client_metadata.clone().expect("client_metadata");
    assert_eq!(meta["jwks"]["keys"][0]["crv"], "P-256");
    assert!(meta["jwks"]["keys"][0].get("d").is_none());

    // In plain text: refused, and the session still waits.
    let vp = wallet.vp_token(&req, &req.client_id, &req.nonce);
    let state = req.state.clone().unwrap_or_default();
    let (s, err) = wallet
        .post_plain(&req, &[("vp_token", &vp), ("state", &state)])
        .await;
    assert_eq!(s, 400, "{err}");
    assert_eq!(err["error"], "invalid_request");
    assert!(
        err["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("encrypted")),
        "{err}"
    );
    let (_, pending) = verifier.result(BUDGET_KEY, id, None).await;
    assert_eq!(session_status(&pending), "pending");

    // Sealed to the request's key: complete and eligible.
    let (s, body) = wallet
        .post(&req, &[("vp_token", &vp), ("state", &state)])
        .await;
    assert_eq!(s, 200, "{body}");
    let (_, result) = verifier.result(BUDGET_KEY, id, None).await;
    assert_eq!(session_status(&result), "complete", "{result}");
    assert_eq!(result["eligibility"]["eligible"], true);

    // The same sealed answer again: a replay, refused.
    let (s, _) = wallet
        .post(&req, &[("vp_token", &vp), ("state", &state)])
        .await;
    assert_eq!(s, 400);
}
