//! Unit tests of [`super::SledStore`] that need its internals: the reopen after a failure.

use super::*;

fn platform(id: &str) -> Platform {
    Platform {
        id: id.into(),
        name: "Participatory budget".into(),
        created: 0,
    }
}

#[test]
fn changes_made_before_a_reopen_are_refused_at_sync_and_later_ones_are_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(dir.path(), civic_storage::Options::default()).expect("open");
    store
        .put_platform(&platform("https://a.example"))
        .expect("put");
    store.sync().expect("sync");
    let before = store.generation();
    // A write that has not been synced when the database is found failed and reopened.
    store
        .put_platform(&platform("https://b.example"))
        .expect("put");
    store.db.fail_for_test();
    let err = store
        .sync()
        .expect_err("the reopen dropped an unsynced change");
    assert!(matches!(err, StorageError::Unavailable(_)), "{err}");
    assert_ne!(
        store.generation(),
        before,
        "a reopen changes the generation"
    );
    // Synced data survived the reopen; the store works again.
    let ids: Vec<String> = store
        .platforms()
        .expect("read")
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert!(ids.contains(&"https://a.example".to_owned()), "{ids:?}");
    store
        .put_platform(&platform("https://c.example"))
        .expect("put");
    store.sync().expect("sync after the reopen");
    // While failed, calls are refused at once; a caller that wrote nothing still syncs.
    store.db.fail_for_test();
    assert!(matches!(
        store.platforms(),
        Err(StorageError::Unavailable(_))
    ));
    store.sync().expect("a reader's sync");
}

#[test]
fn the_health_check_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SledStore::open(dir.path(), civic_storage::Options::default()).expect("open");
    store.sync().expect("sync");
    for _ in 0..10 {
        store.health().expect("healthy");
    }
    assert!(store.db.get(b"meta/health").expect("get").is_none());
    assert_eq!(
        store.db.scan_prefix(b"").count(),
        0,
        "an empty database stays empty"
    );
}
