//! The participatory budget over real HTTP on 127.0.0.1, with a real sled ballot box in a
//! temporary directory: the app's own pages driven by a browser with cookies, and a wallet
//! answering the verifier endpoints the app merged in.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_examples::participatory_budget;

use civic_testkit::credentials::{aged, almost, pseudonym, resident, TestIssuer as Issuer};
use civic_testkit::examples::*;
use civic_testkit::now;
use civic_testkit::wallet::present;

const EXAMPLE: &str = "participatory_budget";

/// How many votes the results table shows for `title`.
fn votes(page: &str, title: &str) -> u64 {
    let row = page
        .find(&format!("<th scope=\"row\">{title}</th>"))
        .expect("project row");
    let cell = &page[row..];
    let start = cell.find("<td class=\"count\">").expect("count") + "<td class=\"count\">".len();
    let end = cell[start..].find('<').expect("end");
    cell[start..start + end].parse().expect("number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_votes_once_and_no_page_shows_personal_data() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        participatory_budget::app,
        &issuer,
    )
    .await;
    let base = &app.base;
    let anna = resident("Annelies", aged(34, now()), "0363", Some("1"));
    let copy1 = issuer.issue(&anna, "R-1001", now());
    let copy2 = issuer.issue(&anna, "R-1001", now());
    let mut pages = Vec::new();

    let browser = browser();
    let home = get(&browser, &format!("{base}/")).await;
    assert_eq!(home.status, 200);
    assert_page_basics(&home);
    for id in participatory_budget::PROJECTS {
        let title = participatory_budget::project_title(id);
        assert!(home.body.contains(&title), "{title}");
    }
    let js = get(&browser, &format!("{base}/static/app.js")).await;
    assert_eq!(js.status, 200);
    assert!(js.headers["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/javascript"));

    // Start: the prompt shows the QR code, the same-device link and what is asked for.
    let check = start_check(&browser, base, "/ballot/start").await;
    assert_page_basics(&check.page);
    assert!(
        check.link.starts_with("openid4vp://?client_id="),
        "{}",
        check.link
    );
    assert!(check.page.body.contains("whether you are 16 or older"));
    assert!(check.page.body.contains("aria-live=\"polite\""));
    assert_eq!(wait_once(&browser, &check.poll).await, "pending");

    // The wallet answers; the browser's poll sees the result, never the pseudonym.
    assert_eq!(present(&check.link, &copy1).await, 200);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "eligible", "{status}");
    assert_eq!(
        present(&check.link, &copy1).await,
        400,
        "once answered, the request is closed"
    );

    let ballot = get(&browser, &check.next).await;
    assert_eq!(ballot.status, 200);
    assert!(
        ballot.body.contains("name=\"project\"") && ballot.body.contains("<legend>"),
        "{}",
        ballot.body
    );
    let vote_url = format!("{}/vote", check.next);

    // Another browser that learnt the session id cannot use it.
    let other = reqwest::Client::new();
    let stolen = post(&other, &vote_url, &[("project", "trees")]).await;
    assert_eq!(stolen.status, 403, "{}", stolen.body);
    let stolen_status = get(&other, &check.poll).await;
    assert_eq!(stolen_status.status, 403);

    // Nonsense is refused without counting.
    assert_eq!(
        post(&browser, &vote_url, &[("project", "casino")])
            .await
            .status,
        400
    );
    assert_eq!(post(&browser, &vote_url, &[]).await.status, 400);

    let voted = post(&browser, &vote_url, &[("project", "trees")]).await;
    assert_eq!(voted.status, 200, "{}", voted.body);
    assert!(voted.body.contains("is counted"));
    assert_eq!(votes(&voted.body, "200 street trees"), 1);

    let again = post(&browser, &vote_url, &[("project", "bikes")]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let revisit = get(&browser, &check.next).await;
    assert!(revisit.body.contains("already voted"));
    assert!(!revisit.body.contains("name=\"project\""));

    // The second copy of the same resident's credential carries the same pseudonym: refused.
    let browser2 = civic_testkit::examples::browser();
    let check2 = start_check(&browser2, base, "/ballot/start").await;
    assert_eq!(present(&check2.link, &copy2).await, 200);
    assert_eq!(wait(&browser2, &check2.poll).await["status"], "eligible");
    let second = post(
        &browser2,
        &format!("{}/vote", check2.next),
        &[("project", "bikes")],
    )
    .await;
    assert_eq!(second.status, 409, "{}", second.body);

    let results = get(&browser, &format!("{base}/")).await;
    assert_eq!(votes(&results.body, "200 street trees"), 1);
    assert_eq!(votes(&results.body, "Covered bike parking"), 0);
    assert_eq!(votes(&results.body, "A playground in Oosterpark"), 0);

    // The ballot box is sled, next to the verifier's sessions, keyed by the pseudonym only.
    assert!(app.dir.path().join("data").join(EXAMPLE).is_dir());
    let status_json = status.to_string();
    pages.extend([
        home.body,
        check.page.body,
        ballot.body,
        voted.body,
        again.body,
        revisit.body,
        second.body,
    ]);
    pages.extend([results.body, status_json, check2.page.body]);
    let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
    assert_no_personal_data(&refs, &anna, &[pseudonym(&app.base, "R-1001")]);
}

/// One poll, without waiting.
async fn wait_once(browser: &reqwest::Client, poll: &str) -> String {
    let page = get(browser, poll).await;
    let v: serde_json::Value = serde_json::from_str(&page.body).expect("json");
    v["status"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_15_year_old_is_not_eligible_and_cannot_vote() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        participatory_budget::app,
        &issuer,
    )
    .await;
    let young = resident("Fenna", almost(16, now()), "0363", Some("2"));
    let credential = issuer.issue(&young, "R-2002", now());

    let browser = browser();
    let check = start_check(&browser, &app.base, "/ballot/start").await;
    assert_eq!(present(&check.link, &credential).await, 200);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "not_eligible", "{status}");

    let page = get(&browser, &check.next).await;
    assert!(page.body.contains("aged 16 or over"), "{}", page.body);
    assert!(!page.body.contains("name=\"project\""));
    let vote = post(
        &browser,
        &format!("{}/vote", check.next),
        &[("project", "bikes")],
    )
    .await;
    assert_eq!(vote.status, 403, "{}", vote.body);
    let home = get(&browser, &format!("{}/", app.base)).await;
    assert_eq!(votes(&home.body, "Covered bike parking"), 0);
    assert_no_personal_data(
        &[&page.body, &vote.body, &home.body, &status.to_string()],
        &young,
        &[pseudonym(&app.base, "R-2002")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_credential_from_an_untrusted_issuer_is_rejected() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        participatory_budget::app,
        &issuer,
    )
    .await;
    let impostor = Issuer::new(); // same issuer id, another key
    impostor.add_platform(&app.base);
    let credential = impostor.issue(
        &resident("Joost", aged(40, now()), "0363", None),
        "R-3003",
        now(),
    );

    let browser = browser();
    let check = start_check(&browser, &app.base, "/ballot/start").await;
    assert_eq!(present(&check.link, &credential).await, 400);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "rejected", "{status}");
    let vote = post(
        &browser,
        &format!("{}/vote", check.next),
        &[("project", "trees")],
    )
    .await;
    assert_eq!(vote.status, 403);
}
