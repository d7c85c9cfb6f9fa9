//! Every example's pages in Dutch when the browser asks for Dutch, in English otherwise, over
//! real HTTP on 127.0.0.1, and no message missing from the catalogue on the way.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_examples::messages::MESSAGES;
use civic_examples::{e_deliberation, micro_consultation, participatory_budget, petitions};

use civic_testkit::credentials::{aged, resident, TestIssuer as Issuer};
use civic_testkit::examples::*;
use civic_testkit::now;
use civic_testkit::wallet::present;

/// An example's router builder.
type Build = fn(civic_verifier::VerifierConfig) -> anyhow::Result<axum::Router>;

/// A browser that asks for Dutch first (as a Dutch phone does).
fn dutch_browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "accept-language",
        "nl-NL,nl;q=0.9,en;q=0.8".parse().unwrap(),
    );
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .default_headers(headers)
        .build()
        .unwrap()
}

fn assert_dutch(page: &Page, words: &[&str]) {
    assert!(page.body.contains("<html lang=\"nl\">"), "{}", page.body);
    assert_eq!(page.headers["content-language"], "nl");
    assert!(page.headers["vary"]
        .to_str()
        .unwrap()
        .contains("accept-language"));
    assert!(
        !page.body.contains('⟦'),
        "a message is missing: {}",
        page.body
    );
    for w in words {
        assert!(page.body.contains(w), "no {w:?} in {}", page.body);
    }
}

fn settings() -> petitions::Settings {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("petitions/petitions.toml");
    toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_example_speaks_dutch_to_a_dutch_browser() {
    let issuer = Issuer::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let apps: [(&str, Build, &str, &str); 4] = [
        (
            "participatory_budget",
            participatory_budget::app,
            "/ballot/start",
            "Burgerbegroting 2027",
        ),
        (
            "micro_consultation",
            micro_consultation::app,
            "/answer/start",
            "Wijkraadpleging",
        ),
        (
            "e_deliberation",
            e_deliberation::app,
            "/verify/start",
            "E-inspraak",
        ),
        (
            "petitions",
            |c| petitions::app(c, settings()),
            "/check/start",
            "Voorstellen voor Teststad",
        ),
    ];
    let ada = resident("Ada", aged(30, now()), "0363", Some("3"));
    for (example, app, start, title) in apps {
        let running = run(dir, example, app, &issuer).await;
        let base = &running.base;
        let browser = dutch_browser();
        let home = get(&browser, &format!("{base}/")).await;
        assert_eq!(home.status, 200);
        assert_dutch(&home, &[title, "nooit je naam"]);
        // The same page in English for a browser that asks for nothing or another language.
        let english = get(&civic_testkit::examples::browser(), &format!("{base}/")).await;
        assert!(english.body.contains("<html lang=\"en\">"));
        assert_eq!(english.headers["content-language"], "en");

        // A check in Dutch: the prompt, what is asked, the status message, the result page.
        let check = start_check(&browser, base, start).await;
        assert_dutch(
            &check.page,
            &[
                "Laat je inwonersbewijs zien",
                "Open mijn wallet op dit apparaat",
                "je gemeente",
            ],
        );
        let credential = issuer.issue(&ada, "R-9001", now());
        assert_eq!(present(&check.link, &credential).await, 200);
        let status = wait(&browser, &check.poll).await;
        assert_eq!(
            status["message"], "Gecontroleerd: je mag meedoen.",
            "{example}: {status}"
        );
        let next = get(&browser, &check.next).await;
        assert_eq!(next.status, 200, "{}", next.body);
        assert_dutch(&next, &["Gecontroleerd: je mag meedoen."]);

        // A failure page in Dutch.
        let stranger = dutch_browser();
        let refused = get(&stranger, &check.next).await;
        assert_eq!(refused.status, 403);
        assert_dutch(
            &refused,
            &["Niet mogelijk", "in een andere browser begonnen"],
        );
    }
    assert_eq!(MESSAGES.misses(), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_petition_is_signed_in_dutch() {
    let issuer = Issuer::new();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let running = run(dir, "petitions", |c| petitions::app(c, settings()), &issuer).await;
    let base = &running.base;
    let browser = dutch_browser();
    let check = start_check(&browser, base, "/check/start").await;
    let bo = resident("Bo", aged(40, now()), "0363", None);
    assert_eq!(
        present(&check.link, &issuer.issue(&bo, "R-9101", now())).await,
        200
    );
    wait(&browser, &check.poll).await;
    let title = "Meer bankjes langs de gracht";
    let text = "Elke tweehonderd meter een bankje langs de gracht.";
    let done = post(
        &browser,
        &format!("{}/propose", check.next),
        &[("title", title), ("text", text)],
    )
    .await;
    assert_dutch(&done, &["is gepubliceerd"]);
    let page = get(&browser, &check.next).await;
    assert_dutch(
        &page,
        &[
            "Doe een voorstel",
            "aria-label=\"Onderteken: Meer bankjes langs de gracht\"",
        ],
    );
    let at = page.body.find("id=\"proposal-").unwrap() + 13;
    let id = &page.body[at..at + page.body[at..].find('"').unwrap()];
    let signed = post(
        &browser,
        &format!("{}/sign", check.next),
        &[("proposal", id)],
    )
    .await;
    assert_dutch(&signed, &["Je handtekening is geteld: 1 van 3."]);
    let again = post(
        &browser,
        &format!("{}/sign", check.next),
        &[("proposal", id)],
    )
    .await;
    assert_eq!(again.status, 409);
    assert_dutch(&again, &["Je hebt dit voorstel al ondertekend"]);
    let bad = post(
        &browser,
        &format!("{}/propose", check.next),
        &[("title", "x"), ("text", text)],
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_dutch(&bad, &["Een titel is één regel van 5 tot 120 tekens."]);
    let moderation = get(&browser, &format!("{base}/moderate")).await;
    assert_dutch(&moderation, &["Moderatortoken", "Inloggen"]);
    assert_eq!(MESSAGES.misses(), Vec::<String>::new());
}
