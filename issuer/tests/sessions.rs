//! Residents' sessions and passkeys against a stolen device and a careless log: a resident who
//! left the register no longer signs in, removing a passkey ends the resident's other sessions,
//! a passkey is checked to belong to the signed-in resident before anything is stored, and the
//! application log names no resident.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use reqwest::Method;
use serde_json::Value;

use civic_testkit::http::{client_with_jar, json};
use civic_testkit::issuer_process::{enroll, enroll_in, login, TestIssuer};
use civic_testkit::passkey::SoftPasskey;

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

/// Starts adding a passkey in `browser` (signed in, with `csrf`); returns the creation options.
async fn add_start(t: &TestIssuer, browser: &reqwest::Client, csrf: &str) -> Value {
    let (status, options) = json(
        browser
            .post(t.url("/api/passkeys/start"))
            .header("x-csrf-token", csrf)
            .send()
            .await
            .expect("start"),
    )
    .await;
    assert_eq!(status, 200, "{options}");
    options
}

async fn passkeys(t: &TestIssuer, resident: &str) -> usize {
    let (_, v) = t
        .admin(
            Method::GET,
            &format!("/admin/api/residents/{resident}"),
            None,
        )
        .await;
    v["passkeys"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn a_resident_who_left_the_register_no_longer_signs_in() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0005");
    t.start().await;
    let (_, mut passkey, _) = enroll(&t, &code).await;
    login(&t, &mut passkey).await;
    t.kill();
    let file = t.tmp.path().join("without-r5.csv");
    let register: String = civic_testkit::register::SMALL_REGISTER
        .lines()
        .filter(|l| !l.starts_with("R-0005"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, register).expect("write");
    t.cli(&["import-register", file.to_str().expect("path"), "--force"]);
    t.start().await;
    let browser = t.new_client();
    let (_, options) = json(
        browser
            .post(t.url("/api/login/start"))
            .send()
            .await
            .expect("start"),
    )
    .await;
    let response = passkey.authenticate(&options, &t.base);
    let (status, body) = json(
        browser
            .post(t.url("/api/login/finish"))
            .json(&response)
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("forbidden")),
        "{body}"
    );
}

#[tokio::test]
async fn removing_a_passkey_ends_the_other_sessions() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0002");
    t.start().await;
    let (browser, _first, csrf) = enroll(&t, &code).await;
    let options = add_start(&t, &browser, &csrf).await;
    let mut lost = SoftPasskey::new();
    let (status, body) = json(
        browser
            .post(t.url("/api/passkeys/finish"))
            .header("x-csrf-token", &csrf)
            .json(&lost.register(&options, &t.base))
            .send()
            .await
            .expect("finish"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
    // The phone that holds the second passkey signs in, then gets lost.
    let (phone, _) = login(&t, &mut lost).await;
    assert_eq!(
        phone
            .get(t.url("/api/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
    let (_, me) = json(browser.get(t.url("/api/me")).send().await.expect("me")).await;
    let lost_id = me["passkeys"][1]["id"].as_str().expect("id").to_owned();
    let resp = browser
        .delete(t.url(&format!("/api/passkeys/{lost_id}")))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        phone
            .get(t.url("/api/me"))
            .send()
            .await
            .expect("me")
            .status(),
        401,
        "the lost phone's session ended"
    );
    assert_eq!(
        browser
            .get(t.url("/api/me"))
            .send()
            .await
            .expect("me")
            .status(),
        200
    );
}

#[tokio::test]
async fn a_passkey_ceremony_of_another_resident_stores_nothing() {
    let mut t = TestIssuer::init(BIN, "");
    let (anna, bram) = (t.code_via_cli("R-0001"), t.code_via_cli("R-0002"));
    t.start().await;
    let (anna_browser, _, anna_csrf) = enroll(&t, &anna).await;
    let (bram_browser, bram_jar) = client_with_jar(t.port);
    let (_, bram_csrf) = enroll_in(&t, &bram_browser, &bram).await;
    // Anna starts adding a passkey; Bram's browser finishes it with Anna's ceremony cookie.
    let options = add_start(&t, &anna_browser, &anna_csrf).await;
    let ceremony = anna_browser
        .post(t.url("/api/passkeys/start"))
        .header("x-csrf-token", &anna_csrf)
        .send()
        .await
        .expect("start")
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("civic_ceremony="))
        .and_then(|c| c.split(';').next())
        .expect("ceremony cookie")
        .to_owned();
    let mut intruder = SoftPasskey::new();
    bram_jar.add_cookie_str(
        &format!("civic_ceremony={ceremony}; Path=/"),
        &t.base.parse().expect("url"),
    );
    let resp = bram_browser
        .post(t.url("/api/passkeys/finish"))
        .header("x-csrf-token", &bram_csrf)
        .json(&intruder.register(&options, &t.base))
        .send()
        .await
        .expect("finish");
    assert_eq!(resp.status(), 403);
    assert_eq!(passkeys(&t, "R-0001").await, 1, "nothing was added to Anna");
}

#[tokio::test]
async fn the_application_log_names_no_resident() {
    let mut t = TestIssuer::init(BIN, "");
    let log = t.tmp.path().join("server.log");
    t.stderr_log = Some(log.clone());
    t.log_filter = "info".into();
    let code = t.code_via_cli("R-0004");
    t.start().await;
    let (browser, mut passkey, csrf) = enroll(&t, &code).await;
    login(&t, &mut passkey).await;
    let (status, _) = json(
        browser
            .post(t.url("/api/offers"))
            .header("x-csrf-token", &csrf)
            .send()
            .await
            .expect("offer"),
    )
    .await;
    assert_eq!(status, 200);
    t.admin(Method::POST, "/admin/api/residents/R-0004/suspend", None)
        .await;
    t.kill();
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("audit"), "the log has the actions: {text}");
    assert!(!text.contains("R-0004"), "a register id in the log: {text}");
}
