//! A DPoP proof at PAR (RFC 9449 §10.1) binds the authorization code to the proof's key before
//! the resident is even asked: only that key redeems the code. A `dpop_jkt` that names another
//! key than the proof is refused, and PAR hands out the `DPoP-Nonce` like the token endpoint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use serde_json::Value;

use civic_credential::oid4vci::authorization::{pkce_challenge, PushedAuthorizationRequest};
use civic_testkit::issuer_process::{enroll, TestIssuer};
use civic_testkit::wallet::{self, DpopKey};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const CLIENT: &str = "https://wallet.example";
const REDIRECT: &str = "https://wallet.example/callback";

fn pushed(verifier: &str, dpop_jkt: Option<String>) -> String {
    PushedAuthorizationRequest {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT.into(),
        scope: vec!["residency".into()],
        state: Some("st".into()),
        code_challenge: pkce_challenge(verifier),
        issuer_state: None,
        dpop_jkt,
    }
    .to_form()
}

/// PAR with a DPoP proof of `key` (once more with the nonce when asked).
async fn push_with(t: &TestIssuer, key: &DpopKey, body: &str) -> (u16, Value) {
    let url = t.url("/par");
    key.send(
        |proof| {
            t.http
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("DPoP", proof)
                .body(body.to_owned())
        },
        &url,
        None,
    )
    .await
    .expect("par")
}

#[tokio::test]
async fn a_dpop_proof_at_par_binds_the_code_to_its_key() {
    let mut t = TestIssuer::init(BIN, "");
    t.add_wallet_client(CLIENT, "Test wallet", REDIRECT);
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let (browser, _passkey, csrf) = enroll(&t, &code).await;

    let wallet_key = Arc::new(DpopKey::new());
    let thief_key = Arc::new(DpopKey::new());
    let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());

    // A proof of one key with a dpop_jkt of another: refused.
    let (s, b) = push_with(
        &t,
        &wallet_key,
        &pushed(&verifier, Some(thief_key.thumbprint())),
    )
    .await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{b}"
    );

    // The proof alone binds the request (the first try is sent back for the nonce). Someone
    // who saw the redirect, with the verifier even, but another key: nothing, and the code is
    // spent. The wallet's own key redeems the next one.
    let thief = token_form(&t, &browser, &csrf, &wallet_key, &verifier).await;
    let (s, b) = wallet::token_form(&t.http, &t.base, &thief.as_form(), &thief_key)
        .await
        .expect("token");
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{b}"
    );
    let (s, b) = wallet::token_form(&t.http, &t.base, &thief.as_form(), &wallet_key)
        .await
        .expect("token");
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_grant")),
        "{b}"
    );
    let own = token_form(&t, &browser, &csrf, &wallet_key, &verifier).await;
    let (s, tok) = wallet::token_form(&t.http, &t.base, &own.as_form(), &wallet_key)
        .await
        .expect("token");
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "DPoP");
}

/// The token request of an authorization code.
struct CodeForm {
    code: String,
    verifier: String,
}

impl CodeForm {
    fn as_form(&self) -> [(&str, &str); 5] {
        [
            ("grant_type", "authorization_code"),
            ("code", &self.code),
            ("code_verifier", &self.verifier),
            ("redirect_uri", REDIRECT),
            ("client_id", CLIENT),
        ]
    }
}

/// PAR with a proof of `key`, the resident's approval in `browser`: the token request.
async fn token_form(
    t: &TestIssuer,
    browser: &reqwest::Client,
    csrf: &str,
    key: &DpopKey,
    verifier: &str,
) -> CodeForm {
    let (s, par) = push_with(t, key, &pushed(verifier, None)).await;
    assert_eq!(s, 201, "{par}");
    let (s, decided) = t
        .decide_authorization(browser, csrf, CLIENT, &par["request_uri"], true)
        .await;
    assert_eq!(s, 200, "{decided}");
    let redirect = decided["redirect"].as_str().expect("redirect");
    let query = redirect.split_once('?').expect("query").1;
    let [code] = civic_credential::form::fields(query.as_bytes(), ["code"]).expect("query");
    CodeForm {
        code: code.expect("code"),
        verifier: verifier.to_owned(),
    }
}
