//! Two issuer instances on one PostgreSQL database, behind one public URL (as behind a load
//! balancer): offers made on one are redeemed through the other, concurrently, for the same
//! residents. No status list index is handed out twice, every credential a wallet received is
//! recorded, and a revocation made through one instance shows in the status list the other
//! serves. A passkey ceremony started on one instance is finished on the other, and the session
//! it opens works on both. Then one instance is killed (SIGKILL) and the other goes on with
//! nothing lost.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::{HashMap, HashSet};

use reqwest::Method;

use civic_storage::pg_cluster::TestCluster;
use std::sync::Arc;

use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::passkey::SoftPasskey;
use civic_testkit::wallet;
use futures_util::future::join_all;

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const RESIDENTS: [&str; 5] = ["R-0001", "R-0002", "R-0003", "R-0004", "R-0005"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_issue_concurrently_without_sharing_an_index_or_losing_a_credential() {
    let cluster = TestCluster::start();
    let mut a = TestIssuer::init_on(BIN, "", &cluster.url());
    a.start().await;
    let mut b = a.replica();
    b.start().await;

    // 8 rounds; in each, every resident gets an offer on one instance redeemed on the other,
    // all at once.
    let mut received: Vec<(String, (u32, u32))> = Vec::new();
    for round in 0..8 {
        let (first, second) = if round % 2 == 0 { (&a, &b) } else { (&b, &a) };
        let batches = join_all(RESIDENTS.iter().enumerate().map(|(i, r)| {
            let (maker, redeemer) = if i % 2 == 0 {
                (first, second)
            } else {
                (second, first)
            };
            async move { (r.to_string(), maker.offer_redeemed(redeemer, r, 3).await) }
        }))
        .await;
        for (resident, credentials) in batches {
            for c in credentials {
                received.push((resident.clone(), wallet::status_ref(&c)));
            }
        }
    }
    assert_eq!(received.len(), 8 * RESIDENTS.len() * 3);

    // No index twice, and each credential a wallet holds is recorded for its resident, as
    // either instance reports it.
    let mut seen = HashSet::new();
    for (_, at) in &received {
        assert!(seen.insert(*at), "status index {at:?} handed out twice");
    }
    for t in [&a, &b] {
        let mut recorded = HashMap::new();
        for r in RESIDENTS {
            let (s, v) = t
                .admin(Method::GET, &format!("/admin/api/residents/{r}"), None)
                .await;
            assert_eq!(s, 200, "{v}");
            for c in v["credentials"].as_array().unwrap() {
                let at = (
                    c["status_list"].as_u64().unwrap() as u32,
                    c["idx"].as_u64().unwrap() as u32,
                );
                assert!(
                    recorded.insert(at, r.to_owned()).is_none(),
                    "{at:?} recorded twice"
                );
            }
        }
        for (resident, at) in &received {
            assert_eq!(
                recorded.get(at),
                Some(resident),
                "{at:?} not recorded for {resident}"
            );
        }
        assert_eq!(
            recorded.len(),
            received.len(),
            "records without a credential"
        );
    }

    // Suspended through B, seen through A at once.
    let (s, v) = b
        .admin(Method::POST, "/admin/api/residents/R-0003/suspend", None)
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = a
        .admin(Method::GET, "/admin/api/residents/R-0003", None)
        .await;
    let statuses: Vec<_> = v["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["status"].clone())
        .collect();
    assert_eq!(statuses.len(), 8 * 3);
    assert!(statuses.iter().all(|s| s == "suspended"), "{statuses:?}");

    // A passkey enrollment begun on A and finished on B; the session it opens works on A.
    let code = a.code_via_cli("R-0004");
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = |t: &TestIssuer| {
        reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{}", t.port)).unwrap())
            .build()
            .unwrap()
    };
    let (on_a, on_b) = (browser(&a), browser(&b));
    let (s, options) = json(
        on_a.post(a.url("/api/enroll/start"))
            .json(&serde_json::json!({ "code": code }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{options}");
    let mut passkey = SoftPasskey::new();
    let response = passkey.register(&options, &a.base);
    let (s, done) = json(
        on_b.post(b.url("/api/enroll/finish"))
            .json(&response)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "ceremony finished on the other instance: {done}");
    let csrf = done["csrf_token"].as_str().unwrap();
    let (s, offer) = json(
        on_a.post(a.url("/api/offers"))
            .header("x-csrf-token", csrf)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "the session opened on B, used on A: {offer}");

    // A dies mid-flight; B issues on, and what A answered before stays recorded.
    a.kill();
    let more = b.offer_redeemed(&b, "R-0001", 2).await;
    for c in &more {
        assert!(
            seen.insert(wallet::status_ref(c)),
            "index reused after the kill"
        );
    }
    let (_, v) = b
        .admin(Method::GET, "/admin/api/residents/R-0001", None)
        .await;
    let count = v["credentials"].as_array().unwrap().len();
    let before = received.iter().filter(|(r, _)| r == "R-0001").count();
    assert_eq!(count, before + 2);
    drop(b);
    drop(a);
    drop(cluster);
}
