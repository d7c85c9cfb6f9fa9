//! Load test of the verifier service, all on 127.0.0.1, bounded in time.
//!
//! `cargo run --release -p civic-e2e --bin load_verifier -- [--seconds N] [--connections C]`
//!
//! A real issuer and a real verifier service run in this process (the e2e harness). A pool of
//! credentials is obtained once from the issuer over OID4VCI (a batch per resident, several adult
//! residents). Then C workers, each with its own keep-alive connection, loop for N seconds:
//!
//! 1. the platform creates a session (`POST /v1/sessions` with its API key);
//! 2. the wallet fetches the request object, builds a presentation with
//!    `civic_credential::sd_jwt_vc::present` and the holder key, and posts it to the response URI;
//! 3. the platform reads the result (`GET /v1/sessions/{id}`).
//!
//! Of every 16 answers, 12 are valid and 4 are not: a KB-JWT with a wrong nonce, a tampered
//! disclosure (re-bound, so only the disclosure rule breaks), a KB-JWT for another audience, and
//! a replay of an already-used response to its (finished) session. Every answer is checked: a valid
//! one must make the session `complete`, eligible, with the resident's pairwise pseudonym; each
//! invalid one must get a 400 `invalid_request` naming the broken rule, and leave the session
//! `rejected` with that rule (a replay leaves the first result untouched).
//!
//! Prints `name: value` lines on stdout; exits non-zero on any 5xx, transport error or wrong answer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use civic_credential::crypto::SigningKey;
use civic_credential::did_web::{self, DidDocument};
use civic_credential::encoding::b64_encode;
use civic_credential::oid4vp::{AuthorizationRequest, RequestLink, DID_PREFIX, DIRECT_POST_JWT};
use civic_credential::sd_jwt::Disclosure;
use civic_credential::{key_binding, pseudonym, sd_jwt_vc};
use civic_testkit::now;
use civic_testkit::services::{start_issuer, start_verifier, IssuerSetup, BUDGET_KEY};

/// Adults of the demo register living in municipality 0363: eligible for the `vote` policy.
const RESIDENTS: [&str; 8] = [
    "D-0001", "D-0003", "D-0004", "D-0005", "D-0007", "D-0008", "D-0010", "D-0011",
];
/// Credentials per resident (one OID4VCI batch).
const BATCH: usize = 10;

/// One credential of the pool, with its holder key and the pseudonym the budget platform must see.
struct Held {
    credential: String,
    holder: SigningKey,
    pseudonym: String,
}

/// What an answer is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Valid,
    WrongNonce,
    TamperedDisclosure,
    WrongAud,
    Replay,
}

impl Kind {
    /// 12 of 16 valid, then one of each invalid kind.
    fn of(n: u64) -> Kind {
        match n % 16 {
            3 => Kind::WrongNonce,
            7 => Kind::TamperedDisclosure,
            11 => Kind::WrongAud,
            15 => Kind::Replay,
            _ => Kind::Valid,
        }
    }

    /// The rule name the verifier must give.
    fn rule(self) -> &'static str {
        match self {
            Kind::Valid => "",
            Kind::WrongNonce => "key_binding_nonce",
            Kind::TamperedDisclosure => "unreferenced_disclosure",
            Kind::WrongAud => "key_binding_audience",
            Kind::Replay => "replay",
        }
    }
}

/// Counters shared by the workers.
#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    server_errors: AtomicU64,
    transport_errors: AtomicU64,
    wrong: AtomicU64,
    valid_sessions: AtomicU64,
    invalid_answers: AtomicU64,
    next_kind: AtomicU64,
}

/// Per-worker latencies, in microseconds.
#[derive(Default)]
struct Latencies {
    round_trip: Vec<u32>,
    post: Vec<u32>,
}

/// A finished valid answer, kept to replay it.
struct Answered {
    session_id: String,
    response_uri: String,
    form: Vec<(String, String)>,
    pseudonym: String,
}

/// A worker's view: its connection, the service, the pool and the counters.
struct Worker {
    http: reqwest::Client,
    base: String,
    pool: Arc<Vec<Held>>,
    counters: Arc<Counters>,
    last: Option<Answered>,
    lat: Latencies,
    first_errors: Arc<std::sync::Mutex<Vec<String>>>,
    /// The platform's DID document, resolved once (as a wallet with an HTTP cache would).
    did_document: Option<DidDocument>,
}

/// The port of `http://host:PORT`.
fn port_of(base: &str) -> u16 {
    base.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} needs a number, got {v:?}"))
        })
        .unwrap_or(default)
}

fn micros(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_micros()).unwrap_or(u32::MAX)
}

impl Worker {
    /// Verifies request object `jwt` of `link`: signed with a key of the client's DID document
    /// (`decentralized_identifier:`), or unsigned for a `redirect_uri:` client.
    async fn read_request(
        &mut self,
        link: &RequestLink,
        jwt: &str,
    ) -> Result<AuthorizationRequest, String> {
        let Some(did) = link.client_id.strip_prefix(DID_PREFIX) else {
            return AuthorizationRequest::from_jwt(jwt, None).map_err(|e| format!("request: {e}"));
        };
        if self.did_document.as_ref().map(|d| d.id.as_str()) != Some(did) {
            let url = did_web::resolution_url(did, true).map_err(|e| format!("did:web: {e}"))?;
            let (s, body) = self.send_json(self.http.get(url)).await?;
            if s != 200 {
                return Err(format!("resolving {did} gave {s}"));
            }
            let doc = DidDocument::parse(&body, did).map_err(|e| format!("DID document: {e}"))?;
            self.did_document = Some(doc);
        }
        let doc = self.did_document.as_ref().ok_or("no DID document")?;
        AuthorizationRequest::from_jwt_with_did_document(jwt, doc)
            .map_err(|e| format!("request: {e}"))
    }

    /// Sends a request, counting it; `Err` on a transport failure.
    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, String), String> {
        self.counters.requests.fetch_add(1, Ordering::Relaxed);
        let resp = req.send().await.map_err(|e| {
            self.counters
                .transport_errors
                .fetch_add(1, Ordering::Relaxed);
            format!("transport: {e}")
        })?;
        let status = resp.status().as_u16();
        if status >= 500 {
            self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
        }
        let text = resp.text().await.map_err(|e| {
            self.counters
                .transport_errors
                .fetch_add(1, Ordering::Relaxed);
            format!("transport (body): {e}")
        })?;
        Ok((status, text))
    }

    async fn send_json(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), String> {
        let (s, text) = self.send(req).await?;
        Ok((s, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Reads the session as the platform and checks it against what `kind` must have produced.
    async fn check_result(&self, id: &str, kind: Kind, pseudonym: &str) -> Result<(), String> {
        let (s, r) = self
            .send_json(
                self.http
                    .get(format!("{}/v1/sessions/{id}", self.base))
                    .bearer_auth(BUDGET_KEY),
            )
            .await?;
        if s != 200 {
            return Err(format!("{kind:?}: reading the result gave {s}: {r}"));
        }
        match kind {
            Kind::Valid | Kind::Replay => {
                let e = &r["eligibility"];
                if r["status"] != "complete" || e["eligible"] != true || e["pseudonym"] != pseudonym
                {
                    return Err(format!(
                        "{kind:?}: expected complete, eligible, pseudonym {pseudonym}: {r}"
                    ));
                }
            }
            _ => {
                if r["status"] != "rejected" || r["rejection"]["rule"] != kind.rule() {
                    return Err(format!(
                        "{kind:?}: expected rejected by {}: {r}",
                        kind.rule()
                    ));
                }
            }
        }
        Ok(())
    }

    /// The presentation for `kind`, from credential `held`.
    fn vp_token(held: &Held, req: &AuthorizationRequest, kind: Kind) -> String {
        let paths = req.dcql_query.credentials[0].requested_paths();
        let (mut aud, mut nonce) = (req.client_id.clone(), req.nonce.clone());
        match kind {
            Kind::WrongNonce => nonce.push_str("-other"),
            Kind::WrongAud => aud = "https://other-verifier.example".into(),
            _ => {}
        }
        let p = if kind == Kind::TamperedDisclosure {
            // Change the value inside one disclosure, then bind the altered presentation again:
            // the KB-JWT is fine, the disclosure's digest is not in the credential.
            let plain =
                sd_jwt_vc::present(&held.credential, &paths, None).expect("present, unbound");
            let mut parts: Vec<String> = plain.split('~').map(str::to_owned).collect();
            let d = Disclosure::parse(&parts[1]).expect("disclosure");
            let value = match d.value {
                Value::String(s) => json!(format!("{s}0")),
                Value::Bool(b) => json!(!b),
                _ => json!("tampered"),
            };
            let array = match &d.name {
                Some(n) => json!([d.salt, n, value]),
                None => json!([d.salt, value]),
            };
            parts[1] = b64_encode(array.to_string().as_bytes());
            key_binding::bind(&parts.join("~"), &aud, &nonce, now(), &held.holder)
                .expect("bind tampered")
        } else {
            sd_jwt_vc::present(
                &held.credential,
                &paths,
                Some((&held.holder, &aud, &nonce, now())),
            )
            .expect("present")
        };
        json!({ "residency": [p] }).to_string()
    }

    /// Posts a `direct_post` response and checks the answer; returns its latency.
    async fn post_response(
        &mut self,
        uri: &str,
        form: &[(String, String)],
        kind: Kind,
    ) -> Result<(), String> {
        let t = Instant::now();
        let (s, body) = self.send_json(self.http.post(uri).form(form)).await?;
        self.lat.post.push(micros(t));
        let description = body["error_description"].as_str().unwrap_or_default();
        let ok = match kind {
            Kind::Valid => s == 200,
            Kind::Replay => {
                s == 400 && body["error"] == "invalid_request" && description.contains("replay")
            }
            _ => {
                s == 400
                    && body["error"] == "invalid_request"
                    && description.starts_with(kind.rule())
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{kind:?}: the response post got {s}: {body}"))
        }
    }

    /// One session (or, for a replay, one re-post of the last valid answer).
    async fn one(&mut self, kind: Kind) -> Result<(), String> {
        // With nothing answered yet on this connection, a replay turns into a valid answer.
        let kind = match (kind, self.last.take()) {
            (Kind::Replay, Some(last)) => {
                self.post_response(&last.response_uri, &last.form, kind)
                    .await?;
                self.check_result(&last.session_id, kind, &last.pseudonym)
                    .await?;
                self.counters
                    .invalid_answers
                    .fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
            (Kind::Replay, None) => Kind::Valid,
            (k, last) => {
                self.last = last;
                k
            }
        };
        let start = Instant::now();
        let (s, created) = self
            .send_json(
                self.http
                    .post(format!("{}/v1/sessions", self.base))
                    .bearer_auth(BUDGET_KEY)
                    .json(&json!({ "policy": "vote" })),
            )
            .await?;
        if s != 200 {
            return Err(format!("creating a session gave {s}: {created}"));
        }
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let link = RequestLink::parse(created["openid4vp_url"].as_str().unwrap_or_default())
            .map_err(|e| format!("link: {e}"))?;
        let (s, jwt) = self.send(self.http.get(&link.request_uri)).await?;
        if s != 200 {
            return Err(format!("fetching the request object gave {s}: {jwt}"));
        }
        let req = self.read_request(&link, &jwt).await?;
        let n = self.counters.requests.load(Ordering::Relaxed) as usize;
        let pool = self.pool.clone();
        let held = &pool[n % pool.len()];
        let vp_token = Self::vp_token(held, &req, kind);
        let state = req.state.clone().unwrap_or_default();
        // Sealed to the session's key when it asks (the verifier service's default), as a
        // wallet answers: the load includes the decryption.
        let form = if req.response_mode == DIRECT_POST_JWT {
            let sealed = civic_testkit::wallet::seal(
                &req,
                &[("vp_token", vp_token.as_str()), ("state", state.as_str())],
            );
            vec![("response".to_owned(), sealed)]
        } else {
            vec![
                ("vp_token".to_owned(), vp_token),
                ("state".to_owned(), state),
            ]
        };
        self.post_response(&req.response_uri, &form, kind).await?;
        self.check_result(&id, kind, &held.pseudonym).await?;
        self.lat.round_trip.push(micros(start));
        if kind == Kind::Valid {
            self.counters.valid_sessions.fetch_add(1, Ordering::Relaxed);
            self.last = Some(Answered {
                session_id: id,
                response_uri: req.response_uri,
                form,
                pseudonym: held.pseudonym.clone(),
            });
        } else {
            self.counters
                .invalid_answers
                .fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Runs sessions until `deadline`.
    async fn run(mut self, deadline: Instant) -> Latencies {
        while Instant::now() < deadline {
            let kind = Kind::of(self.counters.next_kind.fetch_add(1, Ordering::Relaxed));
            if let Err(e) = self.one(kind).await {
                self.counters.wrong.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut first) = self.first_errors.lock() {
                    if first.len() < 10 {
                        first.push(e);
                    }
                }
            }
        }
        self.lat
    }
}

/// The `q`-quantile of sorted microseconds, in milliseconds.
fn percentile_ms(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted[i.min(sorted.len() - 1)]) / 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let seconds = arg("--seconds", 60);
    let connections = arg("--connections", 64).max(1) as usize;
    let postgres = std::env::args().any(|a| a == "--postgres");
    let instances = arg("--instances", 1).clamp(1, 2) as usize;
    assert!(
        postgres || instances == 1,
        "several instances need --postgres (sled is one process per database)"
    );
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("issuer")).expect("dir");
    // Sessions in sled in the temp directory, or in a throwaway PostgreSQL cluster shared by
    // `instances` service instances behind one public URL.
    let cluster = postgres.then(civic_storage::pg_cluster::TestCluster::start);
    let extra = cluster
        .as_ref()
        .map(|c| format!("database = \"{}\"", c.url()))
        .unwrap_or_default();
    // The services on a runtime of their own, its threads named so that their CPU time can be
    // told from the wallets' (`civic_testkit::cpu`).
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(civic_testkit::cpu::SERVER_THREADS)
        .thread_keep_alive(Duration::from_secs(3600))
        .enable_all()
        .build()
        .expect("server runtime");
    // Serves until the process ends (an async `main` may not drop a runtime).
    let server_rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(server_rt));
    let dir = tmp.path().to_owned();
    let (issuer, verifier, replicas) = server_rt
        .spawn(async move {
            let issuer = start_issuer(&dir.join("issuer"), IssuerSetup::default()).await;
            let verifier = start_verifier(&dir, &issuer, &extra).await;
            let mut replicas = Vec::new();
            if instances == 2 {
                replicas.push(civic_testkit::services::start_verifier_replica(&verifier).await);
            }
            (issuer, verifier, replicas)
        })
        .await
        .expect("services");
    let mut ports = vec![port_of(&verifier.base)];
    ports.extend(replicas.iter().map(|r| r.http_port));

    // The pool: one batch per resident, from the real issuer over OID4VCI.
    let secret = issuer
        .issuer
        .context
        .keys()
        .expect("keys")
        .pseudonym_secret()
        .to_vec();
    let mut pool = Vec::new();
    for r in RESIDENTS {
        let expected = pseudonym::pairwise_pseudonym(&secret, &verifier.budget, r);
        for copy in issuer.credentials(r, BATCH).await {
            let (credential, holder) = (copy.issued, copy.holder);
            pool.push(Held {
                credential,
                holder,
                pseudonym: expected.clone(),
            });
        }
    }
    assert_eq!(pool.len(), RESIDENTS.len() * BATCH, "credential pool");
    eprintln!(
        "load_verifier: {} credentials of {} residents; {connections} connections for {seconds}s",
        pool.len(),
        RESIDENTS.len()
    );
    let pool = Arc::new(pool);
    let counters = Arc::new(Counters::default());
    let first_errors = Arc::default();

    let postmaster = cluster.as_ref().and_then(|c| c.postmaster_pid());
    let start = Instant::now();
    let cpu_before = civic_testkit::cpu::server_cpu_seconds(postmaster);
    let deadline = start + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|i| {
            // Worker i talks to instance i mod instances, as a balancer would spread them.
            let port = ports[i % ports.len()];
            let w = Worker {
                http: reqwest::Client::builder()
                    .proxy(reqwest::Proxy::http(format!("http://127.0.0.1:{port}")).expect("proxy"))
                    .pool_max_idle_per_host(1)
                    .timeout(Duration::from_secs(30))
                    .build()
                    .expect("client"),
                base: verifier.base.clone(),
                pool: pool.clone(),
                counters: counters.clone(),
                last: None,
                lat: Latencies::default(),
                first_errors: Arc::clone(&first_errors),
                did_document: None,
            };
            tokio::spawn(w.run(deadline))
        })
        .collect();
    // Each worker stops at the deadline after its current session (requests time out at 30 s).
    let mut all = Latencies::default();
    let joined = tokio::time::timeout(Duration::from_secs(seconds + 90), async {
        for w in workers {
            let l = w.await.expect("worker");
            all.round_trip.extend(l.round_trip);
            all.post.extend(l.post);
        }
    })
    .await;
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = civic_testkit::cpu::server_cpu_seconds(postmaster) - cpu_before;
    if joined.is_err() {
        eprintln!("load_verifier: workers did not stop in time");
        return std::process::ExitCode::FAILURE;
    }
    all.round_trip.sort_unstable();
    all.post.sort_unstable();
    let c = &counters;
    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let valid = get(&c.valid_sessions);
    println!(
        "load_verifier_backend: {}",
        if postgres { "postgres" } else { "sled" }
    );
    println!("load_verifier_instances: {instances}");
    println!("load_verifier_seconds: {elapsed:.1}");
    println!("load_verifier_connections: {connections}");
    println!("load_verifier_requests: {}", get(&c.requests));
    println!("load_verifier_valid_sessions: {valid}");
    println!("load_verifier_invalid_answers: {}", get(&c.invalid_answers));
    println!("load_verifier_5xx: {}", get(&c.server_errors));
    println!(
        "load_verifier_transport_errors: {}",
        get(&c.transport_errors)
    );
    println!("load_verifier_wrong_answers: {}", get(&c.wrong));
    println!(
        "load_verifier_p50_ms: {:.1}",
        percentile_ms(&all.round_trip, 0.50)
    );
    println!(
        "load_verifier_p99_ms: {:.1}",
        percentile_ms(&all.round_trip, 0.99)
    );
    println!(
        "load_verifier_post_p50_ms: {:.1}",
        percentile_ms(&all.post, 0.50)
    );
    println!(
        "load_verifier_post_p99_ms: {:.1}",
        percentile_ms(&all.post, 0.99)
    );
    println!(
        "verifier_service_sessions_per_s: {:.0}",
        valid as f64 / elapsed
    );
    // What the services' own CPU time allows on every core, the wallets' work left out (and
    // the deliberately bad answers' work counted against the valid sessions).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let per_session = server_cpu / (valid.max(1) as f64);
    println!(
        "verifier_service_server_cpu_ms_per_session: {:.3}",
        per_session * 1000.0
    );
    println!(
        "verifier_service_server_capacity_per_s: {:.0}",
        cores / per_session
    );
    if let Ok(first) = first_errors.lock() {
        for e in first.iter() {
            eprintln!("load_verifier: wrong answer: {e}");
        }
    }
    let failed = get(&c.server_errors) + get(&c.transport_errors) + get(&c.wrong);
    if failed > 0 || valid == 0 {
        eprintln!("load_verifier: FAILED");
        return std::process::ExitCode::FAILURE;
    }
    std::process::ExitCode::SUCCESS
}
