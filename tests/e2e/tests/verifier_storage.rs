//! The verifier service on a full disk: its session store lives on a small tmpfs that fills up.
//! New sessions and wallet answers get a 503 that says "storage full" (never a 500, never a
//! lost session), results already stored are still read, and the service recovers by itself
//! once space returns: the waiting session can then be answered.
//!
//! Mounting needs root. Without it the test prints why and passes, unless
//! `CIVIC_REQUIRE_ALL_TESTS` is set (`cargo xtask test` sets it where it can mount): then it
//! fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_storage::testing::{cannot_run, fill_leaving, Mount};
use civic_testkit::services::*;
use civic_testkit::wallet::Presenter;
use serde_json::Value;

fn assert_full(what: &str, status: u16, body: &Value) {
    assert_eq!(status, 503, "{what}: {body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{what}: {body}");
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains("storage full"), "{what}: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_gives_503_keeps_every_session_and_recovers_when_space_returns() {
    let fs = match Mount::tmpfs("32m") {
        Ok(fs) => fs,
        Err(why) => return cannot_run("verifier full disk", &why),
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    // 2 MiB of reserve (an eighth of 32 MiB is more, so it applies whole).
    let verifier = start_verifier(&fs.point, &issuer, "storage_reserve_mib = 2").await;
    let copies = issuer.credentials("D-0001", 2).await;

    // A session answered before the fault, and one left waiting.
    let (s, done) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{done}");
    let wallet = |i: usize| Presenter {
        http: &verifier.http,
        credential: &copies[i],
    };
    let (s, body) = wallet(0)
        .answer(done["openid4vp_url"].as_str().expect("url"))
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, waiting) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{waiting}");
    let waiting_link = waiting["openid4vp_url"].as_str().expect("url");
    let waiting_id = waiting["id"].as_str().expect("id");

    // Less than the reserve is left.
    let filler = fill_leaving(&fs.point, 1 << 20);
    let (s, body) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_full("a new session", s, &body);
    let (s, body) = wallet(1).answer(waiting_link).await;
    assert_full("a wallet's answer", s, &body);
    // What is stored is still read.
    let (s, result) = verifier
        .result(BUDGET_KEY, done["id"].as_str().expect("id"), None)
        .await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["status"], "complete", "{result}");
    assert_eq!(result["eligibility"]["eligible"], true, "{result}");
    let (s, result) = verifier.result(BUDGET_KEY, waiting_id, None).await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(
        result["status"], "pending",
        "the refused answer used nothing up: {result}"
    );

    // Space returns: no restart needed, and the waiting session can be answered.
    std::fs::remove_file(&filler).expect("remove filler");
    let (s, body) = wallet(1).answer(waiting_link).await;
    assert_eq!(s, 200, "{body}");
    let (s, result) = verifier.result(BUDGET_KEY, waiting_id, None).await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["status"], "complete", "{result}");
    assert_eq!(result["eligibility"]["eligible"], true, "{result}");
    let (s, body) = verifier.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "a new session after space returned: {body}");
}
