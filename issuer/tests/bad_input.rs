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

use civic_credential::oid4vci::PRE_AUTHORIZED_GRANT;
use civic_testkit::http::{check_bad_inputs, json, BadInput};
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
    let tx = offer["tx_code"].as_str().map(str::to_owned);
    let base = t.base.clone();
    let http = &t.http;

    // Token endpoint: the request's shape.
    let pre = civic_credential::form::percent_encode(PRE_AUTHORIZED_GRANT);
    check_bad_inputs(
        http,
        &base,
        vec![
            BadInput::new(
                "another grant",
                Method::POST,
                "/token",
                400,
                "unsupported_grant_type",
            )
            .form("grant_type=client_credentials&code=x"),
            BadInput::new(
                "an authorization code grant without a code",
                Method::POST,
                "/token",
                400,
                "invalid_request",
            )
            .form("grant_type=authorization_code&code_verifier=x"),
            BadInput::new("no code", Method::POST, "/token", 400, "invalid_request")
                .form(&format!("grant_type={pre}")),
            BadInput::new("code twice", Method::POST, "/token", 400, "invalid_request").form(
                &format!("grant_type={pre}&pre-authorized_code=a&pre-authorized_code=b"),
            ),
            BadInput::new(
                "JSON, not a form",
                Method::POST,
                "/token",
                400,
                "invalid_request",
            )
            .json(&json!({ "grant_type": "x" })),
            BadInput::new(
                "no grant_type",
                Method::POST,
                "/token",
                400,
                "invalid_request",
            )
            .form("pre-authorized_code=a"),
        ],
    )
    .await;
    let (s, b) = wallet::token(http, &base, "not-a-code", None).await;
    assert_eq!((s, err(&b)), (400, "invalid_grant"));
    let (s, tok) = wallet::token(http, &base, &code, tx.as_deref()).await;
    assert_eq!(s, 200);
    let access = tok["access_token"].as_str().expect("access").to_owned();
    let (s, b) = wallet::token(http, &base, &code, tx.as_deref()).await;
    assert_eq!(
        (s, err(&b)),
        (400, "invalid_grant"),
        "a pre-authorized code works once"
    );

    // Credential endpoint: authentication and request shape.
    let credential_url = format!("{base}/credential");
    let key = wallet::holder_key();
    let n = wallet::nonce(http, &base).await;
    let good = wallet::proof(&key, &base, Some(&n), now());
    let configuration = json!({ "credential_configuration_id": "residency_sd_jwt" });
    check_bad_inputs(
        http,
        &base,
        vec![
            BadInput::new("no token", Method::POST, "/credential", 401, "invalid_token")
                .json(&json!({})),
            BadInput::new("forged token", Method::POST, "/credential", 401, "invalid_token")
                .bearer("forged")
                .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [good] } })),
            BadInput::new("another scheme", Method::POST, "/credential", 401, "invalid_token")
                .header("authorization", format!("Basic {access}"))
                .json(&configuration),
            BadInput::new("unknown configuration", Method::POST, "/credential", 400, "unknown_credential_configuration")
                .headers(wallet::access_headers(&credential_url, &access))
                .json(&json!({ "credential_configuration_id": "other", "proofs": { "jwt": [good] } })),
            BadInput::new("no configuration", Method::POST, "/credential", 400, "invalid_credential_request")
                .headers(wallet::access_headers(&credential_url, &access))
                .json(&json!({ "proofs": { "jwt": [good] } })),
            BadInput::new("single proof", Method::POST, "/credential", 400, "invalid_proof")
                .headers(wallet::access_headers(&credential_url, &access))
                .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proof": { "proof_type": "jwt", "jwt": good } })),
            BadInput::new("no proofs", Method::POST, "/credential", 400, "invalid_proof")
                .headers(wallet::access_headers(&credential_url, &access))
                .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [] } })),
            BadInput::new("encryption", Method::POST, "/credential", 400, "invalid_encryption_parameters")
                .headers(wallet::access_headers(&credential_url, &access))
                .json(&json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": [good] }, "credential_response_encryption": { "enc": "A128GCM" } })),
            BadInput::new("not JSON", Method::POST, "/credential", 400, "invalid_credential_request")
                .headers(wallet::access_headers(&credential_url, &access))
                .header("content-type", "application/json")
                .body("{nope"),
            // Oversized bodies, unknown paths and methods get the JSON error shape too.
            BadInput::new("oversized credential request", Method::POST, "/credential", 413, "request_too_large")
                .headers(wallet::access_headers(&credential_url, &access))
                .header("content-type", "application/json")
                .body("x".repeat(70_000)),
            BadInput::new("oversized passkey answer", Method::POST, "/api/enroll/finish", 413, "request_too_large")
                .header("content-type", "application/json")
                .body("x".repeat(70_000)),
            BadInput::new("wrong method", Method::GET, "/credential", 405, "method_not_allowed"),
            BadInput::new("not a list number", Method::GET, "/status/notanumber", 404, "not_found"),
            BadInput::new("no such endpoint", Method::GET, "/nowhere", 404, "not_found"),
        ],
    )
    .await;
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

    // The failed requests above did not spend the access token: the right proof works, once.
    // Then the token is spent, and so is the nonce.
    let (s, b) = wallet::credential(http, &base, &access, &[good_again(&key, &base, &n)]).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = wallet::credential(
        http,
        &base,
        &access,
        &[good_again(
            &wallet::holder_key(),
            &base,
            &wallet::nonce(http, &base).await,
        )],
    )
    .await;
    assert_eq!(
        (s, err(&b)),
        (401, "invalid_token"),
        "an access token is spent by the request it served: {b}"
    );
    let (status, offer) = t
        .admin(Method::POST, "/admin/api/residents/R-0004/offer", None)
        .await;
    assert_eq!(status, 200, "{offer}");
    let (s, tok) = wallet::token(
        http,
        &base,
        &wallet::pre_authorized_code(&offer["credential_offer"]),
        offer["tx_code"].as_str(),
    )
    .await;
    assert_eq!(s, 200, "{tok}");
    let fresh = tok["access_token"].as_str().expect("access").to_owned();
    let (s, b) = wallet::credential(
        http,
        &base,
        &fresh,
        &[good_again(&wallet::holder_key(), &base, &n)],
    )
    .await;
    assert_eq!((s, err(&b)), (400, "invalid_nonce"), "a c_nonce works once");
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
