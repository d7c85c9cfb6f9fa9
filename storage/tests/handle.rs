//! [`civic_storage::Handle`] on a real sled database in a temporary directory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::io::ErrorKind;
use std::time::Duration;

use civic_storage::{Handle, Options, Reserve};

fn options(reserve: Reserve) -> Options {
    Options {
        reserve,
        stall_after: Duration::from_secs(10),
    }
}

fn kind(e: &sled::Error) -> ErrorKind {
    match e {
        sled::Error::Io(io) => io.kind(),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

#[test]
fn writes_are_refused_below_the_reserve_and_reads_go_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = Handle::open(dir.path(), options(Reserve::Off)).expect("open");
        db.insert(b"k", b"before".to_vec()).expect("insert");
        db.sync().expect("sync");
    }
    // No file system has this much free, and `Exactly` is not capped by the file system's size:
    // every write is below the reserve, on any disk.
    let db = Handle::open(dir.path(), options(Reserve::Exactly(u64::MAX))).expect("reopen");
    let err = db.insert(b"k", b"after".to_vec()).expect_err("refused");
    assert_eq!(kind(&err), ErrorKind::StorageFull, "{err}");
    assert!(err.to_string().contains("reserve"), "{err}");
    let tx = db.transaction(|tx| {
        tx.insert(b"k".as_slice(), b"in a transaction".as_slice())?;
        Ok::<_, sled::transaction::ConflictableTransactionError<()>>(())
    });
    assert!(
        matches!(&tx, Err(sled::transaction::TransactionError::Storage(e)) if kind(e) == ErrorKind::StorageFull),
        "{tx:?}"
    );
    let cas = db.compare_and_swap(b"k", None, Some(b"x".to_vec()));
    assert!(matches!(&cas, Err(e) if kind(e) == ErrorKind::StorageFull));
    // The database was not touched, so it is not failed: reads and syncs work.
    assert!(!db.is_failed());
    assert_eq!(db.get(b"k").expect("get").as_deref(), Some(&b"before"[..]));
    assert_eq!(db.scan_prefix(b"k").count(), 1);
    db.sync().expect("sync");
}

#[test]
fn synced_writes_survive_a_reopen_and_a_failure_reopens_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Handle::open(dir.path(), options(Reserve::UpTo(1 << 20))).expect("open");
    db.insert(b"a", b"1".to_vec()).expect("insert");
    db.sync().expect("sync");
    let generation = db.generation();
    db.insert(b"b", b"2".to_vec()).expect("insert");
    db.fail_for_test();
    assert!(db.get(b"a").is_err(), "a failed database is not read");
    let err = db.sync().expect_err("b was made before the reopen");
    assert!(err.to_string().contains("reopened"), "{err}");
    assert_ne!(db.generation(), generation);
    assert!(!db.is_failed());
    assert_eq!(db.get(b"a").expect("get").as_deref(), Some(&b"1"[..]));
    db.insert(b"c", b"3".to_vec()).expect("insert");
    db.sync().expect("sync after the reopen");
    drop(db);
    // Opening waits out sled's background threads, which may hold its lock for a moment after
    // the handle is dropped.
    let db = Handle::open(dir.path(), options(Reserve::UpTo(1 << 20))).expect("open again");
    assert_eq!(db.get(b"c").expect("get").as_deref(), Some(&b"3"[..]));
}

#[test]
fn a_configured_reserve_is_capped_at_an_eighth_of_the_file_system_and_an_exact_one_is_not() {
    let gib = 1u64 << 30;
    assert_eq!(Reserve::from_mib(0), Reserve::Off);
    assert_eq!(Reserve::Off.bytes(gib), 0);
    assert_eq!(Reserve::from_mib(64).bytes(gib), 64 << 20);
    assert_eq!(Reserve::from_mib(64).bytes(256 << 20), 32 << 20);
    assert_eq!(Reserve::Exactly(64 << 20).bytes(256 << 20), 64 << 20);
    assert_eq!(Reserve::Exactly(u64::MAX).bytes(gib), u64::MAX);
}
