//! The authorization code flow (HAIP 1.0 §4) against the real binary: a registered wallet
//! pushes its request (PAR), the resident signs in with the passkey and confirms at
//! `/authorize`, and the wallet redeems the code with PKCE and DPoP for a batch. And the
//! conformance suite's checks that run offline: PKCE mismatch, PAR request reused, a code used
//! twice, plain PKCE, another redirect URI, another DPoP key, a refusal.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use serde_json::{json, Value};

use civic_credential::oid4vci::authorization::{pkce_challenge, PushedAuthorizationRequest};
use civic_testkit::http::json;
use civic_testkit::issuer_process::{enroll, TestIssuer};
use civic_testkit::wallet::{self, DpopKey};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const CLIENT: &str = "https://wallet.example";
const REDIRECT: &str = "https://wallet.example/callback";

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

/// An issuer that serves one wallet, with resident R-0001 enrolled: the resident's browser and
/// its anti-CSRF token.
async fn issuer_with_a_wallet() -> (TestIssuer, reqwest::Client, String) {
    let mut t = TestIssuer::init(BIN, "");
    t.add_wallet_client(CLIENT, "Test wallet", REDIRECT);
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let (browser, _passkey, csrf) = enroll(&t, &code).await;
    (t, browser, csrf)
}

/// A wallet's side of one authorization: its PKCE verifier and the pushed request.
struct Attempt {
    verifier: String,
    request: PushedAuthorizationRequest,
}

impl Attempt {
    fn new() -> Self {
        let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
        Attempt {
            request: PushedAuthorizationRequest {
                client_id: CLIENT.into(),
                redirect_uri: REDIRECT.into(),
                scope: vec!["residency".into()],
                state: Some("st-1".into()),
                code_challenge: pkce_challenge(&verifier),
                issuer_state: None,
                dpop_jkt: None,
            },
            verifier,
        }
    }
}

async fn push(t: &TestIssuer, body: String) -> (u16, Value) {
    json(
        t.http
            .post(t.url("/par"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("par"),
    )
    .await
}

/// PAR, then the resident's decision in `browser`: the redirect back to the wallet.
async fn authorize(
    t: &TestIssuer,
    browser: &reqwest::Client,
    csrf: &str,
    attempt: &Attempt,
    approve: bool,
) -> String {
    let (s, pushed) = push(t, attempt.request.to_form()).await;
    assert_eq!(s, 201, "{pushed}");
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    let (s, decided) = decide(t, browser, csrf, request_uri, approve).await;
    assert_eq!(s, 200, "{decided}");
    decided["redirect"].as_str().expect("redirect").to_owned()
}

async fn decide(
    t: &TestIssuer,
    browser: &reqwest::Client,
    csrf: &str,
    request_uri: &str,
    approve: bool,
) -> (u16, Value) {
    t.decide_authorization(browser, csrf, CLIENT, &json!(request_uri), approve)
        .await
}

/// The query parameters of a redirect back to the wallet.
fn params(redirect: &str) -> Value {
    let query = redirect
        .strip_prefix(&format!("{REDIRECT}?"))
        .expect("back to the wallet");
    let [code, state, iss, error] =
        civic_credential::form::fields(query.as_bytes(), ["code", "state", "iss", "error"])
            .expect("query");
    json!({ "code": code, "state": state, "iss": iss, "error": error })
}

async fn redeem(
    t: &TestIssuer,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    dpop: &Arc<DpopKey>,
) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("code_verifier", verifier),
        ("redirect_uri", redirect_uri),
        ("client_id", CLIENT),
    ];
    wallet::token_form(&t.http, &t.base, &form, dpop)
        .await
        .expect("token")
}

#[tokio::test]
async fn a_wallet_gets_a_batch_after_the_resident_signs_in_and_confirms() {
    let (t, browser, csrf) = issuer_with_a_wallet().await;
    let meta: Value = t
        .http
        .get(t.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(meta["pushed_authorization_request_endpoint"], t.url("/par"));
    assert_eq!(meta["authorization_endpoint"], t.url("/authorize"));
    assert_eq!(meta["require_pushed_authorization_requests"], true);
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["authorization_response_iss_parameter_supported"], true);

    let attempt = Attempt::new();
    let (s, pushed) = push(&t, attempt.request.to_form()).await;
    assert_eq!(s, 201, "{pushed}");
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().expect("request_uri");
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    let page = format!(
        "/authorize?client_id={}&request_uri={}",
        civic_credential::form::percent_encode(CLIENT),
        civic_credential::form::percent_encode(request_uri)
    );

    // Signed out, the page asks for the passkey first; signed in, it says who gets what.
    let stranger = t.new_client();
    let html = stranger.get(t.url(&page)).send().await.expect("page");
    assert_eq!(html.status(), 200);
    let html = html.text().await.expect("html");
    assert!(
        html.contains("id=\"login-button\"") && html.contains("Test wallet"),
        "{html}"
    );
    let html = browser
        .get(t.url(&page))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(
        html.contains("data-authorize=\"approve\"") && html.contains("https://wallet.example"),
        "{html}"
    );
    // Only the signed-in resident, from the issuer's own pages, decides.
    let (s, _) = json(
        stranger
            .post(t.url("/api/authorize"))
            .json(&json!({ "client_id": CLIENT, "request_uri": request_uri, "approve": true }))
            .send()
            .await
            .expect("decide"),
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = json(
        browser
            .post(t.url("/api/authorize"))
            .header("x-csrf-token", &csrf)
            .header("origin", "https://evil.example")
            .json(&json!({ "client_id": CLIENT, "request_uri": request_uri, "approve": true }))
            .send()
            .await
            .expect("decide"),
    )
    .await;
    assert_eq!(s, 403);

    let (s, decided) = decide(&t, &browser, &csrf, request_uri, true).await;
    assert_eq!(s, 200, "{decided}");
    let back = params(decided["redirect"].as_str().expect("redirect"));
    assert_eq!(back["state"], "st-1");
    assert_eq!(
        back["iss"],
        t.base.as_str(),
        "RFC 9207: the response names the issuer"
    );
    let code = back["code"].as_str().expect("code");

    let dpop = Arc::new(DpopKey::new());
    let (s, tok) = redeem(&t, code, &attempt.verifier, REDIRECT, &dpop).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "DPoP");
    let access = tok["access_token"].as_str().expect("token");
    let n = wallet::nonce(&t.http, &t.base).await;
    let proofs: Vec<String> = (0..3)
        .map(|_| {
            wallet::proof(
                &wallet::holder_key(),
                &t.base,
                Some(&n),
                civic_testkit::now(),
            )
        })
        .collect();
    let (s, body) = wallet::credential(&t.http, &t.base, access, &proofs).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["credentials"].as_array().map(Vec::len), Some(3));

    // The code worked once; the request_uri too.
    let (s, b) = redeem(
        &t,
        code,
        &attempt.verifier,
        REDIRECT,
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");
    let (s, b) = decide(&t, &browser, &csrf, request_uri, true).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_request"),
        "PAR request reused: {b}"
    );
    let resp = browser.get(t.url(&page)).send().await.expect("page");
    assert_eq!(resp.status(), 400, "the page of a used request_uri");
}

#[tokio::test]
async fn what_the_conformance_suite_tries_is_refused() {
    let (t, browser, csrf) = issuer_with_a_wallet().await;

    // PAR: plain PKCE, no scope, an unknown wallet, a redirect URI not the wallet's.
    let plain = Attempt::new().request.to_form().replace("S256", "plain");
    let no_scope = Attempt::new()
        .request
        .to_form()
        .replace("&scope=residency", "");
    let mut stranger = Attempt::new();
    stranger.request.client_id = "https://other-wallet.example".into();
    let mut elsewhere = Attempt::new();
    elsewhere.request.redirect_uri = "https://evil.example/callback".into();
    let mut other_scope = Attempt::new();
    other_scope.request.scope = vec!["openid".into()];
    for (what, body, code) in [
        ("plain PKCE", plain, "invalid_request"),
        ("no scope", no_scope, "invalid_scope"),
        (
            "an unknown wallet",
            stranger.request.to_form(),
            "invalid_client",
        ),
        (
            "another redirect URI",
            elsewhere.request.to_form(),
            "invalid_request",
        ),
        (
            "another scope",
            other_scope.request.to_form(),
            "invalid_scope",
        ),
    ] {
        let (s, b) = push(&t, body).await;
        assert_eq!((s, err(&b)), (400, code), "{what}: {b}");
    }

    // PKCE mismatch: refused, and the code is gone.
    let attempt = Attempt::new();
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let code = back["code"].as_str().expect("code");
    let other_verifier = Attempt::new().verifier;
    let (s, b) = redeem(
        &t,
        code,
        &other_verifier,
        REDIRECT,
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");
    let (s, b) = redeem(
        &t,
        code,
        &attempt.verifier,
        REDIRECT,
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");

    // Another redirect URI at the token endpoint.
    let attempt = Attempt::new();
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let code = back["code"].as_str().expect("code");
    let (s, b) = redeem(
        &t,
        code,
        &attempt.verifier,
        "https://wallet.example/other",
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");

    // A code bound to a DPoP key (dpop_jkt) is redeemed only with that key.
    let owner = Arc::new(DpopKey::new());
    let mut attempt = Attempt::new();
    attempt.request.dpop_jkt = Some(owner.thumbprint());
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let code = back["code"].as_str().expect("code");
    let (s, b) = redeem(
        &t,
        code,
        &attempt.verifier,
        REDIRECT,
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");

    // No DPoP proof at all: refused before the code is looked at.
    let attempt = Attempt::new();
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let code = back["code"].as_str().expect("code");
    let (s, b) = json(
        t.http
            .post(t.url("/token"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("code_verifier", attempt.verifier.as_str()),
                ("redirect_uri", REDIRECT),
                ("client_id", CLIENT),
            ])
            .send()
            .await
            .expect("token"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");
    let (s, b) = redeem(&t, code, &attempt.verifier, REDIRECT, &owner).await;
    assert_eq!(s, 200, "the code was still there: {b}");

    // The resident cancels: the wallet hears access_denied, with its state and the issuer.
    let back = params(&authorize(&t, &browser, &csrf, &Attempt::new(), false).await);
    assert_eq!(back["error"], "access_denied");
    assert_eq!(back["code"], Value::Null);
    assert_eq!(back["state"], "st-1");
    assert_eq!(back["iss"], t.base.as_str());
}

/// A counter-service offer for `resident`: its JSON.
async fn counter_offer(t: &TestIssuer, resident: &str) -> Value {
    let (s, offer) = json(
        t.http
            .post(t.url(&format!("/admin/api/residents/{resident}/offer")))
            .bearer_auth(&t.admin_token)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(s, 200, "{offer}");
    offer
}

#[tokio::test]
async fn an_offer_with_the_authorization_code_grant_is_used_once_by_its_resident() {
    let (t, browser, csrf) = issuer_with_a_wallet().await;
    let offer = counter_offer(&t, "R-0001").await;
    let grants = &offer["credential_offer"]["grants"];
    let state = grants["authorization_code"]["issuer_state"]
        .as_str()
        .expect("an issuer_state beside the pre-authorized code")
        .to_owned();
    // The offer by reference carries it too; the database holds only its hash.
    let by_ref: Value = t
        .http
        .get(offer["credential_offer_uri"].as_str().expect("uri"))
        .send()
        .await
        .expect("offer")
        .json()
        .await
        .expect("json");
    assert_eq!(
        by_ref["grants"]["authorization_code"]["issuer_state"],
        state
    );

    // An issuer_state of ours only.
    let mut forged = Attempt::new();
    forged.request.issuer_state = Some("not-ours".into());
    let (s, b) = push(&t, forged.request.to_form()).await;
    assert_eq!((s, err(&b)), (400, "invalid_request"), "{b}");

    // The offer's resident signs in and approves: a code, a batch; the offer is used up, its
    // pre-authorized code with it.
    let mut attempt = Attempt::new();
    attempt.request.issuer_state = Some(state.clone());
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let code = back["code"].as_str().expect("code");
    let (s, tok) = redeem(
        &t,
        code,
        &attempt.verifier,
        REDIRECT,
        &Arc::new(DpopKey::new()),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let pre = wallet::pre_authorized_code(&offer["credential_offer"]);
    let tx = offer["tx_code"].as_str();
    let (s, b) = wallet::token(&t.http, &t.base, &pre, tx).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");
    let (s, b) = push(&t, attempt.request.to_form()).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_request"),
        "issuer_state reused: {b}"
    );

    // Another resident's offer: R-0001 cannot take it.
    let theirs = counter_offer(&t, "R-0003").await;
    let mut attempt = Attempt::new();
    attempt.request.issuer_state = theirs["credential_offer"]["grants"]["authorization_code"]
        ["issuer_state"]
        .as_str()
        .map(str::to_owned);
    let (s, pushed) = push(&t, attempt.request.to_form()).await;
    assert_eq!(s, 201, "{pushed}");
    let (s, b) = decide(
        &t,
        &browser,
        &csrf,
        pushed["request_uri"].as_str().expect("request_uri"),
        true,
    )
    .await;
    assert_eq!((s, err(&b)), (403, "access_denied"), "{b}");
    // And the pre-authorized code of that offer still works for its resident's wallet.
    let pre = wallet::pre_authorized_code(&theirs["credential_offer"]);
    let (s, b) = wallet::token(&t.http, &t.base, &pre, theirs["tx_code"].as_str()).await;
    assert_eq!(s, 200, "{b}");
}

async fn refresh(
    t: &TestIssuer,
    token: &str,
    client_id: &str,
    dpop: &Arc<DpopKey>,
) -> (u16, Value) {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", token),
        ("client_id", client_id),
    ];
    wallet::token_form(&t.http, &t.base, &form, dpop)
        .await
        .expect("token")
}

#[tokio::test]
async fn a_refresh_token_gives_a_fresh_batch_once_with_its_key_while_the_resident_may_receive() {
    let (t, browser, csrf) = issuer_with_a_wallet().await;
    let attempt = Attempt::new();
    let back = params(&authorize(&t, &browser, &csrf, &attempt, true).await);
    let key = Arc::new(DpopKey::new());
    let (s, tok) = redeem(
        &t,
        back["code"].as_str().expect("code"),
        &attempt.verifier,
        REDIRECT,
        &key,
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let first = tok["refresh_token"]
        .as_str()
        .expect("a refresh token")
        .to_owned();

    // Another key, another wallet: refused, and the token stays for its owner.
    let (s, b) = refresh(&t, &first, CLIENT, &Arc::new(DpopKey::new())).await;
    assert_eq!((s, err(&b)), (400, "invalid_dpop_proof"), "{b}");
    let (s, b) = refresh(&t, &first, "https://other-wallet.example", &key).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");
    let (s, b) = refresh(&t, &first, CLIENT, &key).await;
    assert_eq!(s, 200, "{b}");
    let second = b["refresh_token"]
        .as_str()
        .expect("the next refresh token")
        .to_owned();
    assert_ne!(second, first);
    let n = wallet::nonce(&t.http, &t.base).await;
    let proof = wallet::proof(
        &wallet::holder_key(),
        &t.base,
        Some(&n),
        civic_testkit::now(),
    );
    let (s, body) = wallet::credential(
        &t.http,
        &t.base,
        b["access_token"].as_str().expect("access"),
        &[proof],
    )
    .await;
    assert_eq!(s, 200, "a fresh batch: {body}");

    // Used once: the old one is gone.
    let (s, b) = refresh(&t, &first, CLIENT, &key).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"), "{b}");

    // A revoked resident gets no fresh batch.
    let (s, b) = json(
        t.http
            .post(t.url("/admin/api/residents/R-0001/revoke"))
            .bearer_auth(&t.admin_token)
            .send()
            .await
            .expect("revoke"),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = refresh(&t, &second, CLIENT, &key).await;
    assert_eq!((s, err(&b)), (403, "credential_request_denied"), "{b}");

    // A counter-service offer gives none: the next batch is another visit.
    let offer = counter_offer(&t, "R-0003").await;
    let pre = wallet::pre_authorized_code(&offer["credential_offer"]);
    let (s, b) = wallet::token(&t.http, &t.base, &pre, offer["tx_code"].as_str()).await;
    assert_eq!(s, 200, "{b}");
    assert!(b.get("refresh_token").is_none(), "{b}");
}
