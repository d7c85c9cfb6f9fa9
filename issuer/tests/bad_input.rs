//! Bad and hostile input gets the protocol's own 4xx error, never a 500 or a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

use reqwest::Method;
use serde_json::{json, Value};

use civic_credential::encoding::b64_encode;

use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::now;
use civic_testkit::passkey::{SoftPasskey, FLAG_BE, FLAG_BS, FLAG_UP};
use civic_testkit::wallet;

async fn post_code(t: &TestIssuer, code: &str) -> (u16, Value) {
    json(
        t.new_client()
            .post(t.url("/api/enroll/start"))
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("start"),
    )
    .await
}

fn err(v: &Value) -> &str {
    v["error"].as_str().unwrap_or("<no error code>")
}

#[tokio::test]
async fn enrollment_codes_are_single_use_expire_and_lock_after_five_wrong_tries() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0001");
    let victim = t.code_via_cli("R-0002");
    t.start().await;

    // Not a code at all.
    let (status, body) = post_code(&t, "hello").await;
    assert_eq!((status, err(&body)), (400, "invalid_code"));

    // Brute force on one code: right lookup part, wrong secret. Five tries, then locked, even for
    // the right secret.
    let (id, secret) = victim.split_at(6);
    let wrong: String = secret
        .chars()
        .map(|c| {
            if c == '-' {
                c
            } else if c == 'Z' {
                'Y'
            } else {
                'Z'
            }
        })
        .collect();
    for left in (1..5).rev() {
        let (status, body) = post_code(&t, &format!("{id}{wrong}")).await;
        assert_eq!((status, err(&body)), (400, "invalid_code"));
        assert!(
            body["error_description"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("{left} tries left"))),
            "{body}"
        );
    }
    let (status, body) = post_code(&t, &format!("{id}{wrong}")).await;
    assert_eq!((status, err(&body)), (403, "code_locked"));
    let (status, body) = post_code(&t, &victim).await;
    assert_eq!(
        (status, err(&body)),
        (403, "code_locked"),
        "a locked code stays locked"
    );

    // A used code cannot enroll again.
    let browser = t.new_client();
    let (_, options) = json(
        browser
            .post(t.url("/api/enroll/start"))
            .json(&json!({ "code": code.to_lowercase() }))
            .send()
            .await
            .expect("start"),
    )
    .await;
    let mut passkey = SoftPasskey::new();
    let resp = passkey.register(&options, &t.base);
    let (status, _) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = post_code(&t, &code).await;
    assert_eq!((status, err(&body)), (400, "code_used"));
}

#[tokio::test]
async fn expired_codes_and_expired_access_tokens_are_refused() {
    let mut t = TestIssuer::init(BIN, "code_validity_days = 0\naccess_token_ttl_secs = 1");
    let code = t.code_via_cli("R-0001");
    t.start().await;
    let (status, body) = post_code(&t, &code).await;
    assert_eq!((status, err(&body)), (400, "code_expired"));

    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/offer", None)
        .await;
    let (status, tok) = wallet::token(
        &t.http,
        &t.base,
        &wallet::pre_authorized_code(&offer["credential_offer"]),
        None,
    )
    .await;
    assert_eq!(status, 200, "{tok}");
    assert_eq!(tok["expires_in"], 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let key = wallet::holder_key();
    let n = wallet::nonce(&t.http, &t.base).await;
    let access = tok["access_token"].as_str().expect("token");
    let resp = t
        .http
        .post(t.url("/credential"))
        .bearer_auth(access)
        .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [wallet::proof(&key, &t.base, Some(&n), now())] } }))
        .send()
        .await
        .expect("credential");
    assert_eq!(resp.status(), 401);
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .expect("header")
        .contains("invalid_token"));
}

#[tokio::test]
async fn webauthn_responses_from_the_wrong_origin_or_without_verification_are_refused() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0003");
    t.start().await;
    let start = |b: &reqwest::Client| {
        b.post(t.url("/api/enroll/start"))
            .json(&json!({ "code": code }))
            .send()
    };

    // Wrong origin in clientDataJSON.
    let browser = t.new_client();
    let (_, options) = json(start(&browser).await.expect("start")).await;
    let resp = SoftPasskey::new().register(&options, "http://evil.example");
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "webauthn_failed"));
    // The ceremony was consumed: replaying it needs a new start.
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "ceremony_expired"));

    // No user verification.
    let (_, options) = json(start(&browser).await.expect("start")).await;
    let mut lazy = SoftPasskey::new();
    lazy.flags = FLAG_UP | FLAG_BE | FLAG_BS;
    let resp = lazy.register(&options, &t.base);
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "webauthn_failed"));

    // No ceremony cookie at all, and garbage JSON.
    let (status, body) = json(
        t.new_client()
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "ceremony_expired"));
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/finish"))
            .header("content-type", "application/json")
            .body("{\"id\":")
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "invalid_request"));

    // A cross-origin page cannot drive the API.
    let (status, body) = json(
        browser
            .post(t.url("/api/enroll/start"))
            .header("origin", "https://evil.example")
            .json(&json!({ "code": code }))
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!((status, err(&body)), (403, "forbidden"));

    // Enroll properly, then sign in from the wrong origin and with an unknown passkey.
    let (_, options) = json(start(&browser).await.expect("start")).await;
    let mut good = SoftPasskey::new();
    let resp = good.register(&options, &t.base);
    assert_eq!(
        browser
            .post(t.url("/api/enroll/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish")
            .status(),
        200
    );
    let b2 = t.new_client();
    let (_, options) = json(
        b2.post(t.url("/api/login/start"))
            .send()
            .await
            .expect("start"),
    )
    .await;
    let resp = good.authenticate(&options, "http://localhost:1");
    let (status, body) = json(
        b2.post(t.url("/api/login/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "webauthn_failed"));
    let (_, options) = json(
        b2.post(t.url("/api/login/start"))
            .send()
            .await
            .expect("start"),
    )
    .await;
    let mut stranger = SoftPasskey::new();
    let fake_reg = stranger.register(&json!({"publicKey": {"rp": {"id": "localhost"}, "user": {"id": b64_encode(&[7; 16])}, "challenge": "AA", "pubKeyCredParams": [{"type": "public-key", "alg": -7}]}}), &t.base);
    assert!(fake_reg.is_object());
    let resp = stranger.authenticate(&options, &t.base);
    let (status, body) = json(
        b2.post(t.url("/api/login/finish"))
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!((status, err(&body)), (400, "unknown_passkey"));
    // Still no session.
    assert_eq!(
        b2.get(t.url("/api/me")).send().await.expect("me").status(),
        401
    );
}

#[tokio::test]
async fn token_and_credential_endpoints_use_oid4vci_error_codes() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    let (status, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0004/offer", None)
        .await;
    assert_eq!(status, 200, "{offer}");
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let base = t.base.clone();
    let http = &t.http;

    // Token endpoint.
    let (s, b) = json(
        http.post(t.url("/token"))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .expect("t"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "unsupported_grant_type"));
    let (s, b) = json(
        http.post(t.url("/token"))
            .form(&[(
                "grant_type",
                civic_credential::oid4vci::PRE_AUTHORIZED_GRANT,
            )])
            .send()
            .await
            .expect("t"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_request"));
    let (s, b) = json(
        http.post(t.url("/token"))
            .json(&json!({"grant_type": "x"}))
            .send()
            .await
            .expect("t"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_request"));
    let (s, b) = wallet::token(http, &base, "not-a-code", None).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"));
    let (s, tok) = wallet::token(http, &base, &code, None).await;
    assert_eq!(s, 200);
    let access = tok["access_token"].as_str().expect("access").to_owned();
    let (s, b) = wallet::token(http, &base, &code, None).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_grant"),
        "a pre-authorized code works once"
    );

    // Credential endpoint: authentication and request shape.
    let key = wallet::holder_key();
    let n = wallet::nonce(http, &base).await;
    let good = wallet::proof(&key, &base, Some(&n), now());
    let (s, b) = json(
        http.post(t.url("/credential"))
            .json(&json!({}))
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (401, "invalid_token"));
    let (s, b) = wallet::credential(http, &base, "forged", std::slice::from_ref(&good)).await;
    assert_eq!((s, err(&b)), (401, "invalid_token"));
    let send = |body: Value| {
        http.post(format!("{base}/credential"))
            .bearer_auth(&access)
            .json(&body)
            .send()
    };
    let (s, b) = json(
        send(json!({"credential_configuration_id": "other", "proofs": {"jwt": [good]}}))
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "unknown_credential_configuration"));
    let (s, b) = json(send(json!({"credential_configuration_id": "residency_sd_jwt", "proof": {"proof_type": "jwt", "jwt": good}})).await.expect("c")).await;
    assert_eq!((s, err(&b)), (400, "invalid_proof"));
    let (s, b) = json(
        send(json!({"credential_configuration_id": "residency_sd_jwt", "proofs": {"jwt": []}}))
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_proof"));
    let (s, b) = json(
        http.post(t.url("/credential"))
            .bearer_auth(&access)
            .header("content-type", "application/json")
            .body("{nope")
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_credential_request"));
    let many: Vec<String> = (0..11)
        .map(|_| wallet::proof(&wallet::holder_key(), &base, Some(&n), now()))
        .collect();
    let (s, b) = wallet::credential(http, &base, &access, &many).await;
    assert_eq!((s, err(&b)), (400, "invalid_credential_request"));

    // Proofs: each broken one is invalid_proof or invalid_nonce, and none consumes the nonce.
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "wrong aud",
            wallet::proof(&key, "https://other.example", Some(&n), now()),
            "invalid_proof",
        ),
        (
            "old iat",
            wallet::proof(&key, &base, Some(&n), now() - 3600),
            "invalid_proof",
        ),
        (
            "future iat",
            wallet::proof(&key, &base, Some(&n), now() + 3600),
            "invalid_proof",
        ),
        (
            "no nonce",
            wallet::proof(&key, &base, None, now()),
            "invalid_nonce",
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64_encode(br#"{"alg":"none","typ":"openid4vci-proof+jwt"}"#),
                b64_encode(
                    format!(r#"{{"aud":"{base}","iat":{},"nonce":"{n}"}}"#, now()).as_bytes()
                )
            ),
            "invalid_proof",
        ),
        (
            "tampered",
            {
                let p = wallet::proof(&key, &base, Some(&n), now());
                let mut parts: Vec<&str> = p.split('.').collect();
                let forged = b64_encode(
                    format!(r#"{{"aud":"{base}","iat":{},"nonce":"other"}}"#, now()).as_bytes(),
                );
                parts[1] = &forged;
                parts.join(".")
            },
            "invalid_proof",
        ),
        ("garbage", "a.b.c".into(), "invalid_proof"),
    ];
    for (what, proof, code) in cases {
        let (s, b) = wallet::credential(http, &base, &access, &[proof]).await;
        assert_eq!((s, err(&b)), (400, code), "{what}: {b}");
    }
    let (s, b) = wallet::credential(
        http,
        &base,
        &access,
        &[good_again(&key, &base, &n), good_again(&key, &base, &n)],
    )
    .await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_proof"),
        "one key per copy: {b}"
    );
    let (s, b) = wallet::credential(
        http,
        &base,
        &access,
        &[wallet::proof(&key, &base, Some("unknown"), now())],
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_nonce"));

    // The right proof works once; the nonce is then used up.
    let (s, b) = wallet::credential(http, &base, &access, &[good_again(&key, &base, &n)]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = wallet::credential(
        http,
        &base,
        &access,
        &[good_again(&wallet::holder_key(), &base, &n)],
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_nonce"), "a c_nonce works once");

    // Oversized bodies get a JSON 413.
    let big = "x".repeat(70_000);
    let (s, b) = json(
        http.post(t.url("/credential"))
            .bearer_auth(&access)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (413, "request_too_large"));
    let (s, b) = json(
        http.post(t.url("/api/enroll/finish"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (413, "request_too_large"));
    // Unknown paths and methods get JSON too.
    let (s, b) = json(http.get(t.url("/credential")).send().await.expect("c")).await;
    assert_eq!((s, err(&b)), (405, "method_not_allowed"));
    let (s, b) = json(
        http.get(t.url("/status/notanumber"))
            .send()
            .await
            .expect("c"),
    )
    .await;
    assert_eq!((s, err(&b)), (404, "not_found"));
}

fn good_again(key: &civic_credential::crypto::SigningKey, base: &str, n: &str) -> String {
    wallet::proof(key, base, Some(n), now())
}

#[tokio::test]
async fn tx_codes_admin_tokens_and_rate_limits() {
    let mut t = TestIssuer::init(BIN, "tx_code = true\nrate_limit_per_minute = 5");
    t.start().await;
    // Admin API needs a valid token.
    let resp = t
        .http
        .get(t.url("/admin/api/residents?q=R"))
        .send()
        .await
        .expect("a");
    assert_eq!(resp.status(), 401);
    let resp = t
        .http
        .get(t.url("/admin/api/residents?q=R"))
        .bearer_auth("civic_admin_wrong")
        .send()
        .await
        .expect("a");
    assert_eq!(resp.status(), 401);
    let (s, b) = t
        .admin(Method::GET, "/admin/api/residents?q=R-000", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["residents"].as_array().map(Vec::len), Some(5));
    let (s, _) = t
        .admin(Method::POST, "/admin/api/residents/R-9999/offer", None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/explode", None)
        .await;
    assert_eq!(s, 404);

    // With tx_code configured, the token endpoint wants it; three wrong tries void the offer.
    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/offer", None)
        .await;
    let tx = offer["tx_code"].as_str().expect("tx_code").to_owned();
    assert_eq!(tx.len(), 6);
    assert_eq!(
        offer["credential_offer"]["grants"][civic_credential::oid4vci::PRE_AUTHORIZED_GRANT]
            ["tx_code"]["length"],
        6
    );
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let (s, b) = wallet::token(&t.http, &t.base, &code, None).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"));
    let (s, b) = wallet::token(&t.http, &t.base, &code, Some(&tx)).await;
    assert_eq!(
        s, 200,
        "the right tx_code still works after one wrong try: {b}"
    );
    let (_, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/offer", None)
        .await;
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let tx = offer["tx_code"].as_str().expect("tx_code").to_owned();
    for _ in 0..3 {
        let (s, _) = wallet::token(&t.http, &t.base, &code, Some("000000x")).await;
        assert_eq!(s, 400);
    }
    let (s, b) = wallet::token(&t.http, &t.base, &code, Some(&tx)).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_grant"),
        "voided after three wrong tx_codes"
    );

    // Sign-in attempts are rate limited per IP.
    let mut statuses = Vec::new();
    for _ in 0..7 {
        statuses.push(
            t.http
                .post(t.url("/api/login/start"))
                .send()
                .await
                .expect("login")
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429]);
}
