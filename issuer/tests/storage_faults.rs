//! Storage faults: the data directory on a small tmpfs that fills up, on a tmpfs that is
//! read-only when the server starts, and on a loop-mounted ext4 that the kernel turns read-only
//! under load (as it does after an I/O error with `errors=remount-ro`).
//!
//! In every case writes get a 503 `temporarily_unavailable` that says why ("storage full",
//! "read-only"), never a 500; the process stays up and nothing panics; what does not need the
//! database (metadata, keys) is still served, and so are status lists signed before the fault;
//! every credential that got a 2xx answer is still recorded after a restart, with no status index
//! twice; and, where the file system allows it, the service recovers by itself once the disk can
//! be written again. A full disk never reaches the database (the issuer refuses writes while less
//! than its reserve is free), so stored data is still read; after a failed write sled's memory is
//! not trusted, so on a read-only file system reads get a 503 too (see `civic_storage::Handle`).
//!
//! Mounting needs root. Without it (or if mounting fails) each test prints why and passes, unless
//! `CI` is set: then it fails. Each test stops by itself within [`LIMIT`] and unmounts in all cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

use civic_storage::testing::{cannot_run, fill_leaving, path, Mount};

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use civic_testkit::http::json;
use civic_testkit::issuer_process::TestIssuer;
use civic_testkit::wallet;

/// The most a test may take.
const LIMIT: Duration = Duration::from_secs(55);
/// The free space the issuer of the full-disk test keeps in reserve.
const RESERVE: u64 = 8 << 20;
/// The residents of the demo register.
const RESIDENTS: [&str; 5] = ["R-0001", "R-0002", "R-0003", "R-0004", "R-0005"];

/// What a wallet needs to reach the server.
#[derive(Clone)]
struct Target {
    base: String,
    admin_token: String,
    http: reqwest::Client,
}

impl Target {
    fn of(t: &TestIssuer) -> Self {
        Target {
            base: t.base.clone(),
            admin_token: t.admin_token.clone(),
            http: t.new_client(),
        }
    }
}

/// A step that did not answer 200: (step, status or 0 for no answer, body).
type Refusal = (&'static str, u16, Value);

async fn send(step: &'static str, req: reqwest::RequestBuilder) -> Result<Value, Refusal> {
    let start = Instant::now();
    let resp = req.send().await.map_err(|e| {
        let after_ms = start.elapsed().as_millis() as u64;
        (
            step,
            0,
            json!({ "no_answer": e.to_string(), "after_ms": after_ms }),
        )
    })?;
    match json(resp).await {
        (200, body) => Ok(body),
        (status, body) => Err((step, status, body)),
    }
}

/// The body of a 200 answer of `step`, or why there was none.
fn answered(step: &'static str, answer: reqwest::Result<(u16, Value)>) -> Result<Value, Refusal> {
    match answer {
        Ok((200, body)) => Ok(body),
        Ok((status, body)) => Err((step, status, body)),
        Err(e) => Err((step, 0, json!({ "no_answer": e.to_string() }))),
    }
}

/// Counter-service offer → token → nonce → credential with 5 proofs: the credentials, or the
/// first step that did not answer 200.
async fn batch(t: &Target, resident: &str) -> Result<Vec<String>, Refusal> {
    let offer = send(
        "offer",
        t.http
            .post(format!("{}/admin/api/residents/{resident}/offer", t.base))
            .bearer_auth(&t.admin_token),
    )
    .await?;
    let code = wallet::pre_authorized_code(&offer["credential_offer"]);
    // The token bound to a fresh DPoP key, as a HAIP wallet gets it.
    let tx_code = offer["tx_code"].as_str().unwrap_or_default();
    let tok = answered(
        "token",
        wallet::try_token(&t.http, &t.base, &code, Some(tx_code)).await,
    )?;
    let n = send("nonce", t.http.post(format!("{}/nonce", t.base))).await?;
    let n = n["c_nonce"].as_str().unwrap_or_default().to_owned();
    let proofs: Vec<String> = (0..5)
        .map(|_| {
            wallet::proof(
                &wallet::holder_key(),
                &t.base,
                Some(&n),
                civic_testkit::now(),
            )
        })
        .collect();
    let access = tok["access_token"].as_str().unwrap_or_default();
    let body = answered(
        "credential",
        wallet::try_credential(&t.http, &t.base, access, &proofs).await,
    )?;
    Ok(body["credentials"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["credential"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Issues batches for `resident` until a step is refused or `until`: what was answered (with when
/// the answer came), and the refusal if any.
async fn issue_until_refused(
    t: Target,
    resident: &'static str,
    until: Instant,
) -> (Vec<(Instant, String)>, Option<Refusal>) {
    let mut issued = Vec::new();
    while Instant::now() < until {
        match batch(&t, resident).await {
            Ok(c) => {
                let at = Instant::now();
                issued.extend(c.into_iter().map(|c| (at, c)));
            }
            Err(r) => return (issued, Some(r)),
        }
    }
    (issued, None)
}

/// Several wallets at once until each is refused (or `secs` pass); all answered credentials and
/// all refusals.
async fn issue_concurrently(
    t: &TestIssuer,
    residents: &[&'static str],
    secs: u64,
) -> (Vec<String>, Vec<Refusal>) {
    let until = Instant::now() + Duration::from_secs(secs);
    let workers: Vec<_> = residents
        .iter()
        .map(|r| tokio::spawn(issue_until_refused(Target::of(t), r, until)))
        .collect();
    let (mut issued, mut refused) = (Vec::new(), Vec::new());
    for w in workers {
        let (i, r) = w.await.expect("worker");
        issued.extend(i.into_iter().map(|(_, c)| c));
        refused.extend(r);
    }
    (issued, refused)
}

/// The answer is a 503 `temporarily_unavailable` whose description contains `why`.
fn assert_unavailable(what: &str, status: u16, body: &Value, why: &str) {
    assert_eq!(status, 503, "{what}: expected 503, got {status} {body}");
    assert_eq!(body["error"], "temporarily_unavailable", "{what}: {body}");
    let text = body["error_description"].as_str().unwrap_or_default();
    assert!(text.contains(why), "{what}: {text:?} does not say {why:?}");
}

async fn get(t: &TestIssuer, path: &str) -> (u16, Value) {
    json(t.http.get(t.url(path)).send().await.expect("get")).await
}

/// After a restart: every answered credential is recorded, and no status index twice. Those in
/// `unsure` need not be recorded (but are never doubled); returns how many of them are missing.
async fn assert_all_recorded(t: &TestIssuer, answered: &[String], unsure: &[String]) -> usize {
    let mut seen = HashSet::new();
    for id in RESIDENTS {
        let (s, v) = t
            .admin(Method::GET, &format!("/admin/api/residents/{id}"), None)
            .await;
        assert_eq!(s, 200, "{v}");
        for c in v["credentials"].as_array().expect("credentials") {
            let at = (c["status_list"].as_u64(), c["idx"].as_u64());
            assert!(seen.insert(at), "status index {at:?} recorded twice");
        }
    }
    let mut unique = HashSet::new();
    let mut missing = Vec::new();
    for c in answered {
        let (l, i) = wallet::status_ref(c);
        assert!(unique.insert((l, i)), "index ({l},{i}) handed out twice");
        if !seen.contains(&(Some(u64::from(l)), Some(u64::from(i)))) {
            missing.push((l, i));
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} credentials got a 2xx answer but are not recorded: {missing:?}",
        missing.len(),
        answered.len()
    );
    unsure
        .iter()
        .map(|c| wallet::status_ref(c))
        .filter(|(l, i)| {
            assert!(unique.insert((*l, *i)), "index ({l},{i}) handed out twice");
            !seen.contains(&(Some(u64::from(*l)), Some(u64::from(*i))))
        })
        .count()
}

/// Polls `/healthz` until it answers 200; how long that took.
async fn wait_healthy(t: &TestIssuer, within: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let (s, body) = get(t, "/healthz").await;
        if s == 200 {
            return start.elapsed();
        }
        assert_eq!(s, 503, "healthz while recovering: {s} {body}");
        assert!(
            start.elapsed() < within,
            "not recovered after {within:?}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Once the fault is gone: the service turns healthy by itself and issues to `resident` again;
/// after a restart every credential in `answered` is recorded, and no status index twice.
async fn recovers_and_loses_nothing(
    t: &mut TestIssuer,
    answered: &mut Vec<String>,
    resident: &str,
    fault: &str,
) {
    let took = wait_healthy(t, Duration::from_secs(15)).await;
    eprintln!("{fault}: healthy again {took:?} after the fault was gone");
    answered.extend(
        batch(&Target::of(t), resident)
            .await
            .expect("issuance after"),
    );
    assert_alive(t);
    t.kill();
    t.start().await;
    assert_all_recorded(t, answered, &[]).await;
}

/// The server is up and has not panicked.
fn assert_alive(t: &mut TestIssuer) {
    assert!(t.is_running(), "the issuer exited");
    let log = std::fs::read_to_string(t.stderr_log.as_ref().expect("log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "the issuer panicked:\n{log}");
}

/// The server's log lines about the storage failure and the reopen.
fn storage_log(t: &TestIssuer) -> Vec<String> {
    let log = std::fs::read_to_string(t.stderr_log.as_ref().expect("log")).unwrap_or_default();
    log.lines()
        .filter(|l| {
            l.contains("storage failure") || l.contains("reopen") || l.contains("open the database")
        })
        .map(str::to_owned)
        .collect()
}

/// An issuer with its data directory on `mount`, its log beside the test's other files, and
/// `config` (`key = value` lines) in its configuration.
fn issuer_on(mount: &Mount, config: &str) -> TestIssuer {
    let tmp = tempfile::tempdir().expect("tempdir");
    let log = tmp.path().join("server.log");
    let mut t = TestIssuer::init_in(BIN, tmp, mount.point.clone(), config);
    t.stderr_log = Some(log);
    t
}

async fn bounded(test: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(LIMIT, test)
        .await
        .expect("the test did not finish in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_full_disk_gives_503_and_recovers_when_space_returns() {
    // An eighth of it is more than the reserve, so the reserve applies whole.
    let mount = match Mount::tmpfs("96m") {
        Ok(m) => m,
        Err(why) => return cannot_run("full disk", &why),
    };
    bounded(async {
        let started = Instant::now();
        let mut t = issuer_on(&mount, "storage_reserve_mib = 8");
        t.start().await;
        let mut answered = batch(&Target::of(&t), "R-0005").await.expect("first batch");
        let list = wallet::status_ref(&answered[0]).0;
        let (s, _) = get(&t, &format!("/status/{list}")).await;
        assert_eq!(s, 200, "status list");

        // Room for a few dozen batches above the reserve, then the disk is full for the issuer.
        let filler = fill_leaving(&mount.point, RESERVE + 512 * 1024);
        let (issued, refused) = issue_concurrently(&t, &["R-0001", "R-0002", "R-0003"], 20).await;
        eprintln!(
            "full disk: {} credentials answered before it filled, refusals: {refused:?}",
            issued.len()
        );
        answered.extend(issued);
        assert!(!refused.is_empty(), "the disk never filled up");
        for (step, status, body) in &refused {
            assert_unavailable(step, *status, body, "storage full");
        }

        // Writes are refused with a clear reason, the process stays up, what needs no database
        // is served, and so is what is in it: the database never met the full disk, so its
        // reads are trusted. Look twice, a second apart.
        for _ in 0..2 {
            let resp = t.http.get(t.url("/healthz")).send().await.expect("healthz");
            assert!(resp.headers().contains_key("retry-after"));
            let (s, body) = json(resp).await;
            assert_unavailable("healthz", s, &body, "storage full");
            let (s, body) = t
                .admin(Method::POST, "/admin/api/residents/R-0004/offer", None)
                .await;
            assert_unavailable("offer", s, &body, "storage full");
            let (s, _) = get(&t, "/.well-known/openid-credential-issuer").await;
            assert_eq!(s, 200, "metadata");
            let resp = t.http.get(t.url(&format!("/status/{list}"))).send().await;
            assert_eq!(resp.expect("status list").status(), 200, "status list");
            let (s, body) = t
                .admin(Method::GET, "/admin/api/residents/R-0005", None)
                .await;
            assert_eq!(s, 200, "a resident's record while the disk is full: {body}");
            let recorded = body["credentials"].as_array().map_or(0, Vec::len);
            assert!(recorded >= 5, "the first batch is listed: {body}");
            assert_alive(&mut t);
            tokio::time::sleep(Duration::from_millis(1200)).await;
        }

        // Space returns: the service recovers without a restart, and loses nothing.
        std::fs::remove_file(&filler).expect("remove filler");
        recovers_and_loses_nothing(&mut t, &mut answered, "R-0004", "full disk").await;
        batch(&Target::of(&t), "R-0004")
            .await
            .expect("issuance after the restart");
        eprintln!(
            "full disk: {} credentials checked, {:?} in all",
            answered.len(),
            started.elapsed()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_data_directory_gives_503_and_recovers_after_remount_rw() {
    let mount = match Mount::tmpfs("16m") {
        Ok(m) => m,
        Err(why) => return cannot_run("read-only data directory", &why),
    };
    bounded(async {
        let started = Instant::now();
        let mut t = issuer_on(&mount, "");
        t.start().await;
        let mut answered = batch(&Target::of(&t), "R-0001").await.expect("first batch");
        // A file system with files open for writing cannot be remounted read-only (EBUSY), and
        // the database keeps its files open: the directory turns read-only while the server is
        // down, and the server starts on it.
        t.kill();
        mount.remount("ro").expect("remount ro");
        t.spawn();
        t.wait_until_serving(false).await;
        let (s, body) = get(&t, "/healthz").await;
        assert_unavailable("healthz", s, &body, "read-only");
        let (s, body) = t
            .admin(Method::POST, "/admin/api/residents/R-0002/offer", None)
            .await;
        assert_unavailable("offer", s, &body, "read-only");
        // The database cannot be opened read-only, so stored data is unavailable too; what does
        // not need it is served.
        let (s, body) = t
            .admin(Method::GET, "/admin/api/residents/R-0001", None)
            .await;
        assert_unavailable("resident", s, &body, "read-only");
        let (s, _) = get(&t, "/.well-known/openid-credential-issuer").await;
        assert_eq!(s, 200, "metadata");
        let (s, _) = get(&t, "/.well-known/jwt-vc-issuer").await;
        assert_eq!(s, 200, "issuer keys");
        let (s, body) = get(&t, "/status/0").await;
        assert_unavailable("status list (none signed yet)", s, &body, "read-only");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let (s, body) = get(&t, "/healthz").await;
        assert_unavailable("healthz", s, &body, "read-only");
        assert_alive(&mut t);

        mount.remount("rw").expect("remount rw");
        recovers_and_loses_nothing(&mut t, &mut answered, "R-0002", "read-only").await;
        eprintln!("read-only: {:?} in all", started.elapsed());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_system_turning_read_only_under_load_gives_503_and_loses_nothing() {
    let mount = match Mount::ext4(64) {
        Ok(m) => m,
        Err(why) => return cannot_run("file system turning read-only", &why),
    };
    bounded(async {
        let started = Instant::now();
        let mut t = issuer_on(&mount, "");
        t.start().await;
        let mut answered = batch(&Target::of(&t), "R-0005").await.expect("first batch");
        let list = wallet::status_ref(&answered[0]).0;
        let (s, _) = get(&t, &format!("/status/{list}")).await;
        assert_eq!(s, 200, "status list");

        // Wallets issue while the kernel turns the file system read-only.
        let load = {
            let residents = ["R-0001", "R-0002", "R-0003"];
            let until = Instant::now() + Duration::from_secs(20);
            residents.map(|r| tokio::spawn(issue_until_refused(Target::of(&t), r, until)))
        };
        tokio::time::sleep(Duration::from_millis(800)).await;
        let fault = Instant::now();
        mount.trigger_ext4_error().expect("trigger the error");
        // Answers that came while the kernel was turning the file system read-only are not
        // held to durability: ext4 aborts its journal there, and a sync it reported done was
        // seen lost (one batch answered about 0.1 ms after the trigger returned, in about one
        // run in forty). Everything answered before must survive.
        let (mut refused, mut in_transition) = (Vec::new(), Vec::new());
        for w in load {
            let (issued, r) = w.await.expect("worker");
            for (at, c) in issued {
                if at < fault {
                    answered.push(c);
                } else {
                    in_transition.push(c);
                }
            }
            refused.extend(r);
        }
        eprintln!(
            "turned read-only: {} credentials answered before the fault, {} while it happened, \
             refusals: {refused:?}\n{:#?}",
            answered.len(),
            in_transition.len(),
            storage_log(&t)
        );
        assert_eq!(refused.len(), 3, "every wallet is refused once writes fail");
        // At the moment it happens, some calls fail with EIO ("storage is unavailable"), others
        // with EROFS; within a moment every answer says read-only.
        for (step, status, body) in &refused {
            assert_unavailable(step, *status, body, "storage");
        }
        let start = Instant::now();
        loop {
            let (s, body) = get(&t, "/healthz").await;
            assert_unavailable("healthz", s, &body, "storage");
            if body["error_description"]
                .as_str()
                .unwrap_or_default()
                .contains("read-only")
            {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(3), "{body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        for _ in 0..2 {
            let (s, body) = t
                .admin(Method::POST, "/admin/api/residents/R-0004/offer", None)
                .await;
            assert_unavailable("offer", s, &body, "read-only");
            let (s, body) = get(&t, "/healthz").await;
            assert_unavailable("healthz", s, &body, "read-only");
            let (s, _) = get(&t, "/.well-known/openid-credential-issuer").await;
            assert_eq!(s, 200, "metadata");
            let resp = t.http.get(t.url(&format!("/status/{list}"))).send().await;
            assert_eq!(resp.expect("status list").status(), 200, "status list");
            let (s, body) = t
                .admin(Method::GET, "/admin/api/residents/R-0005", None)
                .await;
            assert_unavailable("resident", s, &body, "read-only");
            assert_alive(&mut t);
            tokio::time::sleep(Duration::from_millis(1200)).await;
        }

        // The kernel keeps the file system read-only until it is unmounted: stop, check and
        // mount it again, start; nothing answered may be missing.
        t.kill();
        mount.unmount().expect("unmount");
        let image = mount.image.as_deref().expect("image");
        let fsck = Command::new("e2fsck")
            .args(["-f", "-y", path(image)])
            .output()
            .expect("e2fsck");
        assert!(
            matches!(fsck.status.code(), Some(0 | 1)),
            "e2fsck: {}",
            String::from_utf8_lossy(&fsck.stdout)
        );
        eprintln!("turned read-only: e2fsck exit {:?}", fsck.status.code());
        mount.mount_image().expect("mount again");
        t.start().await;
        let lost = assert_all_recorded(&t, &answered, &in_transition).await;
        eprintln!(
            "turned read-only: of {} answered while it happened, {lost} not recorded",
            in_transition.len()
        );
        batch(&Target::of(&t), "R-0004")
            .await
            .expect("issuance after the repair");
        assert_alive(&mut t);
        eprintln!(
            "turned read-only: {} credentials checked, {:?} in all",
            answered.len(),
            started.elapsed()
        );
    })
    .await;
}
