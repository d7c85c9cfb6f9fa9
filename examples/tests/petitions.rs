//! Petitions over real HTTP on 127.0.0.1, with a real sled database in a temporary directory:
//! proposals, one co-signature per resident across copies and devices, forwarding at the
//! threshold, withdrawal, and a moderator who hides a proposal without learning its author.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_examples::petitions::{self, Settings};

use civic_testkit::credentials::{aged, pseudonym, resident, Credential, TestIssuer as Issuer};
use civic_testkit::examples::*;
use civic_testkit::now;
use civic_testkit::wallet::present;

const EXAMPLE: &str = "petitions";
const MODERATOR_TOKEN: &str = "demo-moderator-token";

/// The shipped `petitions.toml` (threshold 3, the demo moderator token, 3 proposals each).
fn shipped() -> Settings {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("petitions/petitions.toml");
    toml::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

async fn start(issuer: &Issuer) -> Running {
    run(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        EXAMPLE,
        |config| petitions::app(config, shipped()),
        issuer,
    )
    .await
}

/// A resident's browser that showed `credential`: the browser and its check page URL.
async fn check_in(base: &str, credential: &Credential, expect: &str) -> (reqwest::Client, String) {
    let browser = browser();
    let check = start_check(&browser, base, "/check/start").await;
    assert_page_basics(&check.page);
    let answered = if expect == "rejected" { 400 } else { 200 };
    assert_eq!(present(&check.link, credential).await, answered);
    let status = wait(&browser, &check.poll).await;
    assert_eq!(status["status"], expect, "{status}");
    (browser, check.next)
}

/// The id of the proposal titled `title` on `page`.
fn proposal_id(page: &str, title: &str) -> String {
    let at = page
        .find(&format!("<h3>{title}</h3>"))
        .unwrap_or_else(|| panic!("no proposal {title:?} in {page}"));
    let start = page[..at].rfind("id=\"proposal-").expect("li id") + 13;
    let end = start + page[start..].find('"').expect("id end");
    page[start..end].to_owned()
}

/// The signature count shown for proposal `id`.
fn signatures(page: &str, id: &str) -> u32 {
    let at = page
        .find(&format!("id=\"proposal-{id}\""))
        .expect("proposal");
    let from = at + page[at..].find("class=\"signatures\">").expect("count") + 19;
    let end = from + page[from..].find('<').expect("end");
    page[from..end].parse().expect("number")
}

fn forwarded_badge(page: &str, id: &str) -> bool {
    let at = page
        .find(&format!("id=\"proposal-{id}\""))
        .expect("proposal");
    let end = at + page[at..].find("</li>").expect("li end");
    page[at..end].contains("Forwarded to the council")
}

const TITLE: &str = "Drinking fountains in every park";
const TEXT: &str = "Put a drinking fountain in each of the twelve parks before next summer.";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_cosign_once_and_a_proposal_is_forwarded_at_the_threshold() {
    let issuer = Issuer::new();
    let app = start(&issuer).await;
    let base = &app.base;
    assert_eq!(shipped().signature_threshold, 3);
    let ada = resident("Ada", aged(30, now()), "0363", Some("2"));
    let ada_phone = issuer.issue(&ada, "R-7001", now());
    let ada_laptop = issuer.issue(&ada, "R-7001", now());
    let others: Vec<_> = ["Bo", "Cas"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let r = resident(name, aged(40 + i as i32, now()), "0363", None);
            issuer.issue(&r, &format!("R-710{i}"), now())
        })
        .collect();

    let home = get(&browser(), &format!("{base}/")).await;
    assert_eq!(home.status, 200);
    assert_page_basics(&home);
    assert!(home.body.contains("No proposals yet."));

    // Ada proposes, and signs her own proposal once.
    let (ada_browser, ada_page) = check_in(base, &ada_phone, "eligible").await;
    let form = get(&ada_browser, &ada_page).await;
    assert_page_basics(&form);
    assert!(form.body.contains("name=\"title\""), "{}", form.body);
    let proposed = post(
        &ada_browser,
        &format!("{ada_page}/propose"),
        &[("title", TITLE), ("text", TEXT)],
    )
    .await;
    assert_eq!(proposed.status, 200, "{}", proposed.body);
    let listed = get(&ada_browser, &ada_page).await;
    let id = proposal_id(&listed.body, TITLE);
    assert_eq!(signatures(&listed.body, &id), 0);
    let sign = format!("{ada_page}/sign");
    let signed = post(&ada_browser, &sign, &[("proposal", &id)]).await;
    assert_eq!(signed.status, 200, "{}", signed.body);
    assert!(signed.body.contains("1 of 3"), "{}", signed.body);
    let again = post(&ada_browser, &sign, &[("proposal", &id)]).await;
    assert_eq!(again.status, 409, "{}", again.body);
    let listed = get(&ada_browser, &ada_page).await;
    assert!(listed.body.contains("Withdraw my signature"));

    // Her other device: another copy of the credential with another key, the same pseudonym.
    let (laptop, laptop_page) = check_in(base, &ada_laptop, "eligible").await;
    let second = post(
        &laptop,
        &format!("{laptop_page}/sign"),
        &[("proposal", &id)],
    )
    .await;
    assert_eq!(second.status, 409, "{}", second.body);
    assert!(second.body.contains("already signed"));

    // Two more residents: the third signature forwards it.
    let mut pages = Vec::new();
    for (n, credential) in others.iter().enumerate() {
        let (b, p) = check_in(base, credential, "eligible").await;
        let signed = post(&b, &format!("{p}/sign"), &[("proposal", &id)]).await;
        assert_eq!(signed.status, 200, "{}", signed.body);
        assert!(signed.body.contains(&format!("{} of 3", n + 2)));
        assert_eq!(n == 1, signed.body.contains("forwarded to the council"));
        pages.push((b, p));
    }
    let home = get(&browser(), &format!("{base}/")).await;
    assert_eq!(signatures(&home.body, &id), 3);
    assert!(forwarded_badge(&home.body, &id));
    let feed: serde_json::Value = serde_json::from_str(
        &get(&browser(), &format!("{base}/forwarded.json"))
            .await
            .body,
    )
    .unwrap();
    assert_eq!(feed["forwarded"][0]["id"], id.as_str());
    assert_eq!(feed["forwarded"][0]["signatures"], 3);

    // Bo withdraws: the count drops, the proposal stays forwarded; a second withdrawal is refused.
    let (bo, bo_page) = &pages[0];
    let withdraw = format!("{bo_page}/withdraw");
    let withdrawn = post(bo, &withdraw, &[("proposal", &id)]).await;
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert_eq!(post(bo, &withdraw, &[("proposal", &id)]).await.status, 409);
    let home = get(&browser(), &format!("{base}/")).await;
    assert_eq!(signatures(&home.body, &id), 2);
    assert!(forwarded_badge(&home.body, &id));

    // Nothing personal, and not the pseudonym, on any page.
    assert_no_personal_data(
        &[
            &home.body,
            &form.body,
            &proposed.body,
            &listed.body,
            &signed.body,
            &again.body,
            &second.body,
            &feed.to_string(),
        ],
        &ada,
        &[pseudonym(base, "R-7001")],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_eligible_residents_take_part_and_bad_input_is_refused() {
    let issuer = Issuer::new();
    let app = start(&issuer).await;
    let base = &app.base;
    let young = resident("Dex", aged(15, now()), "0363", None);
    let elsewhere = resident("Eli", aged(50, now()), "0518", None);
    let ada = resident("Ada", aged(30, now()), "0363", None);

    // Under 16: not eligible. Another municipality: this issuer is not trusted for it.
    for (record, subject, outcome) in [
        (&young, "R-7201", "not_eligible"),
        (&elsewhere, "R-7202", "rejected"),
    ] {
        let credential = issuer.issue(record, subject, now());
        let (b, p) = check_in(base, &credential, outcome).await;
        let page = get(&b, &p).await;
        assert!(!page.body.contains("name=\"title\""), "{}", page.body);
        if outcome == "not_eligible" {
            assert!(page.body.contains("aged 16 or over"), "{}", page.body);
        }
        let refused = post(
            &b,
            &format!("{p}/propose"),
            &[("title", TITLE), ("text", TEXT)],
        )
        .await;
        assert_eq!(refused.status, 403);
    }

    let (b, p) = check_in(base, &issuer.issue(&ada, "R-7203", now()), "eligible").await;
    let propose = format!("{p}/propose");
    for (title, text) in [
        ("abc", TEXT),
        (TITLE, "too short"),
        ("", ""),
        ("Two\nlines", TEXT),
    ] {
        let r = post(&b, &propose, &[("title", title), ("text", text)]).await;
        assert_eq!(r.status, 400, "{title:?}: {}", r.body);
    }
    // A missing form field is a 4xx, not a 500.
    let r = b
        .post(&propose)
        .form(&[("nope", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post(
        &b,
        &format!("{p}/sign"),
        &[("proposal", "no-such-proposal")],
    )
    .await;
    assert_eq!(r.status, 404);
    // Three proposals each; the fourth is refused.
    for n in 0..3 {
        let r = post(
            &b,
            &propose,
            &[("title", &format!("{TITLE} {n}")), ("text", TEXT)],
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = post(&b, &propose, &[("title", "One too many"), ("text", TEXT)]).await;
    assert_eq!(r.status, 409, "{}", r.body);

    // The check page and its forms belong to the browser that started the check.
    let stranger = browser();
    assert_eq!(get(&stranger, &p).await.status, 403);
    let id = proposal_id(&get(&b, &p).await.body, &format!("{TITLE} 0"));
    assert_eq!(
        post(&stranger, &format!("{p}/sign"), &[("proposal", &id)])
            .await
            .status,
        403
    );
    // A form posted from another site is refused.
    let foreign = b
        .post(format!("{p}/sign"))
        .header("origin", "https://evil.example")
        .form(&[("proposal", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(signatures(&get(&b, &p).await.body, &id), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_signatures_from_two_devices_count_once() {
    let issuer = Issuer::new();
    let app = start(&issuer).await;
    let base = &app.base;
    let ada = resident("Ada", aged(30, now()), "0363", None);
    let (b1, p1) = check_in(base, &issuer.issue(&ada, "R-7301", now()), "eligible").await;
    let (b2, p2) = check_in(base, &issuer.issue(&ada, "R-7301", now()), "eligible").await;
    let r = post(
        &b1,
        &format!("{p1}/propose"),
        &[("title", TITLE), ("text", TEXT)],
    )
    .await;
    assert_eq!(r.status, 200);
    let id = proposal_id(&get(&b1, &p1).await.body, TITLE);
    let mut tries = Vec::new();
    for n in 0..8 {
        let (b, p) = if n % 2 == 0 {
            (b1.clone(), &p1)
        } else {
            (b2.clone(), &p2)
        };
        let url = format!("{p}/sign");
        let id = id.clone();
        tries.push(tokio::spawn(async move {
            b.post(url)
                .form(&[("proposal", id)])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for t in tries {
        statuses.push(t.await.unwrap());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409, 409, 409, 409, 409, 409, 409]);
    assert_eq!(signatures(&get(&b1, &p1).await.body, &id), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_moderator_hides_a_proposal_without_learning_who_wrote_it() {
    let issuer = Issuer::new();
    let app = start(&issuer).await;
    let base = &app.base;
    let ada = resident("Ada", aged(30, now()), "0363", None);
    let bo = resident("Bo", aged(31, now()), "0363", None);
    let (ab, ap) = check_in(base, &issuer.issue(&ada, "R-7401", now()), "eligible").await;
    let r = post(
        &ab,
        &format!("{ap}/propose"),
        &[("title", TITLE), ("text", TEXT)],
    )
    .await;
    assert_eq!(r.status, 200);
    let id = proposal_id(&get(&ab, &ap).await.body, TITLE);

    let moderator = browser();
    let login_page = get(&moderator, &format!("{base}/moderate")).await;
    assert_page_basics(&login_page);
    assert!(login_page.body.contains("type=\"password\""));
    // Not signed in, or the wrong token: no moderation.
    let hide = format!("{base}/moderate/hide");
    assert_eq!(
        post(&moderator, &hide, &[("proposal", &id)]).await.status,
        403
    );
    let wrong = post(
        &moderator,
        &format!("{base}/moderate/login"),
        &[("token", "guess")],
    )
    .await;
    assert_eq!(wrong.status, 403);
    let login = post(
        &moderator,
        &format!("{base}/moderate/login"),
        &[("token", MODERATOR_TOKEN)],
    )
    .await;
    assert_eq!(login.status, 200, "{}", login.body);
    let cookie = login.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let panel = get(&moderator, &format!("{base}/moderate")).await;
    assert!(panel.body.contains(TITLE), "{}", panel.body);
    // A forged or foreign-site request with the cookie is still refused.
    let foreign = moderator
        .post(&hide)
        .header("origin", "https://evil.example")
        .form(&[("proposal", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let forged = browser()
        .post(&hide)
        .header("cookie", "petitions_moderator=99999999999.AAAA")
        .form(&[("proposal", id.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    let hidden = post(&moderator, &hide, &[("proposal", &id)]).await;
    assert_eq!(hidden.status, 200, "{}", hidden.body);
    let home = get(&browser(), &format!("{base}/")).await;
    assert!(!home.body.contains(TITLE));
    let (bb, bp) = check_in(base, &issuer.issue(&bo, "R-7402", now()), "eligible").await;
    assert!(!get(&bb, &bp).await.body.contains(TITLE));
    assert_eq!(
        post(&bb, &format!("{bp}/sign"), &[("proposal", &id)])
            .await
            .status,
        404
    );
    let panel = get(&moderator, &format!("{base}/moderate")).await;
    assert!(panel.body.contains("Hidden"));
    // The moderator sees nothing about who wrote it: no pseudonym, no short form of it.
    let ada_pseudonym = pseudonym(base, "R-7401");
    assert_no_personal_data(
        &[&panel.body, &hidden.body],
        &ada,
        std::slice::from_ref(&ada_pseudonym),
    );
    assert!(!panel
        .body
        .contains(&civic_examples::short_hash(&ada_pseudonym)));

    let shown = post(
        &moderator,
        &format!("{base}/moderate/show"),
        &[("proposal", &id)],
    )
    .await;
    assert_eq!(shown.status, 200);
    assert!(get(&browser(), &format!("{base}/"))
        .await
        .body
        .contains(TITLE));
    assert_eq!(
        post(&bb, &format!("{bp}/sign"), &[("proposal", &id)])
            .await
            .status,
        200
    );
    // Signed out, the cookie is gone.
    let out = post(&moderator, &format!("{base}/moderate/logout"), &[]).await;
    assert_eq!(out.status, 200);
    assert_eq!(
        post(&moderator, &hide, &[("proposal", &id)]).await.status,
        403
    );
}
