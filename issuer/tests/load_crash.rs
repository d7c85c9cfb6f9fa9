//! The issuer under concurrent batch issuance, killed with SIGKILL at random moments, with
//! revocations made under load.
//!
//! `CIVIC_LOAD_SECONDS` (default 12) seconds of issuance in total, split at random into
//! `CIVIC_LOAD_KILLS` (default 5) rounds. In each round several wallets loop counter-service
//! offer → token → nonce → credential with batches of 5–10 proofs against the real
//! `civic-issuer serve`, an admin revokes one resident whose wallet is busy, and the server is
//! killed with SIGKILL at the round's end. After each restart:
//!
//! - every credential that got a response is recorded for its resident, and no status index is
//!   recorded twice (nor handed out twice);
//! - every such credential reads valid in the served, signature-checked status list, unless its
//!   resident was revoked, when it reads revoked.
//!
//! Right after each revocation returns, while issuance goes on, the next served status list must
//! already show every credential of that resident revoked.
//!
//! The figures are printed as `name: value` lines (`load_crash_…`; run with `--nocapture`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use reqwest::Method;
use serde_json::Value;

use civic_credential::jwk::Jwk;
use civic_credential::jws::Jws;
use civic_credential::sd_jwt_vc::{IssuerKeys, StaticIssuerKeys};
use civic_credential::status_list::{Status, StatusListToken};

use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::wallet;

/// Concurrent wallets.
const WALLETS: usize = 4;
/// Residents each wallet takes turns with (one may be revoked per round).
const PER_WALLET: usize = 8;

/// One answered credential: whose it is and where its status lives.
#[derive(Clone, Debug)]
struct Issued {
    resident: String,
    list: u32,
    idx: u32,
}

/// What the wallets and the admin share during a round.
#[derive(Default)]
struct Shared {
    issued: Mutex<Vec<Issued>>,
    /// Residents whose revocation returned 200.
    revoked: Mutex<HashSet<String>>,
    /// Residents whose revocation was sent but got no answer (the server died).
    revoke_unconfirmed: Mutex<HashSet<String>>,
    /// Unexpected answers (neither success, a denial for a revoked resident, nor a dead server).
    errors: Mutex<Vec<String>>,
    /// Revoked indexes seen in a served list while issuance ran.
    revocations_seen: Mutex<usize>,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn resident_id(wallet: usize, n: usize) -> String {
    format!("L-{wallet}{n:02}")
}

/// The register rows of the load residents (adults of municipality 0363).
fn load_register() -> String {
    let mut csv = civic_testkit::register::SMALL_REGISTER.to_owned();
    for w in 0..WALLETS {
        for n in 0..PER_WALLET {
            csv.push_str(&format!(
                "{},Load,Tester {w}{n},1980-01-01,Dam {n},1012 JS,Amsterdam,NL,Amsterdam,0363,1,2015-06-01,2099-12-31\n",
                resident_id(w, n)
            ));
        }
    }
    csv
}

/// What a wallet or the admin needs to reach the server.
#[derive(Clone)]
struct Target {
    base: String,
    admin_token: String,
    http: reqwest::Client,
}

/// How one batch went.
enum Batch {
    Issued(Vec<String>),
    /// The resident may no longer receive credentials (revoked).
    Denied,
    /// The server is gone (killed).
    Down,
    Unexpected(String),
}

/// Checks one step's answer: 200 goes on, a denial or an unexpected answer ends the batch.
fn step(status: u16, body: &Value, what: &str) -> Result<(), Batch> {
    match status {
        200 => Ok(()),
        400..=499 if body["error"] == "credential_request_denied" => Err(Batch::Denied),
        _ => Err(Batch::Unexpected(format!("{what}: {status} {body}"))),
    }
}

async fn one_batch(t: &Target, resident: &str, proofs: usize) -> Batch {
    match try_batch(t, resident, proofs).await {
        Ok(b) | Err(b) => b,
    }
}

async fn try_batch(t: &Target, resident: &str, proofs: usize) -> Result<Batch, Batch> {
    let http = &t.http;
    let send = |r: reqwest::RequestBuilder| async move {
        match r.send().await {
            Ok(resp) => Ok(json(resp).await),
            Err(_) => Err(Batch::Down),
        }
    };
    let (s, offer) = send(
        http.post(format!("{}/admin/api/residents/{resident}/offer", t.base))
            .bearer_auth(&t.admin_token),
    )
    .await?;
    step(s, &offer, "offer")?;
    // A body cut off by the kill reads as JSON null.
    let code = offer["credential_offer"]["grants"][civic_credential::oid4vci::PRE_AUTHORIZED_GRANT]
        ["pre-authorized_code"]
        .as_str()
        .ok_or(Batch::Down)?
        .to_owned();
    // The token bound to a fresh DPoP key, as a HAIP wallet gets it.
    let tx_code = offer["tx_code"].as_str().unwrap_or_default();
    let (s, tok) = wallet::try_token(http, &t.base, &code, Some(tx_code))
        .await
        .map_err(|_| Batch::Down)?;
    step(s, &tok, "token")?;
    let (s, n) = send(http.post(format!("{}/nonce", t.base))).await?;
    step(s, &n, "nonce")?;
    let n = n["c_nonce"].as_str().ok_or(Batch::Down)?.to_owned();
    let proofs: Vec<String> = (0..proofs)
        .map(|_| {
            wallet::proof(
                &wallet::holder_key(),
                &t.base,
                Some(&n),
                civic_testkit::now(),
            )
        })
        .collect();
    let access = tok["access_token"].as_str().ok_or(Batch::Down)?;
    let (s, body) = wallet::try_credential(http, &t.base, access, &proofs)
        .await
        .map_err(|_| Batch::Down)?;
    step(s, &body, "credential")?;
    Ok(Batch::Issued(
        body["credentials"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["credential"].as_str().map(str::to_owned))
            .collect(),
    ))
}

/// One wallet: batches of 5–10 for its residents in turn, until the server goes away.
async fn wallet_loop(t: Target, mut residents: Vec<String>, shared: Arc<Shared>) {
    let mut turn = 0;
    while !residents.is_empty() {
        let r = residents[turn % residents.len()].clone();
        let proofs = rand::thread_rng().gen_range(5..=10);
        match one_batch(&t, &r, proofs).await {
            Batch::Issued(creds) => {
                let mut issued = shared.issued.lock().expect("lock");
                for c in creds {
                    let (list, idx) = wallet::status_ref(&c);
                    issued.push(Issued {
                        resident: r.clone(),
                        list,
                        idx,
                    });
                }
                turn += 1;
            }
            Batch::Denied => {
                let revoked = shared.revoked.lock().expect("lock").contains(&r)
                    || shared.revoke_unconfirmed.lock().expect("lock").contains(&r);
                if !revoked {
                    shared
                        .errors
                        .lock()
                        .expect("lock")
                        .push(format!("{r} was denied but not revoked"));
                }
                residents.retain(|x| *x != r);
            }
            Batch::Down => return,
            Batch::Unexpected(e) => shared.errors.lock().expect("lock").push(e),
        }
    }
}

/// Fetches status list `list` as served, checks its signature against the issuer's published
/// keys, and returns its statuses.
async fn served_list(
    t: &Target,
    keys: &StaticIssuerKeys,
    list: u32,
) -> Option<civic_credential::status_list::StatusList> {
    let uri = format!("{}/status/{list}", t.base);
    let resp = t.http.get(&uri).send().await.ok()?;
    assert_eq!(resp.status(), 200, "status list {list}");
    let token = resp.text().await.ok()?;
    let jws = Jws::parse(&token).expect("status list token");
    let key = keys
        .issuer_key(&t.base, jws.kid().expect("kid"))
        .expect("status list signed with a published key");
    let parsed = StatusListToken::verify(&token, key, &uri, civic_testkit::now(), 60)
        .expect("status list token verifies");
    Some(parsed.list)
}

/// The issuer's published keys (`/.well-known/jwt-vc-issuer`); `None` if the server is gone.
async fn issuer_keys(t: &Target) -> Option<StaticIssuerKeys> {
    let resp = t
        .http
        .get(format!("{}/.well-known/jwt-vc-issuer", t.base))
        .send()
        .await
        .ok()?;
    let (s, meta) = json(resp).await;
    let keys = meta["jwks"]["keys"].as_array()?;
    assert_eq!(s, 200, "{meta}");
    let mut set = StaticIssuerKeys::new();
    for k in keys {
        let jwk: Jwk = serde_json::from_value(k.clone()).expect("jwk");
        set.insert(&t.base, &jwk).expect("key");
    }
    Some(set)
}

/// The admin, during a round: after `delay`, revokes `resident`, then checks at once that the
/// next served status lists show all of its credentials revoked.
async fn revoke_under_load(t: Target, resident: String, delay: Duration, shared: Arc<Shared>) {
    tokio::time::sleep(delay).await;
    shared
        .revoke_unconfirmed
        .lock()
        .expect("lock")
        .insert(resident.clone());
    let sent = t
        .http
        .post(format!("{}/admin/api/residents/{resident}/revoke", t.base))
        .bearer_auth(&t.admin_token)
        .send()
        .await;
    let Ok(resp) = sent else { return };
    let (s, body) = json(resp).await;
    if s != 200 {
        shared
            .errors
            .lock()
            .expect("lock")
            .push(format!("revoke {resident}: {s} {body}"));
        return;
    }
    shared
        .revoked
        .lock()
        .expect("lock")
        .insert(resident.clone());
    shared
        .revoke_unconfirmed
        .lock()
        .expect("lock")
        .remove(&resident);
    let mine: Vec<Issued> = shared
        .issued
        .lock()
        .expect("lock")
        .iter()
        .filter(|i| i.resident == resident)
        .cloned()
        .collect();
    let Some(keys) = issuer_keys(&t).await else {
        return; // killed meanwhile: checked after the restart instead
    };
    let lists: HashSet<u32> = mine.iter().map(|i| i.list).collect();
    for list in lists {
        let Some(served) = served_list(&t, &keys, list).await else {
            return; // killed meanwhile: checked after the restart instead
        };
        for i in mine.iter().filter(|i| i.list == list) {
            assert_eq!(
                served.get(u64::from(i.idx)).expect("idx in list"),
                Status::Invalid,
                "{resident} was revoked, but ({list},{}) is not revoked in the next served list",
                i.idx
            );
            *shared.revocations_seen.lock().expect("lock") += 1;
        }
    }
}

/// After a restart: nothing answered is missing, nothing is recorded twice, and the served lists
/// say valid or revoked as they should. Returns how many credentials were checked.
async fn check_after_restart(t: &Target, round: usize, shared: &Shared) -> usize {
    let mut recorded: HashMap<(u32, u32), String> = HashMap::new();
    let mut residents: Vec<String> = (0..WALLETS)
        .flat_map(|w| (0..PER_WALLET).map(move |n| resident_id(w, n)))
        .collect();
    residents.extend(["R-0001", "R-0002", "R-0003", "R-0004", "R-0005"].map(str::to_owned));
    for r in &residents {
        let (s, v) = json(
            t.http
                .get(format!("{}/admin/api/residents/{r}", t.base))
                .bearer_auth(&t.admin_token)
                .send()
                .await
                .expect("admin"),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        for c in v["credentials"].as_array().expect("credentials") {
            let at = (
                c["status_list"].as_u64().expect("list") as u32,
                c["idx"].as_u64().expect("idx") as u32,
            );
            if let Some(other) = recorded.insert(at, r.clone()) {
                panic!("round {round}: status index {at:?} recorded twice ({other} and {r})");
            }
        }
    }
    let issued = shared.issued.lock().expect("lock").clone();
    let revoked = shared.revoked.lock().expect("lock").clone();
    let mut handed_out = HashSet::new();
    for i in &issued {
        assert!(
            handed_out.insert((i.list, i.idx)),
            "round {round}: ({},{}) handed out twice",
            i.list,
            i.idx
        );
        assert_eq!(
            recorded.get(&(i.list, i.idx)),
            Some(&i.resident),
            "round {round}: the credential of {} at ({},{}) got a response but is not recorded for them",
            i.resident,
            i.list,
            i.idx
        );
    }
    let keys = issuer_keys(t).await.expect("issuer keys");
    let lists: HashSet<u32> = issued.iter().map(|i| i.list).collect();
    for list in lists {
        let served = served_list(t, &keys, list).await.expect("served list");
        for i in issued.iter().filter(|i| i.list == list) {
            let expected = if revoked.contains(&i.resident) {
                Status::Invalid
            } else {
                Status::Valid
            };
            assert_eq!(
                served.get(u64::from(i.idx)).expect("idx in list"),
                expected,
                "round {round}: ({list},{}) of {}",
                i.idx,
                i.resident
            );
        }
    }
    issued.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_under_concurrent_issuance_and_revocation_loses_nothing() {
    let seconds = env_u64("CIVIC_LOAD_SECONDS", 12).max(1) as f64;
    let kills = env_u64("CIVIC_LOAD_KILLS", 5).max(1) as usize;
    // The wallets all come from 127.0.0.1: the per-address limit of the token endpoint is for
    // one client, and this load stands for many.
    let mut t = TestIssuer::init(
        BIN,
        "status_list_size = 1024\noauth_rate_limit_per_minute = 4294967295",
    );
    let register = t.tmp.path().join("load-register.csv");
    std::fs::write(&register, load_register()).expect("register");
    t.cli(&[
        "import-register",
        civic_testkit::issuer_process::path(&register),
    ]);

    // Random round lengths that add up to `seconds`: each kill comes at a random moment.
    let weights: Vec<f64> = (0..kills)
        .map(|_| rand::thread_rng().gen_range(0.5..1.5))
        .collect();
    let total: f64 = weights.iter().sum();
    let shared = Arc::new(Shared::default());
    let mut queues: Vec<Vec<String>> = (0..WALLETS)
        .map(|w| (0..PER_WALLET).map(|n| resident_id(w, n)).collect())
        .collect();
    let (mut checked, mut issuing) = (0, 0.0);
    t.start().await;
    for (round, w) in weights.iter().enumerate() {
        let round_len = Duration::from_secs_f64(seconds * w / total);
        let target = Target {
            base: t.base.clone(),
            admin_token: t.admin_token.clone(),
            http: t.new_client(),
        };
        let wallets: Vec<_> = queues
            .iter()
            .map(|q| tokio::spawn(wallet_loop(target.clone(), q.clone(), shared.clone())))
            .collect();
        // The admin revokes the resident one wallet is busy with, while issuance runs.
        let victim = queues[round % WALLETS].remove(0);
        let delay = round_len.mul_f64(rand::thread_rng().gen_range(0.2..0.6));
        let admin = tokio::spawn(revoke_under_load(
            target.clone(),
            victim,
            delay,
            shared.clone(),
        ));
        let started = Instant::now();
        tokio::time::sleep(round_len).await;
        t.kill(); // SIGKILL, mid-flight
        issuing += started.elapsed().as_secs_f64();
        for w in wallets {
            w.await.expect("wallet");
        }
        admin.await.expect("admin");

        t.start().await;
        // A revocation the crash cut short is redone, as an operator would.
        let unconfirmed: Vec<String> = shared
            .revoke_unconfirmed
            .lock()
            .expect("lock")
            .drain()
            .collect();
        for r in unconfirmed {
            let (s, v) = t
                .admin(
                    Method::POST,
                    &format!("/admin/api/residents/{r}/revoke"),
                    None,
                )
                .await;
            assert_eq!(s, 200, "{v}");
            shared.revoked.lock().expect("lock").insert(r);
        }
        checked = check_after_restart(&target, round, &shared).await;
    }
    let errors = shared.errors.lock().expect("lock").clone();
    assert!(errors.is_empty(), "unexpected answers: {errors:?}");
    let issued = shared.issued.lock().expect("lock").clone();
    let lists: HashSet<u32> = issued.iter().map(|i| i.list).collect();
    let revoked = shared.revoked.lock().expect("lock").len();
    let seen = *shared.revocations_seen.lock().expect("lock");
    println!("load_crash_seconds: {issuing:.1}");
    println!("load_crash_kills: {kills}");
    println!("load_crash_credentials_checked: {checked}");
    println!("load_crash_status_lists: {}", lists.len());
    println!("load_crash_duplicates: 0");
    println!("load_crash_missing: 0");
    println!("load_crash_residents_revoked: {revoked}");
    println!("load_crash_revocations_seen_under_load: {seen}");
    assert!(
        issued.len() >= 20 * kills,
        "only {} credentials issued across {kills} kills",
        issued.len()
    );
    assert!(seen > 0, "no revocation was checked while issuance ran");
    assert!(lists.len() >= 2, "lists used: {lists:?}");
}
