//! Moving an agency from sled to PostgreSQL: `civic-issuer migrate --from DIR --to URL` copies
//! the state, checks it, and points the data directory at the database. The issuer then serves
//! the same residents, status lists and keys: a credential issued before the move still verifies
//! with the status it had, and can still be revoked after it. A second move into the same
//! database, a move while the service runs, and a schema upgrade on a sled directory are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use reqwest::Method;

use civic_credential::sd_jwt_vc::{self, IssuerKeys, VerifyOptions};
use civic_credential::status_list::{Status, StatusListToken};
use civic_storage::pg_cluster::TestCluster;
use civic_testkit::issuer_process::{cli, path, TestIssuer};
use civic_testkit::{now, wallet};

const BIN: &str = env!("CARGO_BIN_EXE_civic-issuer");

/// Runs the CLI with exactly `args`: (success, stdout, stderr).
fn try_run(args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Verifies `credential` (signature, expiry) with the keys the issuer publishes now, and reads
/// its status from the status list the issuer serves now.
async fn check(t: &TestIssuer, credential: &str) -> Status {
    let keys = t.published_keys().await;
    let opts = VerifyOptions {
        now: now(),
        clock_skew: 60,
        expected_vct: None,
        key_binding: None,
    };
    let v = sd_jwt_vc::verify(credential, &keys, &opts).expect("credential verifies");
    let status = v.status.expect("status");
    let uri = status.status_list.uri;
    let token = t.http.get(&uri).send().await.unwrap().text().await.unwrap();
    let key = keys.issuer_key(&t.base, &v.kid).expect("status list key");
    let list = StatusListToken::verify(&token, key, &uri, now(), 60).expect("status list verifies");
    list.list.get(status.status_list.idx).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sled_issuer_moves_to_postgres_with_its_residents_credentials_and_status_lists() {
    // On sled, whatever the test run's backend: this is the agency before the move.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut t = TestIssuer::init_in(BIN, tmp, data, "");
    // The PostgreSQL pass (CIVIC_TEST_BACKEND) leaves this file out: it starts on sled.
    assert!(
        t.database.is_none(),
        "run this test on sled: unset CIVIC_TEST_BACKEND"
    );
    t.cli(&[
        "add-platform",
        "--id",
        "https://budget.example",
        "--name",
        "Budget",
    ]);
    t.start().await;
    let anna = t.offer_redeemed(&t, "R-0001", 2).await;
    let bram = t.offer_redeemed(&t, "R-0002", 1).await;
    let (s, v) = t
        .admin(Method::POST, "/admin/api/residents/R-0002/suspend", None)
        .await;
    assert_eq!(s, 200, "{v}");
    let (_, before) = t
        .admin(Method::GET, "/admin/api/residents/R-0001", None)
        .await;
    assert_eq!(check(&t, &anna[0]).await, Status::Valid);
    assert_eq!(check(&t, &bram[0]).await, Status::Suspended);

    let cluster = TestCluster::start();
    let url = cluster.url();
    // Not while the service holds the database.
    let (ok, _, err) = try_run(&["migrate", "--from", path(&t.data), "--to", &url]);
    assert!(!ok && err.contains("in use"), "{err}");
    t.kill();
    // A schema upgrade is for a data directory on PostgreSQL.
    let (ok, _, err) = try_run(&["migrate", "--data", path(&t.data)]);
    assert!(!ok && err.contains("sled"), "{err}");

    let out = cli(BIN, &["migrate", "--from", path(&t.data), "--to", &url]);
    assert!(out.contains("residents: 5"), "{out}");
    assert!(out.contains("credentials: 3"), "{out}");
    assert!(out.contains("platforms: 1"), "{out}");
    assert!(out.contains("copied and checked"), "{out}");
    let config = std::fs::read_to_string(t.data.join("config.toml")).unwrap();
    assert!(
        config.contains(&format!("database = \"{url}\"")),
        "{config}"
    );
    // Idempotent schema step, then: a second move into the same database is refused.
    let out = cli(BIN, &["migrate", "--data", path(&t.data)]);
    assert!(out.contains("schema at version"), "{out}");
    let second = TestIssuer::init(BIN, "");
    let (ok, _, err) = try_run(&["migrate", "--from", path(&second.data), "--to", &url]);
    assert!(!ok && err.contains("already holds issuer data"), "{err}");

    // On PostgreSQL: the same residents, credentials, statuses and keys.
    t.start().await;
    let (_, after) = t
        .admin(Method::GET, "/admin/api/residents/R-0001", None)
        .await;
    assert_eq!(after["credentials"], before["credentials"]);
    assert_eq!(check(&t, &anna[0]).await, Status::Valid);
    assert_eq!(check(&t, &bram[0]).await, Status::Suspended);
    let (s, platforms) = t.admin(Method::GET, "/admin/api/platforms", None).await;
    assert_eq!(s, 200, "{platforms}");
    assert!(
        platforms.to_string().contains("https://budget.example"),
        "{platforms}"
    );
    // Revoked after the move: the status list says so, for both copies.
    let (s, v) = t
        .admin(Method::POST, "/admin/api/residents/R-0001/revoke", None)
        .await;
    assert_eq!(
        (s, v["credentials_changed"].as_u64()),
        (200, Some(2)),
        "{v}"
    );
    assert_eq!(check(&t, &anna[0]).await, Status::Invalid);
    assert_eq!(check(&t, &anna[1]).await, Status::Invalid);
    // New credentials come from the same lists without reusing an index.
    let eva = t.offer_redeemed(&t, "R-0005", 2).await;
    let mut seen: std::collections::HashSet<(u32, u32)> = anna
        .iter()
        .chain(&bram)
        .map(|c| wallet::status_ref(c))
        .collect();
    for c in &eva {
        assert!(
            seen.insert(wallet::status_ref(c)),
            "index reused after the move"
        );
        assert_eq!(check(&t, c).await, Status::Valid);
    }
    t.kill();
    drop(cluster);
}
