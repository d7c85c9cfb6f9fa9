//! `request_uri_method=post` (OpenID4VP 1.0 §5.10) over HTTP on 127.0.0.1: a signed request's
//! link asks the wallet to POST its metadata and a nonce to `request_uri`; the signed request
//! object echoes the nonce, a GET still works, and a malformed body gets 400 `invalid_request`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_credential::oid4vp::{RequestLink, RequestUriPost};
use civic_testkit::services::*;
use civic_testkit::wallet::read_request;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_is_fetched_by_post_and_echoes_the_wallets_nonce() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (_issuer, verifier) = start_issuer_and_verifier(tmp.path(), "").await;
    let (s, created) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{created}");
    let url = created["openid4vp_url"].as_str().expect("url");
    let link = RequestLink::parse(url).expect("link");
    assert!(link.wants_post(), "{url}");

    let post = |body: String| {
        verifier
            .http
            .post(&link.request_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/oauth-authz-req+jwt")
            .body(body)
            .send()
    };
    let mut metadata = serde_json::Map::new();
    metadata.insert("vp_formats_supported".into(), serde_json::json!({}));
    let sent = RequestUriPost {
        wallet_nonce: Some("wallet-nonce-1".into()),
        wallet_metadata: Some(metadata),
    };
    let resp = post(sent.to_form()).await.expect("post");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/oauth-authz-req+jwt"
    );
    let jwt = resp.text().await.expect("jwt");
    let req = read_request(&verifier.http, &link.client_id, &jwt)
        .await
        .expect("a signed request that verifies");
    assert_eq!(req.wallet_nonce.as_deref(), Some("wallet-nonce-1"));

    // A GET (a wallet without POST support) gets the same request without a wallet nonce.
    let got = verifier
        .http
        .get(&link.request_uri)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("jwt");
    let plain = read_request(&verifier.http, &link.client_id, &got)
        .await
        .expect("get");
    assert_eq!(plain.wallet_nonce, None);
    assert_eq!((plain.nonce, plain.state), (req.nonce, req.state));

    // Malformed bodies: 400 invalid_request, and the session still waits.
    for bad in [
        "wallet_nonce=",
        "wallet_nonce=a&wallet_nonce=b",
        "wallet_metadata=%5B1%5D",
    ] {
        let resp = post(bad.to_owned()).await.expect("post");
        assert_eq!(resp.status(), 400, "{bad}");
        let err: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(err["error"], "invalid_request", "{bad}: {err}");
    }
    let id = created["id"].as_str().expect("id");
    let (_, result) = verifier.result(BUDGET_KEY, id, None).await;
    assert_eq!(session_status(&result), "pending");
}
