//! Two verifier service instances on one PostgreSQL database, behind one public URL (as behind a
//! load balancer): a session made on one is answered through the other, and an answer is
//! accepted once, whichever instance it reaches, even when both get it at the same moment.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use civic_storage::pg_cluster::TestCluster;
use civic_testkit::services::*;
use civic_testkit::wallet::Presenter;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_sessions_and_accept_each_answer_once() {
    let cluster = TestCluster::start();
    let tmp = tempfile::tempdir().expect("tmp");
    let issuer = start_issuer(tmp.path(), IssuerSetup::default()).await;
    let dir = tempfile::tempdir().expect("verifier dir");
    let a = start_verifier(
        dir.path(),
        &issuer,
        &format!("database = \"{}\"", cluster.url()),
    )
    .await;
    let b = start_verifier_replica(&a).await;
    let copies = issuer.credentials("D-0001", 3).await;
    let via = |v: &'static str, i: usize| Presenter {
        http: if v == "a" { &a.http } else { &b.http },
        credential: &copies[i],
    };

    // Made on A, fetched and answered through B, read on A: one store.
    let (s, session) = a.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{session}");
    let link = session["openid4vp_url"].as_str().unwrap();
    let id = session["id"].as_str().unwrap();
    let wallet_b = via("b", 0);
    let req = wallet_b.request(link).await;
    let vp = wallet_b.vp_token(&req, &req.client_id, &req.nonce);
    let state = req.state.clone().unwrap_or_default();
    let form = [("vp_token", vp.as_str()), ("state", state.as_str())];
    let sealed = civic_testkit::wallet::seal(&req, &form);
    let (s, body) = wallet_b.post_plain(&req, &[("response", &sealed)]).await;
    assert_eq!(s, 200, "answer through B: {body}");
    let (s, result) = a.result(BUDGET_KEY, id, None).await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["status"], "complete", "{result}");
    assert_eq!(result["eligibility"]["eligible"], true, "{result}");
    assert!(result["eligibility"]["pseudonym"].is_string(), "{result}");

    // The same answer replayed to A, the instance that did not check it, is refused.
    let (s, body) = via("a", 0).post_plain(&req, &[("response", &sealed)]).await;
    assert_eq!(s, 400, "replay to the other instance: {body}");
    assert_eq!(body["error"], "invalid_request", "{body}");

    // One answer sent to both instances at the same moment, many times: one is accepted.
    for round in 0..8 {
        let (s, session) = a.session(BUDGET_KEY, "vote", None).await;
        assert_eq!(s, 200, "{session}");
        let link = session["openid4vp_url"].as_str().unwrap();
        let wallet = via("a", 1 + round % 2);
        let req = wallet.request(link).await;
        let vp = wallet.vp_token(&req, &req.client_id, &req.nonce);
        let state = req.state.clone().unwrap_or_default();
        let sealed = civic_testkit::wallet::seal(&req, &[("vp_token", &vp), ("state", &state)]);
        let (wa, wb) = (via("a", 1), via("b", 1));
        let form = [("response", sealed.as_str())];
        let ((sa, ba), (sb, bb)) =
            tokio::join!(wa.post_plain(&req, &form), wb.post_plain(&req, &form));
        let accepted = [sa, sb].iter().filter(|s| **s == 200).count();
        assert_eq!(accepted, 1, "round {round}: A {sa} {ba}, B {sb} {bb}");
        let refused = if sa == 200 { (sb, bb) } else { (sa, ba) };
        assert_eq!(refused.0, 400, "round {round}: {}", refused.1);
    }

    // The database goes away: both instances say so to the load balancer, and a platform gets
    // a 503, not a 500; once it is back both serve again.
    cluster.stop();
    for v in [&a, &b] {
        let resp = v
            .http
            .get(format!("{}/healthz", v.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
    }
    let (s, body) = a.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{body}");
    cluster.restart();
    let mut back = false;
    for _ in 0..100 {
        let resp = b
            .http
            .get(format!("{}/healthz", b.base))
            .send()
            .await
            .unwrap();
        if resp.status() == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(back, "the instance did not come back with its database");
    let (s, body) = b.session(BUDGET_KEY, "vote", None).await;
    assert_eq!(s, 200, "{body}");
    drop(cluster);
}
