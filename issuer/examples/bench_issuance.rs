//! Issuance throughput over HTTP, against the raw signature rate measured in the same run.
//!
//! `cargo run --release -p civic-issuer --example bench_issuance -- [--seconds N] [--connections C] [--batch B] [--postgres [--instances 2]] [--dpop-only]`
//!
//! 1. Raw aws-lc-rs ES256 signs and verifies per second on one thread (the baselines).
//! 2. An issuer with a sled database in a temp directory serves on 127.0.0.1. Each of C client
//!    connections loops for N seconds through what a wallet does for one batch: an offer from
//!    the counter service redeemed for an access token (tokens are single use), a nonce, and a
//!    credential request with B proofs, each with a fresh holder key. Every credential is
//!    durably recorded before its response. Any unexpected answer fails the run.
//!    With `--postgres` the store is a throwaway PostgreSQL cluster on loopback instead (every
//!    commit durable, `synchronous_commit = on`), and with `--instances 2` two issuer instances
//!    (each with its own connection pool and caches, the same keys) serve it on two ports,
//!    the connections spread over them as a load balancer would. Both instances share this
//!    process's cores: the second one shows what sharing the database costs, not more CPU.
//! 3. The same twice in one run (once with `--dpop-only`): with Bearer tokens (`allow_bearer_tokens`, no proofs) and with
//!    DPoP (RFC 9449, the default). Each batch is a new wallet: a fresh DPoP key, no nonce yet,
//!    so its token request is sent back once for the issuer's `DPoP-Nonce` (one more round
//!    trip), and the credential request carries a second proof.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

//!
//! Prints `name: value` lines. `issue_ratio_to_limit` divides the HTTP rate by the raw rate of
//! (1 verify + 1 sign) per core times the cores, which is what one credential costs at least.
//! The wallets run in this process on the same cores, so the HTTP rate also pays for their keys
//! and proofs. `issue_server_capacity_*` keeps that out: the server runs on threads of its own
//! name, and the CPU time they (and any PostgreSQL process) used in the timed part, per
//! credential, gives what the server alone could issue on every core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use civic_credential::crypto::{Algorithm, SigningKey};
use civic_credential::oid4vci::{build_proof, PRE_AUTHORIZED_GRANT};
use civic_issuer::config::Config;
use civic_issuer::keys::KeyRing;
use civic_issuer::store::{AdminToken, PgStore, SledStore, Store};
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

/// How a wallet connection presents its tokens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Binding {
    Bearer,
    Dpop,
}

/// A wallet's DPoP key and the issuer's latest nonce.
struct Dpop {
    key: SigningKey,
    nonce: Option<String>,
}

impl Dpop {
    fn proof(&self, url: &str, token: Option<&str>) -> String {
        let jti = civic_credential::encoding::b64_encode(&rand::random::<[u8; 16]>());
        civic_credential::dpop::proof(
            &self.key,
            self.key.public_jwk(),
            &civic_credential::dpop::ProofClaims {
                htm: "POST",
                htu: url,
                iat: now(),
                jti: &jti,
                nonce: self.nonce.as_deref(),
                access_token: token,
            },
        )
        .expect("proof")
    }
}

/// POSTs `build`'s request (with `bearer` as a Bearer token, or `dpop`'s proof and the token)
/// and reads the JSON answer; with DPoP, once more with the issuer's nonce when it asks.
async fn post_json(
    http: &reqwest::Client,
    url: String,
    bearer: &str,
    dpop: Option<&mut Dpop>,
    build: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
) -> Option<Value> {
    let Some(dpop) = dpop else {
        let mut req = http.post(&url);
        if !bearer.is_empty() {
            req = req.bearer_auth(bearer);
        }
        return answer(build(req).send().await.ok()?).await;
    };
    let token = (!bearer.is_empty()).then_some(bearer);
    for _ in 0..2 {
        let mut req = http.post(&url).header("DPoP", dpop.proof(&url, token));
        if let Some(t) = token {
            req = req.header("Authorization", format!("DPoP {t}"));
        }
        let resp = build(req).send().await.ok()?;
        if let Some(n) = resp
            .headers()
            .get(civic_credential::dpop::DPOP_NONCE)
            .and_then(|v| v.to_str().ok())
        {
            dpop.nonce = Some(n.to_owned());
        }
        if resp.status().is_success() {
            return resp.json().await.ok();
        }
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or_default();
        if body["error"] != "use_dpop_nonce" {
            eprintln!("unexpected {status}: {body}");
            return None;
        }
    }
    eprintln!("sent back for a DPoP nonce twice");
    None
}

async fn answer(resp: reqwest::Response) -> Option<Value> {
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
    dpop: Option<&mut Dpop>,
) -> Option<String> {
    let offer = post_json(
        http,
        format!("{base}/admin/api/residents/{resident}/offer"),
        admin,
        None,
        |r| r,
    )
    .await?;
    let code = offer["credential_offer"]["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let tx_code = offer["tx_code"].as_str().unwrap_or_default().to_owned();
    let form = [
        ("grant_type", PRE_AUTHORIZED_GRANT.to_owned()),
        ("pre-authorized_code", code),
        ("tx_code", tx_code),
    ];
    let tok = post_json(http, format!("{base}/token"), "", dpop, |r| r.form(&form)).await?;
    tok["access_token"].as_str().map(str::to_owned)
}

/// One wallet connection: batches until `until` (counted from `start_at`). Returns false if an
/// answer was not what a wallet expects.
async fn client(
    (base, port): (String, u16),
    admin: String,
    (resident, binding): (&'static str, Binding),
    batch: usize,
    (start_at, until): (Instant, Instant),
    issued: Arc<AtomicU64>,
) -> bool {
    // Every request to the public URL goes to this instance's port, as a balancer sends it.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).expect("proxy"))
        .build()
        .expect("client");
    while Instant::now() < start_at {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    while Instant::now() < until {
        // A new wallet for each batch: a fresh DPoP key, and no nonce yet.
        let mut dpop = (binding == Binding::Dpop).then(|| Dpop {
            key: SigningKey::generate(Algorithm::Es256, &mut rand::rngs::OsRng).expect("key"),
            nonce: None,
        });
        let Some(access) = access_token(&http, &base, &admin, resident, dpop.as_mut()).await else {
            return false;
        };
        let Some(n) = post_json(&http, format!("{base}/nonce"), "", None, |r| r).await else {
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
        let url = format!("{base}/credential");
        let Some(resp) = post_json(&http, url, &access, dpop.as_mut(), |r| r.json(&body)).await
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
    let postgres = std::env::args().any(|a| a == "--postgres");
    let dpop_only = std::env::args().any(|a| a == "--dpop-only");
    let instances = arg("--instances", 1).clamp(1, 2) as usize;
    anyhow::ensure!(
        postgres || instances == 1,
        "several instances need --postgres (sled is one process per database)"
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;

    let (sign, verify) = raw_rates();
    let per_core = 1.0 / (1.0 / verify + 1.0 / sign);

    let tmp = tempfile::tempdir()?;
    let listeners = (0..instances)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()?;
    let ports = listeners
        .iter()
        .map(|l| Ok(l.local_addr()?.port()))
        .collect::<std::io::Result<Vec<u16>>>()?;
    let base = format!("http://localhost:{}", ports[0]);
    let mut config = Config::new(&base)?;
    config.status_list_size = 1 << 20;
    config.rate_limit_per_minute = u32::MAX;
    config.oauth_rate_limit_per_minute = u32::MAX;
    config.database_max_connections = 32;
    // Both kinds of wallet in one run: Bearer (no proof) and DPoP.
    config.allow_bearer_tokens = true;
    let cluster = postgres.then(civic_storage::pg_cluster::TestCluster::start);
    config.database = cluster.as_ref().map(|c| c.url());
    config.save(tmp.path())?;
    KeyRing::create(tmp.path(), false, now())?;
    let open_store = || -> anyhow::Result<Arc<dyn Store>> {
        Ok(match &config.database {
            Some(url) => Arc::new(PgStore::open(
                url,
                &civic_storage::postgres::PgOptions {
                    max_connections: config.database_max_connections,
                    ..Default::default()
                },
            )?),
            None => Arc::new(SledStore::open(
                &tmp.path().join("db"),
                civic_storage::Options::default(),
            )?),
        })
    };
    let admin = "bench-admin-token".to_owned();
    let mut issuers = Vec::new();
    for i in 0..instances {
        let store = open_store()?;
        if i == 0 {
            store.put_admin_token(&AdminToken {
                hash_hex: civic_issuer::secrets::hash_hex(&admin),
                name: "bench".into(),
                created: now(),
            })?;
        }
        let keys = KeyRing::load(tmp.path())?;
        let issuer = Issuer::assemble(
            config.clone(),
            keys,
            store,
            civic_service::SystemClock::shared(),
        )?;
        if i == 0 {
            let register =
                std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/register.csv"))?;
            issuer
                .register
                .import(std::io::Cursor::new(&register[..]), 0, Default::default())?;
        }
        issuers.push(Arc::new(issuer));
    }

    // The server on a runtime of its own, its threads named so their CPU time can be told from
    // the wallets' (`civic_testkit::cpu`); the wallets on another.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name(civic_testkit::cpu::SERVER_THREADS)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()?;
    for (listener, issuer) in listeners.into_iter().zip(&issuers) {
        let _in = server_rt.enter();
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let app = civic_issuer::http::router(issuer.clone());
        server_rt.spawn(async move { axum::serve(listener, app).await });
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .thread_name("bench-wallets")
        .enable_all()
        .build()?;
    let postmaster = cluster.as_ref().and_then(|c| c.postmaster_pid());
    let rates = rt.block_on(async {
        let mut rates = Vec::new();
        let phases: &[Binding] = if dpop_only {
            &[Binding::Dpop]
        } else {
            &[Binding::Bearer, Binding::Dpop]
        };
        for binding in phases {
            rates.push(
                measure(
                    &base,
                    &ports,
                    &admin,
                    *binding,
                    (seconds, connections, batch),
                    postmaster,
                )
                .await?,
            );
        }
        anyhow::Ok(rates)
    })?;
    let limit = per_core * cores;
    let backend = if postgres { "postgres" } else { "sled" };
    // This run's own baselines (the verification bench prints the headline ones).
    println!("issue_backend: {backend}");
    println!("issue_instances: {instances}");
    println!("issue_es256_sign_per_s: {sign:.0}");
    println!("issue_es256_verify_per_s: {verify:.0}");
    println!("cores: {cores}");
    println!("issue_limit_per_s: {limit:.0}");
    let (dpop, server_cpu) = rates.last().copied().unwrap_or_default();
    println!("issue_http_per_s: {dpop:.0}");
    println!("issue_ratio_to_limit: {:.3}", dpop / limit);
    // What the server's own CPU time allows on every core: the wallets' work (keys, proofs,
    // HTTP client) is left out, the database's (PostgreSQL processes) counted in.
    println!(
        "issue_server_cpu_ms_per_credential: {:.3}",
        server_cpu * 1000.0
    );
    let capacity = cores / server_cpu;
    println!("issue_server_capacity_per_s: {capacity:.0}");
    println!(
        "issue_server_capacity_ratio_to_limit: {:.3}",
        capacity / limit
    );
    if let [(bearer, _), _] = rates[..] {
        println!("issue_bearer_http_per_s: {bearer:.0}");
        println!("issue_bearer_ratio_to_limit: {:.3}", bearer / limit);
        println!("issue_dpop_to_bearer_ratio: {:.3}", dpop / bearer);
    }
    println!("issue_batch_size: {batch}");
    println!("issue_connections: {connections}");
    drop(rt);
    server_rt.shutdown_background();
    drop(issuers);
    drop(cluster);
    Ok(())
}

/// Credentials per second over HTTP with tokens presented as `binding` says: a warm-up, then
/// `connections` wallets for `seconds`.
async fn measure(
    base: &str,
    ports: &[u16],
    admin: &str,
    binding: Binding,
    (seconds, connections, batch): (u64, usize, usize),
    postmaster: Option<u32>,
) -> anyhow::Result<(f64, f64)> {
    let warm = Instant::now();
    let warmed = client(
        (base.to_owned(), ports[0]),
        admin.to_owned(),
        ("D-0001", binding),
        batch,
        (warm, warm + Duration::from_millis(500)),
        Arc::new(AtomicU64::new(0)),
    )
    .await;
    anyhow::ensure!(warmed, "the warm-up batch failed");
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(500);
    let cpu_before = civic_testkit::cpu::server_cpu_seconds(postmaster);
    let until = start + Duration::from_secs(seconds);
    let residents = ["D-0001", "D-0003", "D-0004", "D-0005", "D-0007", "D-0008"];
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            tokio::spawn(client(
                (base.to_owned(), ports[i % ports.len()]),
                admin.to_owned(),
                (residents[i % residents.len()], binding),
                batch,
                (start, until),
                issued.clone(),
            ))
        })
        .collect();
    for t in tasks {
        anyhow::ensure!(t.await?, "a client got an unexpected answer");
    }
    let elapsed = (Instant::now() - start).as_secs_f64();
    let server_cpu = civic_testkit::cpu::server_cpu_seconds(postmaster) - cpu_before;
    let n = issued.load(Ordering::Relaxed) as f64;
    anyhow::ensure!(n > 0.0, "nothing was issued");
    Ok((n / elapsed, server_cpu / n))
}
