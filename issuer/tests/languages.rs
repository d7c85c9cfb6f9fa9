//! The resident pages in Dutch when the browser asks for Dutch (and English otherwise), from the
//! real `civic-issuer` binary on 127.0.0.1: the enrollment, sign-in, account and authorization
//! pages, the script's sentences, and no message missing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_testkit::issuer_process::{enroll, TestIssuer};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

async fn page(
    t: &TestIssuer,
    browser: &reqwest::Client,
    path: &str,
    lang: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut req = browser.get(t.url(path));
    if let Some(l) = lang {
        req = req.header("accept-language", l);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.unwrap())
}

fn assert_dutch(headers: &reqwest::header::HeaderMap, html: &str, words: &[&str]) {
    assert!(html.contains(r#"<html lang="nl">"#), "{html}");
    assert_eq!(headers["content-language"], "nl");
    assert!(headers["vary"]
        .to_str()
        .unwrap()
        .contains("accept-language"));
    assert!(!html.contains('⟦'), "a message is missing: {html}");
    for w in words {
        assert!(html.contains(w), "no {w:?} in {html}");
    }
}

#[tokio::test]
async fn the_resident_pages_speak_dutch_to_a_dutch_browser() {
    let mut t = TestIssuer::init(BIN, "");
    let code = t.code_via_cli("R-0003");
    t.start().await;
    let nl = Some("nl-NL,nl;q=0.9,en;q=0.5");

    let (status, h, html) = page(&t, &t.http, "/enroll", nl).await;
    assert_eq!(status, 200);
    assert_dutch(
        &h,
        &html,
        &["Stel je passkey in", "Activeringscode", "Passkey maken"],
    );
    // The script's sentences travel with the page, in Dutch.
    assert!(
        html.contains("Volg de aanwijzingen op je apparaat"),
        "{html}"
    );
    assert!(html.contains("De code klopt niet."), "{html}");
    let (_, h, html) = page(&t, &t.http, "/login", nl).await;
    assert_dutch(
        &h,
        &html,
        &["Inloggen met een passkey", "Nog geen passkey?"],
    );
    let (status, h, html) = page(&t, &t.http, "/authorize?client_id=x&request_uri=y", nl).await;
    assert!((400..500).contains(&status), "{status}");
    assert_dutch(
        &h,
        &html,
        &["Verzoek verlopen", "Begin opnieuw vanuit je wallet."],
    );

    // English for a browser that asks for English, or for a language the issuer does not have.
    for lang in [None, Some("en-GB"), Some("de-DE,fr;q=0.8")] {
        let (_, h, html) = page(&t, &t.http, "/enroll", lang).await;
        assert!(html.contains(r#"<html lang="en">"#), "{lang:?}");
        assert_eq!(h["content-language"], "en");
        assert!(html.contains("Set up your passkey"));
    }

    // Signed in: the account page, with the register's field names in Dutch.
    let (browser, _, _) = enroll(&t, &code).await;
    let (status, h, html) = page(&t, &browser, "/me", nl).await;
    assert_eq!(status, 200, "{html}");
    assert_dutch(
        &h,
        &html,
        &[
            "Je inschrijving",
            "Wat we over je bewaren",
            "Voornaam",
            "Geboortedatum",
            "Woonplaats",
            "Inwonersbewijs aan mijn wallet toevoegen",
            "Uitloggen",
        ],
    );
}
