//! A sled database that comes back after a storage failure.
//!
//! sled 0.34 poisons a database on its first failed write (disk full, read-only file system, I/O
//! error): from then on every write and flush returns that error, even once the disk has room
//! again. Its memory cannot be trusted for reads either: some lookups fail with the same error,
//! and a scan can spin for minutes at full CPU. So on the first I/O error [`Handle`] stops using
//! the database (every call is refused at once with that error, which keeps its kind: no space,
//! read-only), closes it on the next [`Handle::recover`] (the store calls it on every `sync`), and
//! from then on checks at most once a second whether the directory can be written again; when it
//! can, it opens the database again from disk, so the service recovers without a restart.
//!
//! Reopening drops the changes that never reached the disk. A caller whose changes were made
//! before a reopen must not be told they are durable, so each thread remembers the generation of
//! the database its unflushed writes went to, and [`Handle::take_unsynced`] hands them to `sync`,
//! which refuses them when the generation has changed since.

use std::cell::RefCell;
use std::io::{self, Write};
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::time::{Duration, Instant};

use sled::transaction::{
    ConflictableTransactionResult, TransactionError, TransactionResult, TransactionalTree,
};
use sled::IVec;

use super::sled_layout::is_lock_error;

/// Handle ids and database generations, unique in the process.
static COUNTER: AtomicU64 = AtomicU64::new(1);

/// How often a failed database checks whether it can be reopened.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The probe writes one sled log segment (512 KiB): a reopened database needs at least that.
const PROBE_BYTES: usize = 512 * 1024;

thread_local! {
    /// (handle id, generation) of the writes this thread made since its last sync of that handle.
    static UNSYNCED: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

/// The sled database of a store, closed on a storage failure and reopened once the disk can be
/// written.
pub(super) struct Handle {
    id: u64,
    dir: PathBuf,
    /// `None` while closed.
    slot: RwLock<Option<Open>>,
    generation: AtomicU64,
    /// A storage failure was seen and the database has not been reopened since: every call is
    /// refused with `why`, without touching the database.
    failed: AtomicBool,
    /// The latest reason (the first I/O error, then that of the latest check).
    why: Mutex<(io::ErrorKind, String)>,
    last_try: Mutex<Option<Instant>>,
}

/// An open database, and its log file for [`Handle::flush`] to sync.
struct Open {
    db: sled::Db,
    log: std::fs::File,
}

fn open_db(dir: &Path) -> sled::Result<Open> {
    // No timed background flushes: durability comes from `sync` alone, so a missing sync shows up
    // in the crash tests instead of being papered over by a timer.
    let db = sled::Config::new().path(dir).flush_every_ms(None).open()?;
    // Read-only is enough to sync it, and does not keep the file system from turning read-only.
    let log = std::fs::File::open(dir.join("db"))?;
    Ok(Open { db, log })
}

/// Fails if the file system of `file` is read-only now. ext4 answers `fsync` on a file system
/// that turned read-only with success without writing anything, so a sync is only trusted while
/// the file system is still writable. (While the kernel aborts the journal, a window of a few
/// milliseconds remains in which a sync it reports done can still be lost; see
/// `tests/storage_faults.rs`.)
fn still_writable(file: &std::fs::File) -> io::Result<()> {
    #[cfg(unix)]
    {
        let st = rustix::fs::fstatvfs(file)?;
        if st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
            return Err(io::Error::new(
                io::ErrorKind::ReadOnlyFilesystem,
                "the file system turned read-only",
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Closes a database after a failure. sled's drop syncs its file and panics if that fails,
/// unless the database is poisoned; but the failure may have come from our own sync, which sled
/// does not know about (an ext4 that aborts its journal fails `fdatasync` with EIO a moment
/// before it refuses writes). So write again (a new value each time: rewriting the same one was
/// seen to leave nothing to flush) until sled's flush fails (it is poisoned and its drop does no I/O) or a sync
/// of its file works (so will the drop's); the drop is guarded all the same.
fn close(open: Open) {
    for attempt in 0u32..20 {
        let value = [
            &COUNTER.fetch_add(1, Ordering::Relaxed).to_be_bytes()[..],
            &attempt.to_be_bytes(),
        ]
        .concat();
        let _ = open.db.insert(b"meta/closing", value);
        match open.db.flush() {
            Err(_) => break,
            Ok(_) if open.log.sync_all().is_ok() => break,
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(open))).is_err() {
        tracing::error!("closing the failed database panicked");
    }
}

/// Writes, syncs and removes a file of [`PROBE_BYTES`] in `dir`.
fn probe(dir: &Path) -> io::Result<()> {
    let path = dir.join(".write-probe");
    let result = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&path);
    result
}

fn describe(e: &sled::Error) -> (io::ErrorKind, String) {
    match e {
        sled::Error::Io(io) => (io.kind(), io.to_string()),
        other => (io::ErrorKind::Other, other.to_string()),
    }
}

impl Handle {
    fn new(dir: &Path, db: Option<Open>, why: (io::ErrorKind, String)) -> Self {
        Handle {
            id: COUNTER.fetch_add(1, Ordering::Relaxed),
            dir: dir.to_owned(),
            failed: AtomicBool::new(db.is_none()),
            slot: RwLock::new(db),
            generation: AtomicU64::new(COUNTER.fetch_add(1, Ordering::Relaxed)),
            why: Mutex::new(why),
            last_try: Mutex::new(None),
        }
    }

    /// Opens the database in `dir`.
    pub(super) fn open(dir: &Path) -> sled::Result<Self> {
        let db = open_db(dir)?;
        Ok(Self::new(
            dir,
            Some(db),
            (io::ErrorKind::Other, String::new()),
        ))
    }

    /// Opens the database in `dir`; if that fails with an I/O error other than a lock held by
    /// another process (no space, read-only file system, …), returns a closed handle that refuses
    /// every call with that error and tries again on [`Handle::recover`].
    pub(super) fn open_or_closed(dir: &Path) -> sled::Result<Self> {
        match open_db(dir) {
            Ok(db) => Ok(Self::new(
                dir,
                Some(db),
                (io::ErrorKind::Other, String::new()),
            )),
            Err(sled::Error::Io(e)) if !is_lock_error(&e) => {
                tracing::error!(error = %e, dir = %dir.display(),
                    "cannot open the database; answering 503 until it can be opened");
                Ok(Self::new(dir, None, (e.kind(), e.to_string())))
            }
            Err(e) => Err(e),
        }
    }

    /// The current generation: it changes each time the database is reopened.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether a storage failure was seen and the database has not been reopened since.
    pub(super) fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    fn set_why(&self, why: (io::ErrorKind, String)) {
        *self.why.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }

    /// The error that refuses calls while failed; it keeps the kind of the cause (no space,
    /// read-only), which the store maps to its own errors.
    fn refusal(&self) -> sled::Error {
        let (kind, why) = self.why.lock().unwrap_or_else(|e| e.into_inner()).clone();
        sled::Error::Io(io::Error::new(
            kind,
            format!("the database is closed after a storage failure: {why}"),
        ))
    }

    /// Marks the database failed on an I/O error. sled's state after one cannot be trusted, even
    /// for reads (observed: some lookups fail, and a scan can spin), so it is not used again.
    /// The reason given is the first error, or a later one that is more telling (a file system
    /// turning read-only fails some calls with EIO, others with EROFS).
    fn note_error(&self, e: &sled::Error) {
        let sled::Error::Io(io) = e else {
            return;
        };
        let telling = |k: io::ErrorKind| {
            matches!(
                k,
                io::ErrorKind::StorageFull
                    | io::ErrorKind::QuotaExceeded
                    | io::ErrorKind::ReadOnlyFilesystem
            )
        };
        let mut why = self.why.lock().unwrap_or_else(|e| e.into_inner());
        let first = !self.is_failed();
        if first || (!telling(why.0) && telling(io.kind())) {
            *why = (io.kind(), io.to_string());
        }
        self.failed.store(true, Ordering::Release);
        drop(why);
        if first {
            tracing::error!(error = %io,
                "storage failure: the database is closed until the disk can be written");
        }
    }

    fn read_slot(&self) -> RwLockReadGuard<'_, Option<Open>> {
        // The slot is replaced whole under the write lock, so it is consistent even if a thread
        // panicked while holding the lock.
        self.slot.read().unwrap_or_else(|e| e.into_inner())
    }

    fn note_write(&self) {
        let entry = (self.id, self.generation());
        UNSYNCED.with(|u| {
            let mut u = u.borrow_mut();
            if !u.contains(&entry) {
                u.push(entry);
            }
        });
    }

    /// The generations this thread wrote to through this handle since the last call.
    pub(super) fn take_unsynced(&self) -> Vec<u64> {
        UNSYNCED.with(|u| {
            let mut u = u.borrow_mut();
            let mine = u
                .iter()
                .filter(|(id, _)| *id == self.id)
                .map(|(_, g)| *g)
                .collect();
            u.retain(|(id, _)| *id != self.id);
            mine
        })
    }

    fn with<T>(
        &self,
        write: bool,
        f: impl FnOnce(&sled::Db) -> sled::Result<T>,
    ) -> sled::Result<T> {
        let slot = self.read_slot();
        let db = match &*slot {
            Some(open) if !self.is_failed() => &open.db,
            _ => return Err(self.refusal()),
        };
        if write {
            self.note_write();
        }
        let r = f(db);
        if let Err(e) = &r {
            self.note_error(e);
        }
        r
    }

    /// [`sled::Tree::get`].
    pub(super) fn get<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.with(false, |db| db.get(key))
    }

    /// [`sled::Tree::insert`].
    pub(super) fn insert<K: AsRef<[u8]>, V: Into<IVec>>(
        &self,
        key: K,
        value: V,
    ) -> sled::Result<Option<IVec>> {
        self.with(true, |db| db.insert(key, value))
    }

    /// [`sled::Tree::remove`].
    pub(super) fn remove<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.with(true, |db| db.remove(key))
    }

    /// [`sled::Tree::flush`], then `fdatasync` of sled's log file. On Linux sled makes its log
    /// writes durable with `sync_file_range` alone, which does not commit the file's size or
    /// block allocation: after a machine crash, or a file system that turned read-only (the
    /// journal is aborted), writes sled reported flushed were missing.
    pub(super) fn flush(&self) -> sled::Result<usize> {
        let slot = self.read_slot();
        let open = match &*slot {
            Some(open) if !self.is_failed() => open,
            _ => return Err(self.refusal()),
        };
        let r = open.db.flush().and_then(|n| {
            open.log.sync_data()?;
            still_writable(&open.log)?;
            Ok(n)
        });
        if let Err(e) = &r {
            self.note_error(e);
        }
        r
    }

    /// [`sled::Tree::transaction`] (counted as a write).
    pub(super) fn transaction<A, E>(
        &self,
        f: impl Fn(&TransactionalTree) -> ConflictableTransactionResult<A, E>,
    ) -> TransactionResult<A, E> {
        let slot = self.read_slot();
        let db = match &*slot {
            Some(open) if !self.is_failed() => &open.db,
            _ => return Err(TransactionError::Storage(self.refusal())),
        };
        self.note_write();
        let r = db.transaction(f);
        if let Err(TransactionError::Storage(e)) = &r {
            self.note_error(e);
        }
        r
    }

    /// [`sled::Tree::scan_prefix`]; the database stays open while the iterator lives.
    pub(super) fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> Iter<'_> {
        self.iter(|db| db.scan_prefix(prefix))
    }

    /// [`sled::Tree::range`]; the database stays open while the iterator lives.
    pub(super) fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter<'_> {
        self.iter(|db| db.range(range))
    }

    fn iter(&self, f: impl FnOnce(&sled::Db) -> sled::Iter) -> Iter<'_> {
        let slot = self.read_slot();
        let inner = match &*slot {
            Some(open) if !self.is_failed() => Ok(f(&open.db)),
            _ => Err(Some(self.refusal())),
        };
        Iter {
            inner,
            handle: self,
            _slot: slot,
        }
    }

    /// Exclusive access to the slot: waits for calls in flight, without queueing (a waiting
    /// writer would block readers that nest, such as an iteration that looks up each item).
    fn write_slot(&self) -> Option<RwLockWriteGuard<'_, Option<Open>>> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            match self.slot.try_write() {
                Ok(g) => return Some(g),
                Err(TryLockError::Poisoned(e)) => return Some(e.into_inner()),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TryLockError::WouldBlock) => return None,
            }
        }
    }

    /// After a storage failure: closes the database, and (at most once per [`RETRY_EVERY`]) if
    /// the directory can be written again, opens it again from disk. Must not be called while
    /// this thread holds an [`Iter`] of this handle (it would wait for itself, then give up).
    pub(super) fn recover(&self) {
        if !self.is_failed() {
            return;
        }
        // One thread tries at a time; the others carry on.
        let Ok(mut last) = self.last_try.try_lock() else {
            return;
        };
        if last.is_some_and(|t| t.elapsed() < RETRY_EVERY) {
            return;
        }
        *last = Some(Instant::now());
        // sled holds an exclusive lock on its files until the database is dropped, so close it
        // first. Its unflushed changes are lost; `sync` refuses them (see the module doc).
        let Some(mut slot) = self.write_slot() else {
            return;
        };
        let old = slot.take();
        drop(slot);
        if let Some(old) = old {
            close(old);
        }
        if let Err(e) = probe(&self.dir) {
            tracing::warn!(error = %e, "storage still unavailable");
            self.set_why((e.kind(), e.to_string()));
            return;
        }
        let Some(mut slot) = self.write_slot() else {
            return;
        };
        let mut tries = 0;
        let result = loop {
            match open_db(&self.dir) {
                // sled's background writes may still hold the old files for a moment.
                Err(sled::Error::Io(e)) if is_lock_error(&e) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                r => break r,
            }
        };
        match result {
            Ok(db) => {
                *slot = Some(db);
                self.generation
                    .store(COUNTER.fetch_add(1, Ordering::Relaxed), Ordering::Release);
                self.failed.store(false, Ordering::Release);
                tracing::warn!("storage is writable again: the database was reopened");
            }
            Err(e) => {
                tracing::error!(error = %e, "reopening the database failed");
                self.set_why(describe(&e));
            }
        }
    }

    /// Marks the database as failed, as an I/O error would.
    #[cfg(test)]
    pub(super) fn fail_for_test(&self) {
        self.note_error(&sled::Error::Io(io::Error::other("test")));
    }
}

/// An iterator over the database that keeps it from being reopened until dropped.
pub(super) struct Iter<'a> {
    // Dropped before the guard: the iterator holds a reference to the database.
    inner: Result<sled::Iter, Option<sled::Error>>,
    handle: &'a Handle,
    _slot: RwLockReadGuard<'a, Option<Open>>,
}

impl Iterator for Iter<'_> {
    type Item = sled::Result<(IVec, IVec)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.handle.is_failed() && self.inner.is_ok() {
            // Stop at once: the database's state is no longer trusted.
            self.inner = Err(Some(self.handle.refusal()));
        }
        match &mut self.inner {
            Ok(it) => {
                let item = it.next()?;
                if let Err(e) = &item {
                    self.handle.note_error(e);
                }
                Some(item)
            }
            Err(e) => e.take().map(Err),
        }
    }
}
