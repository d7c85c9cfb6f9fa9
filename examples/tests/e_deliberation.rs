//! E-deliberation over real HTTP on 127.0.0.1, with a real sled database in a temporary
//! directory: unverified comments, and comments with the verified-resident badge.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_examples::e_deliberation;

use civic_examples::short_hash;
use civic_testkit::credentials::{aged, pseudonym, resident, TestIssuer as Issuer};
use civic_testkit::examples::*;
use civic_testkit::now;
use civic_testkit::wallet::present;

const EXAMPLE: &str = "e_deliberation";

/// The `<li>` of the comment whose text is `text`.
fn comment<'a>(page: &'a str, text: &str) -> &'a str {
    let at = page
        .find(&format!("<p>{text}</p>"))
        .unwrap_or_else(|| panic!("no comment {text:?} in {page}"));
    let start = page[..at].rfind("<li").expect("li");
    let end = at + page[at..].find("</li>").expect("/li");
    &page[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_verified_comments_carry_the_badge() {
    let issuer = Issuer::new();
    let app = run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        e_deliberation::app,
        &issuer,
    )
    .await;
    let base = &app.base;
    let browser = browser();

    let home = get(&browser, &format!("{base}/")).await;
    assert_eq!(home.status, 200);
    assert_page_basics(&home);
    assert!(home.body.contains("<label for=\"text\">"));

    // Anyone may comment, without a badge; the text is escaped.
    let posted = post(
        &browser,
        &format!("{base}/comments"),
        &[("text", "More quiet study rooms <please>")],
    )
    .await;
    assert_eq!(posted.status, 303);
    assert_eq!(
        post(&browser, &format!("{base}/comments"), &[("text", "   ")])
            .await
            .status,
        400
    );
    let long = "x".repeat(e_deliberation::MAX_COMMENT_CHARS + 1);
    assert_eq!(
        post(
            &browser,
            &format!("{base}/comments"),
            &[("text", long.as_str())]
        )
        .await
        .status,
        400
    );

    // A resident verifies and comments with the badge.
    let iris = resident("Iris", aged(17, now()), "0363", Some("3"));
    let credential = issuer.issue(&iris, "R-6006", now());
    let check = start_check(&browser, base, "/verify/start").await;
    assert_page_basics(&check.page);
    assert_eq!(present(&check.link, &credential).await, 200);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], "eligible", "{status}");
    let form = get(&browser, &check.next).await;
    let tag = short_hash(&pseudonym(&app.base, "R-6006"));
    assert!(form.body.contains(&tag), "{}", form.body);
    let verified = post(
        &browser,
        &format!("{}/comment", check.next),
        &[("text", "Please keep the old tram rails visible")],
    )
    .await;
    assert_eq!(verified.status, 303, "{}", verified.body);

    // A resident of another municipality gets no badge and cannot post as verified.
    let outsider = resident("Olaf", aged(45, now()), "0344", None);
    let other_credential = issuer.issue(&outsider, "R-7007", now());
    let browser2 = civic_testkit::examples::browser();
    let check2 = start_check(&browser2, base, "/verify/start").await;
    assert_eq!(
        present(&check2.link, &other_credential).await,
        400,
        "the issuer does not speak for 0344"
    );
    assert_eq!(wait(&browser2, &check2.poll).await["status"], "rejected");
    let refused = post(
        &browser2,
        &format!("{}/comment", check2.next),
        &[("text", "Sneaky")],
    )
    .await;
    assert_eq!(refused.status, 403);

    let page = get(&browser, &format!("{base}/")).await;
    let plain = comment(&page.body, "More quiet study rooms &lt;please&gt;");
    assert!(
        plain.contains("Not verified") && !plain.contains("badge"),
        "{plain}"
    );
    let badged = comment(&page.body, "Please keep the old tram rails visible");
    assert!(
        badged.contains("<span class=\"badge\">Verified resident</span>"),
        "{badged}"
    );
    assert!(badged.contains(&format!("<code>{tag}</code>")), "{badged}");
    assert!(!page.body.contains("Sneaky"));
    assert_eq!(page.body.matches("class=\"badge\"").count(), 1);
    assert!(app.dir.path().join("data").join(EXAMPLE).is_dir());
    assert_no_personal_data(
        &[
            &home.body,
            &check.page.body,
            &form.body,
            &page.body,
            &status.to_string(),
        ],
        &iris,
        &[pseudonym(&app.base, "R-6006")],
    );
    assert_no_personal_data(
        &[&page.body, &refused.body],
        &outsider,
        &[pseudonym(&app.base, "R-7007")],
    );
}
