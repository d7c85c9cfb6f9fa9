//! The whole resident journey against the real binary on 127.0.0.1: register import, code,
//! passkey enrollment and sign-in, an offer, OID4VCI batch issuance, verification with
//! civic-credential, and revocation seen through the served status list.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

use reqwest::Method;
use serde_json::Value;

use civic_credential::sd_jwt::ClaimPath;
use civic_credential::sd_jwt_vc::{self, KeyBindingRequirement, StaticIssuerKeys, VerifyOptions};
use civic_credential::status_list::{Status, StatusListToken};

use civic_testkit::http::json;
use civic_testkit::issuer_process::{enroll, login, TestIssuer};
use civic_testkit::now;
use civic_testkit::passkey::SoftPasskey;
use civic_testkit::wallet;

const PLATFORM: &str = "https://budget.example";

async fn status_of(
    t: &TestIssuer,
    keys: &StaticIssuerKeys,
    kid: &str,
    uri: &str,
    idx: u64,
) -> Status {
    let resp = t.http.get(uri).send().await.expect("status list");
    assert_eq!(resp.headers()["content-type"], "application/statuslist+jwt");
    let token = resp.text().await.expect("body");
    let key = civic_credential::sd_jwt_vc::IssuerKeys::issuer_key(keys, &t.base, kid)
        .expect("status key");
    let list = StatusListToken::verify(&token, key, uri, now(), 60).expect("status token verifies");
    assert!(list.ttl.is_some_and(|ttl| ttl > 0));
    list.list.get(idx).expect("index in range")
}

#[tokio::test]
async fn resident_enrolls_signs_in_receives_a_batch_and_is_revoked() {
    let mut t = TestIssuer::init(BIN, "");
    t.cli(&[
        "add-platform",
        "--id",
        PLATFORM,
        "--name",
        "Participatory budget",
    ]);
    let code = t.code_via_cli("R-0001");
    assert_eq!(code.len(), 23, "codes print as five groups of five: {code}");
    t.start().await;

    // Enrollment, then a fresh sign-in with the discoverable passkey.
    let (_, mut passkey, _) = enroll(&t, &code).await;
    let (browser, csrf) = login(&t, &mut passkey).await;

    let (status, me) = json(browser.get(t.url("/api/me")).send().await.expect("me")).await;
    assert_eq!(status, 200);
    assert_eq!(me["resident"]["given_name"], "Anna");
    assert_eq!(me["passkeys"].as_array().map(Vec::len), Some(1));
    assert_eq!(me["can_receive_credential"], true);

    // An offer needs the CSRF token.
    let (status, _) = json(
        browser
            .post(t.url("/api/offers"))
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(status, 403);
    let (status, offer) = json(
        browser
            .post(t.url("/api/offers"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(status, 200, "{offer}");
    assert!(offer["qr_svg"].as_str().is_some_and(|s| s.contains("<svg")));
    let url = offer["openid_credential_offer_url"].as_str().expect("url");
    assert!(url.starts_with("openid-credential-offer://?credential_offer_uri="));
    let tx_code = offer["tx_code"]
        .as_str()
        .expect("a transaction code by default");
    assert_eq!(tx_code.len(), 6);

    // The wallet fetches the offer by reference and redeems it for three copies.
    let by_ref: Value = t
        .http
        .get(offer["credential_offer_uri"].as_str().expect("uri"))
        .send()
        .await
        .expect("offer")
        .json()
        .await
        .expect("json");
    assert_eq!(by_ref, offer["credential_offer"]);
    let (credentials, holders) = wallet::redeem(
        &t.http,
        &t.base,
        &by_ref,
        Some(tx_code),
        3,
        civic_testkit::now(),
    )
    .await;
    assert_eq!(credentials.len(), 3);

    // The offer is gone once redeemed, and the code cannot be replayed.
    let resp = t
        .http
        .get(offer["credential_offer_uri"].as_str().expect("uri"))
        .send()
        .await
        .expect("offer");
    assert_eq!(resp.status(), 404);
    let (status, err) = wallet::token(
        &t.http,
        &t.base,
        &wallet::pre_authorized_code(&by_ref),
        Some(tx_code),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    // Every copy verifies with civic-credential, holds its own key, and has its own status index.
    let keys = t.published_keys().await;
    let vct = format!("{}/credentials/residency", t.base);
    let mut indexes = std::collections::HashSet::new();
    let mut checked = Vec::new();
    for (cred, holder) in credentials.iter().zip(&holders) {
        let paths = [
            ClaimPath::keys(["residence", "municipality_code"]),
            ClaimPath::keys(["age_equal_or_over", "16"]),
            ClaimPath::keys(["pseudonyms", PLATFORM]),
        ];
        let presentation = sd_jwt_vc::present(
            cred,
            &paths,
            Some((holder, "https://verifier.example", "n-1", now())),
        )
        .expect("present");
        let opts = VerifyOptions {
            now: now(),
            clock_skew: 60,
            expected_vct: Some(&vct),
            key_binding: Some(KeyBindingRequirement {
                aud: "https://verifier.example",
                nonce: "n-1",
                max_age: 300,
            }),
        };
        let v = sd_jwt_vc::verify(&presentation, &keys, &opts).expect("credential verifies");
        assert_eq!(v.claims["residence"]["municipality_code"], "0363");
        assert_eq!(v.claims["age_equal_or_over"]["16"], true);
        assert!(
            v.claims.get("given_name").is_none(),
            "only the asked claims are disclosed"
        );
        let pseudonym = v.claims["pseudonyms"][PLATFORM]
            .as_str()
            .expect("pseudonym")
            .to_owned();
        assert_eq!(pseudonym.len(), 43);
        assert_eq!(
            v.holder_key.as_ref().map(|k| k.thumbprint()),
            Some(holder.public_jwk().thumbprint())
        );
        let exp = v.exp.expect("exp");
        assert!(exp > now() + 80 * 86_400 && exp <= now() + 90 * 86_400 + 5);
        let status = v.status.expect("status");
        assert!(
            indexes.insert((status.status_list.uri.clone(), status.status_list.idx)),
            "status indexes are unique"
        );
        checked.push((
            v.kid.clone(),
            status.status_list.uri.clone(),
            status.status_list.idx,
            pseudonym,
        ));
    }
    // The pseudonym is stable across copies (one per resident and platform).
    assert!(checked.windows(2).all(|w| w[0].3 == w[1].3));
    for (kid, uri, idx, _) in &checked {
        assert_eq!(status_of(&t, &keys, kid, uri, *idx).await, Status::Valid);
    }

    // The agency revokes; the served list shows it at once, and a status-checking verifier rejects.
    let (status, body) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/revoke", None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["credentials_changed"], 3);
    for (kid, uri, idx, _) in &checked {
        assert_eq!(status_of(&t, &keys, kid, uri, *idx).await, Status::Invalid);
    }
    // …and no new offer can be made for a revoked resident.
    let (status, err) = json(
        browser
            .post(t.url("/api/offers"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (403, Some("credential_request_denied"))
    );

    // The audit log has the journey, with register ids only.
    let (status, log) = t.admin(Method::GET, "/admin/api/audit", None).await;
    assert_eq!(status, 200);
    let actions: Vec<&str> = log["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["event"]["action"].as_str())
        .collect();
    for a in [
        "register_imported",
        "enrollment_code_created",
        "enrolled",
        "signed_in",
        "offer_created",
        "token_issued",
        "issued",
        "revoked",
    ] {
        assert!(actions.contains(&a), "audit has {a}: {actions:?}");
    }
    assert!(
        !log.to_string().contains("Anna"),
        "no personal data in the audit log"
    );
}

#[tokio::test]
async fn passkeys_can_be_added_and_removed_but_not_the_last_one() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0002");
    t.start().await;
    let (browser, _first, csrf) = enroll(&t, &code).await;
    let (status, options) = json(
        browser
            .post(t.url("/api/passkeys/start"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!(status, 200, "{options}");
    assert_eq!(
        options["publicKey"]["excludeCredentials"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let mut second = SoftPasskey::new();
    let resp = second.register(&options, &t.base);
    let (status, body) = json(
        browser
            .post(t.url("/api/passkeys/finish"))
            .header("x-csrf-token", &csrf)
            .json(&resp)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    let (_, me) = json(browser.get(t.url("/api/me")).send().await.expect("me")).await;
    let ids: Vec<String> = me["passkeys"]
        .as_array()
        .expect("passkeys")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(ids.len(), 2);
    // The second passkey signs in.
    login(&t, &mut second).await;
    let del = |id: &str| {
        browser
            .delete(t.url(&format!("/api/passkeys/{id}")))
            .header("x-csrf-token", &csrf)
            .send()
    };
    assert_eq!(del(&ids[0]).await.expect("delete").status(), 200);
    let resp = del(&ids[1]).await.expect("delete");
    assert_eq!(resp.status(), 409, "the last passkey stays");
    assert_eq!(del("nope").await.expect("delete").status(), 404);
}

#[tokio::test]
async fn pages_render_for_phones_with_security_headers() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0003");
    t.start().await;
    for page in ["/enroll", "/login"] {
        let resp = t.http.get(t.url(page)).send().await.expect("page");
        assert_eq!(resp.status(), 200);
        let h = resp.headers().clone();
        assert!(h["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("script-src 'self'"));
        assert_eq!(h["x-frame-options"], "DENY");
        let html = resp.text().await.expect("html");
        assert!(html
            .contains(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#));
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains(r#"role="status""#));
    }
    // /me without a session goes to the sign-in page.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .resolve("localhost", ([127, 0, 0, 1], t.port).into())
        .build()
        .expect("client");
    let resp = no_redirect.get(t.url("/me")).send().await.expect("me");
    assert_eq!(resp.status(), 303);
    assert_eq!(resp.headers()["location"], "/login");
    // Signed in, /me shows the register data and the CSRF token for the script.
    let (browser, _, _) = enroll(&t, &code).await;
    let resp = browser.get(t.url("/me")).send().await.expect("me");
    let cookies = resp.headers().get_all("set-cookie").iter().count();
    assert_eq!(cookies, 0);
    let html = resp.text().await.expect("html");
    assert!(html.contains("Chloe") && html.contains("Prinsengracht 263"));
    assert!(html.contains(r#"<meta name="csrf-token""#));
    assert!(html.contains("Add residency credential to my wallet"));
    for asset in ["/static/app.js", "/static/style.css", "/openapi.json"] {
        assert_eq!(
            t.http
                .get(t.url(asset))
                .send()
                .await
                .expect("asset")
                .status(),
            200,
            "{asset}"
        );
    }
    let openapi: Value = t
        .http
        .get(t.url("/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(openapi["paths"]["/credential"].is_object());
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
        metrics.contains("civic_issuer_enrollments_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains(
        "civic_issuer_http_requests_total{route=\"/api/enroll/finish\",status=\"200\"} 1"
    ));
}

#[tokio::test]
async fn wallet_endpoints_allow_cross_origin_use_and_resident_endpoints_do_not() {
    let mut t = TestIssuer::init(BIN, "");
    t.start().await;
    let preflight = |path: &str| {
        t.http
            .request(Method::OPTIONS, t.url(path))
            .header("origin", "https://wallet.example")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let resp = preflight("/credential").await.expect("preflight");
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let allowed = resp.headers()["access-control-allow-headers"]
        .to_str()
        .expect("headers")
        .to_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("content-type"));
    for path in [
        "/.well-known/openid-credential-issuer",
        "/.well-known/jwt-vc-issuer",
        "/status/0",
    ] {
        let resp = t
            .http
            .get(t.url(path))
            .header("origin", "https://wallet.example")
            .send()
            .await
            .expect("get");
        assert_eq!(
            resp.headers()
                .get("access-control-allow-origin")
                .map(|v| v.as_bytes()),
            Some(&b"*"[..]),
            "{path}"
        );
    }
    let resp = preflight("/api/offers").await.expect("preflight");
    assert!(
        resp.headers().get("access-control-allow-origin").is_none(),
        "no CORS on the resident API"
    );
    let resp = t
        .http
        .get(t.url("/admin/api/audit"))
        .header("origin", "https://wallet.example")
        .send()
        .await
        .expect("get");
    assert!(
        resp.headers().get("access-control-allow-origin").is_none(),
        "no CORS on the admin API"
    );
}
