//! The PostgreSQL database on a real, throwaway server: migrations that several instances may
//! start at once, serializable transactions that lose no update under contention, and the
//! refusal of a server that does not keep the durability promise; verified TLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::sync::Arc;

use civic_storage::pg_cluster::TestCluster;
use civic_storage::postgres::{Database, Migration, PgOptions, TxError};
use civic_storage::StorageError;

const STEPS: &[Migration] = &[
    Migration {
        version: 1,
        name: "counter",
        sql: "CREATE TABLE counter (id INTEGER PRIMARY KEY, n BIGINT NOT NULL);
              INSERT INTO counter VALUES (1, 0);",
    },
    Migration {
        version: 2,
        name: "log",
        sql: "CREATE TABLE log (seq BIGINT PRIMARY KEY);",
    },
];

#[test]
fn migrations_run_once_even_when_instances_start_together_and_a_newer_schema_is_refused() {
    let cluster = TestCluster::start();
    let dbs: Vec<Database> = (0..4)
        .map(|_| Database::connect(&cluster.url(), &PgOptions::default()).unwrap())
        .collect();
    let applied: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = dbs
            .iter()
            .map(|db| s.spawn(move || db.migrate("test", STEPS).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(applied.iter().sum::<usize>(), 2, "{applied:?}");
    assert_eq!(dbs[0].schema_version("test").unwrap(), 2);
    assert_eq!(dbs[0].schema_version("other").unwrap(), 0);
    // An older build on a newer database stops instead of misreading it.
    let err = dbs[0].migrate("test", &STEPS[..1]).unwrap_err();
    assert!(err.to_string().contains("newer than this build"), "{err}");
}

#[test]
fn concurrent_read_modify_write_loses_nothing_and_the_log_has_no_gap() {
    let cluster = TestCluster::start();
    let db = Arc::new(Database::connect(&cluster.url(), &PgOptions::default()).unwrap());
    db.migrate("test", STEPS).unwrap();
    let threads = 8;
    let each = 40;
    std::thread::scope(|s| {
        for _ in 0..threads {
            let db = db.clone();
            s.spawn(move || {
                for _ in 0..each {
                    // Read, then write what was read plus one: only serializable isolation
                    // (with retries) keeps every increment.
                    db.transaction(|tx| {
                        let n: i64 = tx
                            .query_one("SELECT n FROM counter WHERE id = 1", &[])?
                            .get(0);
                        tx.execute("UPDATE counter SET n = $1 WHERE id = 1", &[&(n + 1)])?;
                        tx.execute("INSERT INTO log (seq) VALUES ($1)", &[&(n + 1)])?;
                        Ok(())
                    })
                    .unwrap();
                }
            });
        }
    });
    let (n, count, max) = db
        .transaction(|tx| {
            let n: i64 = tx.query_one("SELECT n FROM counter", &[])?.get(0);
            let row = tx.query_one("SELECT COUNT(*), MAX(seq) FROM log", &[])?;
            Ok((n, row.get::<_, i64>(0), row.get::<_, i64>(1)))
        })
        .unwrap();
    let expected = (threads * each) as i64;
    assert_eq!((n, count, max), (expected, expected, expected));
}

#[test]
fn an_abort_is_returned_as_is_and_rolls_back() {
    let cluster = TestCluster::start();
    let db = Database::connect(&cluster.url(), &PgOptions::default()).unwrap();
    db.migrate("test", STEPS).unwrap();
    let err = db
        .transaction(|tx| -> Result<(), TxError> {
            tx.execute("UPDATE counter SET n = 99", &[])?;
            Err(StorageError::corrupt("made up").into())
        })
        .unwrap_err();
    assert_eq!(err, StorageError::corrupt("made up"));
    let n: i64 = db
        .transaction(|tx| Ok(tx.query_one("SELECT n FROM counter", &[])?.get(0)))
        .unwrap();
    assert_eq!(n, 0);
}

/// Statements are prepared once per connection and kept: the second and later calls skip the
/// parse and plan. One prepared in a transaction that rolled back still serves the next.
#[test]
fn statements_are_prepared_once_per_connection_and_outlive_a_rollback() {
    let cluster = TestCluster::start();
    let options = PgOptions {
        max_connections: 1,
        ..PgOptions::default()
    };
    let db = Database::connect(&cluster.url(), &options).unwrap();
    db.migrate("test", STEPS).unwrap();
    const READ: &str = "SELECT n FROM counter WHERE n >= $1";
    let kept = |db: &Database| -> i64 {
        db.transaction(|tx| {
            Ok(tx
                .query_one(
                    "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
                    &[&READ],
                )?
                .get(0))
        })
        .unwrap()
    };
    let err = db
        .transaction(|tx| -> Result<(), TxError> {
            tx.query_opt(READ, &[&0_i64])?;
            Err(StorageError::corrupt("rolled back").into())
        })
        .unwrap_err();
    assert_eq!(err, StorageError::corrupt("rolled back"));
    assert_eq!(
        kept(&db),
        1,
        "prepared in the rolled-back transaction, and kept"
    );
    for _ in 0..5 {
        let n: i64 = db
            .transaction(|tx| Ok(tx.query_one(READ, &[&0_i64])?.get(0)))
            .unwrap();
        assert_eq!(n, 0);
    }
    assert_eq!(kept(&db), 1, "prepared once, not once per call");
}

#[test]
fn a_server_without_fsync_is_refused_and_a_stopped_one_is_unavailable_until_it_is_back() {
    let cluster = TestCluster::start();
    let options = PgOptions {
        connect_timeout: std::time::Duration::from_secs(2),
        ..PgOptions::default()
    };
    let db = Database::connect(&cluster.url(), &options).unwrap();
    db.health().unwrap();

    cluster.stop();
    let err = db.health().unwrap_err();
    assert!(matches!(err, StorageError::Unavailable(_)), "{err:?}");
    assert_eq!(
        err.public_message(),
        "storage is unavailable; try again later"
    );
    cluster.restart();
    // The pool drops the broken connections and opens new ones.
    let mut healthy = false;
    for _ in 0..50 {
        if db.health().is_ok() {
            healthy = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(healthy, "the database came back but the pool did not");

    cluster.psql("civic", "ALTER SYSTEM SET fsync = off");
    cluster.psql("civic", "SELECT pg_reload_conf()");
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Refused at start, and reported by the running instance's readiness.
    let err = Database::connect(&cluster.url(), &options).err().unwrap();
    assert!(err.to_string().contains("fsync = off"), "{err}");
    let err = db.health().unwrap_err();
    assert!(err.to_string().contains("fsync = off"), "{err}");
}

/// A CA and a certificate it signs for 127.0.0.1 and localhost: (CA PEM, chain PEM, key PEM).
fn server_certificate() -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "civic-id test database CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    leaf.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    let leaf = leaf.signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), leaf.pem(), key.serialize_pem())
}

#[test]
fn sslmode_require_gets_verified_tls_and_a_server_of_another_ca_is_refused() {
    let cluster = TestCluster::start();
    let (ca, chain, key) = server_certificate();
    cluster.enable_tls(&chain, &key);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let (rogue_ca, _, _) = server_certificate();
    let rogue_file = dir.path().join("rogue.pem");
    std::fs::write(&rogue_file, rogue_ca).unwrap();
    let encrypted = |db: &Database| -> bool {
        db.transaction(|tx| {
            Ok(tx
                .query_one(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
                    &[],
                )?
                .get(0))
        })
        .unwrap()
    };
    let require = format!("{}?sslmode=require", cluster.url());
    let with = |ca: &std::path::Path| PgOptions {
        ca_file: Some(ca.to_owned()),
        connect_timeout: std::time::Duration::from_secs(3),
        ..PgOptions::default()
    };

    let db = Database::connect(&require, &with(&ca_file))
        .unwrap_or_else(|e| panic!("{e}\n{}", cluster.log()));
    assert!(encrypted(&db), "sslmode=require gives TLS");
    // A server whose certificate does not lead to the configured CA (someone in the middle).
    let err = Database::connect(&require, &with(&rogue_file))
        .err()
        .unwrap();
    assert!(matches!(err, StorageError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // Without sslmode=require the connection is plain: "prefer" never silently means TLS
    // that someone could strip.
    let plain = Database::connect(&cluster.url(), &PgOptions::default()).unwrap();
    assert!(!encrypted(&plain));
}
