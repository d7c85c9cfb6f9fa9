//! The issuer on PostgreSQL while the database goes away under load and comes back: requests
//! meanwhile get 503 (never a 500, never a hang), the issuer recovers by itself once the database
//! is back, and nothing that was answered is lost: every credential a wallet received is
//! recorded, and no status list index was handed out twice.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;

use civic_storage::pg_cluster::TestCluster;
use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::{now, wallet};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");
const RESIDENTS: [&str; 5] = ["R-0001", "R-0002", "R-0003", "R-0004", "R-0005"];

/// One issuance through the HTTP API: the credentials, or the first status that was not 200
/// (with its body).
async fn attempt(t: &TestIssuer, resident: &str) -> Result<Vec<String>, (u16, String)> {
    let (s, offer) = t
        .admin(
            Method::POST,
            &format!("/admin/api/residents/{resident}/offer"),
            None,
        )
        .await;
    if s != 200 {
        return Err((s, offer.to_string()));
    }
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    let (s, tok) = wallet::try_token(&t.http, &t.base, &code, offer["tx_code"].as_str())
        .await
        .map_err(|e| (0, e.to_string()))?;
    if s != 200 {
        return Err((s, tok.to_string()));
    }
    let access = tok["access_token"].as_str().unwrap().to_owned();
    let (s, n) = json(t.http.post(t.url("/nonce")).send().await.unwrap()).await;
    if s != 200 {
        return Err((s, n.to_string()));
    }
    let key = wallet::holder_key();
    let proof = wallet::proof(&key, &t.base, n["c_nonce"].as_str(), now());
    let (s, body) = wallet::try_credential(&t.http, &t.base, &access, &[proof])
        .await
        .map_err(|e| (0, e.to_string()))?;
    if s != 200 {
        return Err((s, body.to_string()));
    }
    Ok(body["credentials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["credential"].as_str().unwrap().to_owned())
        .collect())
}

#[derive(Default)]
struct Seen {
    issued: Vec<(String, (u32, u32), Instant)>,
    refused: HashMap<u16, (usize, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_gives_503s_then_recovers_with_nothing_lost() {
    let cluster = TestCluster::start();
    let mut t = TestIssuer::init_on(BIN, "oauth_rate_limit_per_minute = 1000000", &cluster.url());
    t.start().await;
    let t = Arc::new(t);
    let seen = Arc::new(Mutex::new(Seen::default()));
    let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (t, seen, running) = (t.clone(), seen.clone(), running.clone());
            tokio::spawn(async move {
                let mut i = w;
                while running.load(std::sync::atomic::Ordering::Relaxed) {
                    let resident = RESIDENTS[i % RESIDENTS.len()];
                    i += 1;
                    match attempt(&t, resident).await {
                        Ok(creds) => {
                            let mut s = seen.lock().unwrap();
                            for c in creds {
                                s.issued.push((
                                    resident.to_owned(),
                                    wallet::status_ref(&c),
                                    Instant::now(),
                                ));
                            }
                        }
                        Err((status, body)) => {
                            {
                                let mut s = seen.lock().unwrap();
                                s.refused.entry(status).or_insert((0, body)).0 += 1;
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            })
        })
        .collect();

    tokio::time::sleep(Duration::from_secs(3)).await;
    let down = Instant::now();
    cluster.stop();
    // While it is down: readiness says so, and requests are refused with 503.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (s, body) = json(t.http.get(t.url("/healthz")).send().await.unwrap()).await;
    assert_eq!(s, 503, "health while the database is down: {body}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    cluster.restart();
    let up = Instant::now();
    // Back within 30 s, then a few seconds more of load.
    let recovered = loop {
        let first = seen
            .lock()
            .unwrap()
            .issued
            .iter()
            .map(|i| i.2)
            .filter(|at| *at > up)
            .min();
        if let Some(at) = first {
            break at - up;
        }
        assert!(
            up.elapsed() < Duration::from_secs(30),
            "no credential issued 30 s after the database came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    let refused: Vec<_> = seen
        .refused
        .iter()
        .map(|(s, (n, body))| format!("{s} ×{n}: {body}"))
        .collect();
    assert!(
        seen.refused.keys().all(|s| *s == 503),
        "only 503 while the database is away: {refused:?}"
    );
    assert!(
        seen.refused.get(&503).is_some_and(|(n, _)| *n > 0),
        "the outage was met"
    );
    let before = seen.issued.iter().filter(|(_, _, at)| *at < down).count();
    let after = seen.issued.iter().filter(|(_, _, at)| *at > up).count();
    assert!(
        before > 0 && after > 0,
        "issued before {before}, after {after}: recovered by itself"
    );

    // Nothing answered was lost, no index twice.
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
            recorded.insert(at, r.to_owned());
        }
    }
    let mut unique = HashSet::new();
    for (resident, at, _) in &seen.issued {
        assert!(unique.insert(*at), "{at:?} handed out twice");
        assert_eq!(
            recorded.get(at),
            Some(resident),
            "{at:?} answered but not recorded"
        );
    }
    eprintln!(
        "database restart: {} credentials issued ({before} before, {after} after), first after {:.1} s, refused {refused:?}",
        seen.issued.len(),
        recovered.as_secs_f64()
    );
}
