//! The issuer's own wallet provider (HAIP 1.0 §4.4.1) against the real binary: a resident signed
//! in with the passkey confirms a registered wallet, which comes back with a Client Attestation
//! of its key; with `client_attestation = "required"` that attestation opens PAR. Bad requests
//! are refused before the resident is asked, and the attestation names neither the resident nor
//! the device.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use serde_json::{json, Map, Value};

use civic_credential::crypto::{Algorithm, SigningKey, WithoutKid};
use civic_credential::jws::{self, Jws};
use civic_credential::oid4vci::attestation::{ATTESTATION_HEADER, ATTESTATION_TYP, POP_HEADER};
use civic_credential::oid4vci::authorization::{pkce_challenge, PushedAuthorizationRequest};
use civic_testkit::http::json;
use civic_testkit::issuer_process::{enroll, TestIssuer};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const CLIENT: &str = "https://wallet.example";
const REDIRECT: &str = "https://wallet.example/callback";

/// An issuer that runs its own wallet provider (made by `dev-ca --wallet-provider`), trusts it,
/// and requires attestations; R-0001 enrolled in the returned client.
async fn issuer() -> (TestIssuer, reqwest::Client, String) {
    let mut t = TestIssuer::init(BIN, "");
    t.add_wallet_client(CLIENT, "Test wallet", REDIRECT);
    let config = t.data.join("config.toml");
    let out = t.cli(&["dev-ca", "--wallet-provider"]);
    assert!(out.contains("wallet-provider-key.pem"), "{out}");
    let text = std::fs::read_to_string(&config).expect("config");
    assert!(
        text.contains("wallet_provider_anchors = [\"wallet-provider-ca.pem\"]"),
        "{text}"
    );
    let text = text.replace(
        "client_attestation = \"optional\"",
        "client_attestation = \"required\"",
    );
    assert!(text.contains("client_attestation = \"required\""));
    std::fs::write(&config, text).expect("config");
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let (browser, _, csrf) = enroll(&t, &code).await;
    (t, browser, csrf)
}

fn wallet_key() -> SigningKey {
    SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key")
}

fn public_jwk(key: &SigningKey) -> String {
    serde_json::to_string(&key.public_jwk()).expect("jwk")
}

/// The query (or body) of a request for an attestation of `jwk`.
fn asked(jwk: &str, redirect: &str) -> Value {
    json!({ "client_id": CLIENT, "redirect_uri": redirect, "state": "st-1", "jwk": jwk })
}

async fn page(t: &TestIssuer, client: &reqwest::Client, query: &Value) -> (u16, String) {
    let pairs: Vec<(String, String)> = query
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    let resp = client
        .get(t.url("/wallet-provider"))
        .query(&pairs)
        .send()
        .await
        .expect("page");
    (resp.status().as_u16(), resp.text().await.expect("text"))
}

async fn decide(
    t: &TestIssuer,
    browser: &reqwest::Client,
    csrf: &str,
    body: &Value,
    approve: bool,
) -> (u16, Value) {
    let mut body = body.clone();
    body["approve"] = json!(approve);
    json(
        browser
            .post(t.url("/api/wallet-attestation"))
            .header("x-csrf-token", csrf)
            .json(&body)
            .send()
            .await
            .expect("decide"),
    )
    .await
}

/// The query of a redirect, as pairs.
fn redirect_query(redirect: &str) -> Vec<(String, String)> {
    let url = url::Url::parse(redirect).expect("redirect");
    url.query_pairs().into_owned().collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A fresh PoP of `key` for `aud`.
fn pop(key: &SigningKey, aud: &str) -> String {
    let now = civic_testkit::now();
    let jti = civic_credential::encoding::b64_encode(&rand::random::<[u8; 16]>());
    let claims: Map<String, Value> =
        json!({ "iss": CLIENT, "aud": aud, "jti": jti, "iat": now, "exp": now + 60 })
            .as_object()
            .cloned()
            .expect("object");
    jws::sign(
        "oauth-client-attestation-pop+jwt",
        Map::new(),
        &claims,
        &WithoutKid(key),
    )
    .expect("pop")
}

#[tokio::test]
async fn a_signed_in_resident_gets_an_attestation_for_the_wallets_key_and_par_takes_it() {
    let (t, browser, csrf) = issuer().await;
    let meta: Value = t
        .http
        .get(t.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(
        meta["civic_wallet_provider_endpoint"],
        json!(t.url("/wallet-provider"))
    );
    let key = wallet_key();
    let jwk = public_jwk(&key);
    let good = asked(&jwk, REDIRECT);

    // Signed out: the sign-in, for the named wallet.
    let (s, html) = page(&t, &t.http, &good).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("data-return-here") && html.contains("Test wallet"));
    // Signed in: what is confirmed, and that it names neither the resident nor the device.
    let (s, html) = page(&t, &browser, &good).await;
    assert_eq!(s, 200, "{html}");
    assert!(html.contains("data-attest=\"approve\"") && html.contains("wallet.example"));
    assert!(html.contains("does not name you or your device"), "{html}");

    // Bad requests are refused before anyone is asked, on the page and at the API.
    let mut private = serde_json::to_value(key.public_jwk()).expect("jwk");
    private["d"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let cases = [
        (
            "an unregistered redirect URI",
            asked(&jwk, "https://evil.example/cb"),
        ),
        ("an unknown wallet", {
            let mut v = good.clone();
            v["client_id"] = json!("https://other.example");
            v
        }),
        (
            "a private key",
            asked(&serde_json::to_string(&private).expect("jwk"), REDIRECT),
        ),
        (
            "not a key",
            asked("{\"kty\":\"oct\",\"k\":\"AAAA\"}", REDIRECT),
        ),
        ("no state", {
            let mut v = good.clone();
            v["state"] = json!("");
            v
        }),
    ];
    for (what, query) in &cases {
        let (s, html) = page(&t, &browser, query).await;
        assert!((400..500).contains(&s), "{what}: page {s}");
        assert!(
            !html.contains("data-attest"),
            "{what}: the resident is asked"
        );
        let (s, b) = decide(&t, &browser, &csrf, query, true).await;
        assert!((400..500).contains(&s), "{what}: api {s} {b}");
        assert!(b["redirect"].is_null(), "{what}: {b}");
    }
    // Only a signed-in resident, from the issuer's own page (CSRF token).
    let (s, _) = decide(&t, &t.http, &csrf, &good, true).await;
    assert_eq!(s, 401);
    let (s, _) = decide(&t, &browser, "wrong", &good, true).await;
    assert_eq!(s, 403);

    // Cancel: access_denied, to the wallet, with its state.
    let (s, denied) = decide(&t, &browser, &csrf, &good, false).await;
    assert_eq!(s, 200, "{denied}");
    let q = redirect_query(denied["redirect"].as_str().expect("redirect"));
    assert_eq!(param(&q, "error"), Some("access_denied"));
    assert_eq!(param(&q, "state"), Some("st-1"));
    assert_eq!(param(&q, "client_attestation"), None);

    // Confirm: the attestation of this key, for this wallet, and nothing about the resident.
    let (s, approved) = decide(&t, &browser, &csrf, &good, true).await;
    assert_eq!(s, 200, "{approved}");
    let redirect = approved["redirect"].as_str().expect("redirect");
    assert!(redirect.starts_with(&format!("{REDIRECT}?")), "{redirect}");
    let q = redirect_query(redirect);
    assert_eq!(param(&q, "state"), Some("st-1"));
    assert_eq!(param(&q, "iss"), Some(t.base.as_str()));
    let attestation = param(&q, "client_attestation")
        .expect("attestation")
        .to_owned();
    let parsed = Jws::parse(&attestation).expect("jws");
    parsed.require_typ(ATTESTATION_TYP).expect("typ");
    assert!(parsed.header["x5c"].is_array(), "{:?}", parsed.header);
    let claims = &parsed.payload;
    let mut names: Vec<&str> = claims.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["cnf", "exp", "iat", "iss", "sub", "wallet_name"]);
    assert_eq!(claims["sub"], CLIENT);
    assert_eq!(claims["iss"], json!(t.base));
    assert_eq!(claims["cnf"]["jwk"], json!(key.public_jwk()));
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 30 * 86_400);
    assert!(!attestation.contains("R-0001"));

    // The issuer, requiring attestations, takes it at PAR with a PoP of the key.
    let verifier = civic_credential::encoding::b64_encode(&rand::random::<[u8; 32]>());
    let body = PushedAuthorizationRequest {
        client_id: CLIENT.into(),
        redirect_uri: REDIRECT.into(),
        scope: vec!["residency".into()],
        state: Some("s".into()),
        code_challenge: pkce_challenge(&verifier),
        issuer_state: None,
        dpop_jkt: None,
    }
    .to_form();
    let par = |headers: Vec<(&'static str, String)>| {
        let mut req = t
            .http
            .post(t.url("/par"))
            .header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            req = req.header(name, value);
        }
        req.body(body.clone()).send()
    };
    let (s, b) = json(par(vec![]).await.expect("par")).await;
    assert_eq!(
        (s, b["error"].as_str()),
        (400, Some("invalid_client")),
        "{b}"
    );
    let (s, b) = json(
        par(vec![
            (ATTESTATION_HEADER, attestation.clone()),
            (POP_HEADER, pop(&wallet_key(), &t.base)),
        ])
        .await
        .expect("par"),
    )
    .await;
    assert_eq!(s, 400, "a PoP of another key: {b}");
    let (s, b) = json(
        par(vec![
            (ATTESTATION_HEADER, attestation.clone()),
            (POP_HEADER, pop(&key, &t.base)),
        ])
        .await
        .expect("par"),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    assert!(b["request_uri"].is_string());

    let metrics = t
        .http
        .get(t.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("civic_issuer_wallet_attestations_total 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_issuer_without_a_wallet_provider_says_so() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    let meta: Value = t
        .http
        .get(t.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert!(
        meta.get("civic_wallet_provider_endpoint").is_none(),
        "{meta}"
    );
    let (s, html) = page(&t, &t.http, &asked(&public_jwk(&wallet_key()), REDIRECT)).await;
    assert_eq!(s, 404, "{html}");
}
