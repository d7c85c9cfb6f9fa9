//! Issuance throughput over HTTP, against the raw signature rate measured in the same run.
//!
//! `cargo run --release -p civic-issuer --example bench_issuance -- [--seconds N] [--connections C] [--batch B]`
//!
//! 1. Raw aws-lc-rs ES256 signs and verifies per second on one thread (the baselines).
//! 2. An issuer with a sled database in a temp directory serves on 127.0.0.1. Each of C client
//!    connections loops for N seconds through what a wallet does for one batch: an offer from
//!    the counter service redeemed for an access token (tokens are single use), a nonce, and a
//!    credential request with B proofs, each with a fresh holder key. Every credential is
//!    durably recorded before its response. Any unexpected answer fails the run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

//!
//! Prints `name: value` lines. `issue_ratio_to_limit` divides the HTTP rate by the raw rate of
//! (1 verify + 1 sign) per core times the cores, which is what one credential costs at least.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vci::{build_proof, PRE_AUTHORIZED_GRANT};
use civic_issuer::config::Config;
use civic_issuer::keys::KeyRing;
use civic_issuer::store::{AdminToken, SledStore, Store};
use civic_issuer::Issuer;
use serde_json::{json, Value};

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now() -> i64 {
    civic_service::Clock::now(&civic_service::SystemClock)
}

/// Operations per second of `op` on this thread, over about `secs` seconds.
fn rate(secs: f64, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..64 {
            op();
        }
        n += 64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn raw_rates() -> (f64, f64) {
    let key = SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
    let vk = key.verifying_key().expect("vk");
    let msg = vec![0x5au8; 1200];
    let sig = civic_credential::crypto::JwsSigner::sign(&key, &msg).expect("sign");
    let sign = rate(1.5, || {
        let _ = civic_credential::crypto::JwsSigner::sign(&key, &msg);
    });
    let verify = rate(1.5, || {
        let _ = vk.verify(Algorithm::Es256, &msg, &sig);
    });
    (sign, verify)
}

async fn post_json(
    http: &reqwest::Client,
    url: String,
    bearer: &str,
    body: Option<Value>,
) -> Option<Value> {
    let mut req = http.post(url).bearer_auth(bearer);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.ok()?;
    if !resp.status().is_success() {
        eprintln!(
            "unexpected {}: {}",
            resp.status(),
            resp.text().await.unwrap_or_default()
        );
        return None;
    }
    resp.json().await.ok()
}

/// An offer from the counter service for `resident`, redeemed for a (single-use) access token.
async fn access_token(
    http: &reqwest::Client,
    base: &str,
    admin: &str,
    resident: &str,
) -> Option<String> {
    let offer = post_json(
        http,
        format!("{base}/admin/api/residents/{resident}/offer"),
        admin,
        None,
    )
    .await?;
    let code = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tx_code = offer["tx_code"].as_str().unwrap_or_default();
    let resp = http
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", &code),
            ("tx_code", tx_code),
        ])
        .send()
        .await
        .ok()?;
    if !resp.status().is_success() {
        eprintln!("unexpected {} from /token", resp.status());
        return None;
    }
    let tok = resp.json::<Value>().await.ok()?;
    tok["access_token"].as_str().map(str::to_owned)
}

/// One wallet connection: batches until `until` (counted from `start_at`). Returns false if an
/// answer was not what a wallet expects.
async fn client(
    base: String,
    admin: String,
    resident: &'static str,
    batch: usize,
    (start_at, until): (Instant, Instant),
    issued: Arc<AtomicU64>,
) -> bool {
    let port = base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .expect("client");
    while Instant::now() < start_at {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    while Instant::now() < until {
        let Some(access) = access_token(&http, &base, &admin, resident).await else {
            return false;
        };
        let Some(n) = post_json(&http, format!("{base}/nonce"), "", None).await else {
            return false;
        };
        let nonce = n["c_nonce"].as_str().unwrap_or_default().to_owned();
        let proofs: Vec<String> = (0..batch)
            .map(|_| {
                let k =
                    SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key");
                build_proof(&k, k.public_jwk(), &base, Some(&nonce), now()).expect("proof")
            })
            .collect();
        let body = json!({ "credential_configuration_id": "residency_sd_jwt", "proofs": { "jwt": proofs } });
        let Some(resp) = post_json(&http, format!("{base}/credential"), &access, Some(body)).await
        else {
            return false;
        };
        let got = resp["credentials"].as_array().map_or(0, Vec::len);
        if got != batch {
            eprintln!("a batch of {got} credentials for {batch} proofs");
            return false;
        }
        issued.fetch_add(got as u64, Ordering::Relaxed);
    }
    true
}

fn main() -> anyhow::Result<()> {
    let seconds = arg("--seconds", 10);
    let connections = arg("--connections", 2) as usize;
    let batch = arg("--batch", 10) as usize;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;

    let (sign, verify) = raw_rates();
    let per_core = 1.0 / (1.0 / verify + 1.0 / sign);

    let tmp = tempfile::tempdir()?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let base = format!("http://localhost:{port}");
    let mut config = Config::new(&base)?;
    config.status_list_size = 1 << 20;
    config.rate_limit_per_minute = u32::MAX;
    config.save(tmp.path())?;
    let keys = KeyRing::create(tmp.path(), false, now())?;
    let store = Arc::new(SledStore::open(
        &tmp.path().join("db"),
        civic_storage::Options::default(),
    )?);
    let admin = "bench-admin-token".to_owned();
    store.put_admin_token(&AdminToken {
        hash_hex: civic_issuer::secrets::hash_hex(&admin),
        name: "bench".into(),
        created: now(),
    })?;
    let issuer = Issuer::assemble(config, keys, store, civic_service::SystemClock::shared())?;
    let register = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/register.csv"))?;
    issuer
        .register
        .import(std::io::Cursor::new(&register[..]), 0, Default::default())?;
    let issuer = Arc::new(issuer);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let issued = Arc::new(AtomicU64::new(0));
    let elapsed = rt.block_on(async {
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = civic_issuer::http::router(issuer.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        // Warm up, then measure.
        let warm = Instant::now();
        let warmed = client(
            base.clone(),
            admin.clone(),
            "D-0001",
            batch,
            (warm, warm + Duration::from_millis(500)),
            Arc::new(AtomicU64::new(0)),
        )
        .await;
        anyhow::ensure!(warmed, "the warm-up batch failed");
        let start = Instant::now() + Duration::from_millis(500);
        let until = start + Duration::from_secs(seconds);
        let residents = ["D-0001", "D-0003", "D-0004", "D-0005", "D-0007", "D-0008"];
        let tasks: Vec<_> = (0..connections)
            .map(|i| {
                tokio::spawn(client(
                    base.clone(),
                    admin.clone(),
                    residents[i % residents.len()],
                    batch,
                    (start, until),
                    issued.clone(),
                ))
            })
            .collect();
        for t in tasks {
            anyhow::ensure!(t.await?, "a client got an unexpected answer");
        }
        anyhow::Ok((Instant::now() - start).as_secs_f64())
    })?;
    let issue_rate = issued.load(Ordering::Relaxed) as f64 / elapsed;
    // This run's own baselines (the verification bench prints the headline ones).
    println!("issue_es256_sign_per_s: {sign:.0}");
    println!("issue_es256_verify_per_s: {verify:.0}");
    println!("cores: {cores}");
    println!("issue_limit_per_s: {:.0}", per_core * cores);
    println!("issue_http_per_s: {issue_rate:.0}");
    println!(
        "issue_ratio_to_limit: {:.3}",
        issue_rate / (per_core * cores)
    );
    println!("issue_batch_size: {batch}");
    println!("issue_connections: {connections}");
    Ok(())
}
