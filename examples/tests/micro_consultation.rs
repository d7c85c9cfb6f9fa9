//! The district 3 micro-consultation over real HTTP on 127.0.0.1, with a real sled database in
//! a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_examples::micro_consultation;

use civic_testkit::credentials::{aged, pseudonym, resident, TestIssuer as Issuer};
use civic_testkit::examples::*;
use civic_testkit::now;
use civic_testkit::wallet::present;

const EXAMPLE: &str = "micro_consultation";

/// The count shown for `label` in the results list.
fn answers(page: &str, label: &str) -> u64 {
    let at = page
        .find(&format!("<li>{label}: <strong>"))
        .expect("result")
        + label.len()
        + 14;
    let end = page[at..].find('<').expect("end");
    page[at..at + end].parse().expect("number")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_3_resident_answers_once() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        micro_consultation::app,
        &issuer,
    )
    .await;
    let base = &app.base;
    let sem = resident("Semra", aged(52, now()), "0363", Some("3"));
    let copy1 = issuer.issue(&sem, "R-4004", now());
    let copy2 = issuer.issue(&sem, "R-4004", now());

    let browser = browser();
    let home = get(&browser, &format!("{base}/")).await;
    assert_eq!(home.status, 200);
    assert_page_basics(&home);
    assert!(home
        .body
        .contains(&civic_examples::escape(&micro_consultation::question_text())));

    let check = start_check(&browser, base, "/answer/start").await;
    assert_page_basics(&check.page);
    assert!(check.page.body.contains("your district"));
    assert_eq!(present(&check.link, &copy1).await, 200);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "eligible", "{status}");

    let form = get(&browser, &check.next).await;
    assert!(
        form.body.contains("name=\"answer\" value=\"yes\""),
        "{}",
        form.body
    );
    assert_eq!(
        post(&browser, &check.next, &[("answer", "maybe")])
            .await
            .status,
        400
    );
    let answered = post(&browser, &check.next, &[("answer", "yes")]).await;
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answers(&answered.body, "Yes"), 1);
    let again = post(&browser, &check.next, &[("answer", "no")]).await;
    assert_eq!(again.status, 409);

    // A second copy of the same credential: same pseudonym, refused.
    let browser2 = civic_testkit::examples::browser();
    let check2 = start_check(&browser2, base, "/answer/start").await;
    assert_eq!(present(&check2.link, &copy2).await, 200);
    assert_eq!(wait(&browser2, &check2.poll).await["status"], "eligible");
    let second = post(&browser2, &check2.next, &[("answer", "no")]).await;
    assert_eq!(second.status, 409, "{}", second.body);

    let results = get(&browser, &format!("{base}/")).await;
    assert_eq!(
        (answers(&results.body, "Yes"), answers(&results.body, "No")),
        (1, 0)
    );
    assert!(app.dir.path().join("data").join(EXAMPLE).is_dir());
    assert_no_personal_data(
        &[
            &home.body,
            &check.page.body,
            &form.body,
            &answered.body,
            &again.body,
            &second.body,
            &results.body,
            &status.to_string(),
        ],
        &sem,
        &[pseudonym(&app.base, "R-4004")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_district_4_resident_cannot_answer() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        micro_consultation::app,
        &issuer,
    )
    .await;
    let bram = resident("Bram", aged(30, now()), "0363", Some("4"));
    let credential = issuer.issue(&bram, "R-5005", now());

    let browser = browser();
    let check = start_check(&browser, &app.base, "/answer/start").await;
    assert_eq!(present(&check.link, &credential).await, 200);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "not_eligible", "{status}");
    let page = get(&browser, &check.next).await;
    assert!(
        page.body.contains("only for residents of district 3"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("name=\"answer\""));
    let refused = post(&browser, &check.next, &[("answer", "no")]).await;
    assert_eq!(refused.status, 403);
    let results = get(&browser, &format!("{}/", app.base)).await;
    assert_eq!(
        (answers(&results.body, "Yes"), answers(&results.body, "No")),
        (0, 0)
    );
    assert_no_personal_data(
        &[&page.body, &refused.body, &results.body],
        &bram,
        &[pseudonym(&app.base, "R-5005")],
    );
}
