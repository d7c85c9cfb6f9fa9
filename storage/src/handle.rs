//! A sled database that refuses writes before the disk is full, reports a disk that stops
//! answering, and comes back after a storage failure.
//!
//! **Keeping sled away from a full disk.** sled 0.34 poisons a database on its first failed write
//! (disk full, read-only file system, I/O error): from then on every write and flush returns that
//! error, even once the disk has room again, and its memory cannot be trusted for reads either
//! (some lookups fail with the same error; a scan can spin for minutes at full CPU). Worse, a
//! failed background write can leave a `flush` waiting forever (sled 0.34's `exit_reservation`
//! records the error without waking the flushers), and a flush that waits holds sled's
//! process-wide concurrency lock, so the next transaction and then every call behind it waits
//! too. So [`Handle`] refuses writes with "no space left" while the file system has less free
//! space than [`Options::reserve`] asks for; reads go on, and writes work again as soon as there
//! is room.
//!
//! **A disk that stops answering.** Callers of [`Handle::sync`] wait at most
//! [`Options::stall_after`] for a flush that another caller leads (see [`GroupCommit`]); while a
//! flush has been running longer than that, every call is refused at once with
//! [`io::ErrorKind::TimedOut`] instead of queueing behind it.
//!
//! **Recovering from a failure.** On the first I/O error the handle stops using the database
//! (every call is refused at once with that error, which keeps its kind: no space, read-only),
//! closes it on the next [`Handle::sync`], and from then on checks at most once a second whether
//! the directory can be written again; when it can, it opens the database again from disk, so the
//! service recovers without a restart.
//!
//! Reopening drops the changes that never reached the disk. A caller whose changes were made
//! before a reopen must not be told they are durable, so each thread remembers the generation of
//! the database its unflushed writes went to, and [`Handle::sync`] refuses them when the
//! generation has changed since.

use std::cell::RefCell;
use std::io;
use std::ops::RangeBounds;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError};
use std::time::{Duration, Instant};

use sled::transaction::{
    ConflictableTransactionResult, TransactionError, TransactionResult, TransactionalTree,
};
use sled::IVec;

use crate::disk::{close, open_db, probe, space, still_writable, Open};
use crate::error::is_lock_error;
use crate::group_commit::{CommitError, GroupCommit};

/// Handle ids and database generations, unique in the process.
pub(crate) static COUNTER: AtomicU64 = AtomicU64::new(1);

/// How often a failed database checks whether it can be reopened.
const RETRY_EVERY: Duration = Duration::from_secs(1);

/// The probe writes one sled log segment (512 KiB): a reopened database needs at least that.
pub(crate) const PROBE_BYTES: usize = 512 * 1024;

/// How much free space a [`Handle`] keeps on the data directory's file system: writes are
/// refused ("no space left") while less is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reserve {
    /// No check: sled may meet a full disk (and is then closed and reopened, see the module doc).
    Off,
    /// This many bytes, or an eighth of the file system if that is less, so that a small file
    /// system is not refused for good. What services configure (`storage_reserve_mib`).
    UpTo(u64),
    /// Exactly this many bytes, whatever the file system's size: for a deployment that wants
    /// more than an eighth kept free, and for tests that force the condition on any disk.
    Exactly(u64),
}

impl Reserve {
    /// The reserve a service's `storage_reserve_mib` setting means: [`Reserve::UpTo`] that many
    /// MiB, or [`Reserve::Off`] for 0.
    pub fn from_mib(mib: u32) -> Self {
        match mib {
            0 => Reserve::Off,
            n => Reserve::UpTo(u64::from(n) << 20),
        }
    }

    /// The bytes to keep free on a file system of `size` bytes; 0 when off.
    pub fn bytes(self, size: u64) -> u64 {
        match self {
            Reserve::Off => 0,
            Reserve::UpTo(bytes) => bytes.min(size / 8),
            Reserve::Exactly(bytes) => bytes,
        }
    }
}

/// How a [`Handle`] guards its database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The free space kept on the data directory's file system.
    pub reserve: Reserve,
    /// How long a caller waits for a flush led by another caller, and how long a flush may run
    /// before every call is refused as "storage not responding".
    pub stall_after: Duration,
}

impl Options {
    /// The options a service's settings mean: `reserve_mib` ([`Reserve::from_mib`]) and
    /// `stall_secs` (at least 1 s).
    pub fn from_settings(reserve_mib: u32, stall_secs: u32) -> Self {
        Options {
            reserve: Reserve::from_mib(reserve_mib),
            stall_after: Duration::from_secs(u64::from(stall_secs.max(1))),
        }
    }
}

impl Default for Options {
    /// Up to 64 MiB of reserve (sled writes its log in 512 KiB segments and snapshots its page
    /// table besides), and 10 s before a flush counts as stalled.
    fn default() -> Self {
        Options::from_settings(64, 10)
    }
}

thread_local! {
    /// (handle id, generation) of the writes this thread made since its last sync of that handle.
    static UNSYNCED: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

/// The sled database of a store, closed on a storage failure and reopened once the disk can be
/// written.
pub struct Handle {
    id: u64,
    dir: PathBuf,
    options: Options,
    commit: GroupCommit,
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

fn describe(e: &sled::Error) -> (io::ErrorKind, String) {
    match e {
        sled::Error::Io(io) => (io.kind(), io.to_string()),
        other => (io::ErrorKind::Other, other.to_string()),
    }
}

impl Handle {
    fn new(dir: &Path, options: Options, db: Option<Open>, why: (io::ErrorKind, String)) -> Self {
        Handle {
            id: COUNTER.fetch_add(1, Ordering::Relaxed),
            dir: dir.to_owned(),
            options,
            commit: GroupCommit::new(options.stall_after),
            failed: AtomicBool::new(db.is_none()),
            slot: RwLock::new(db),
            generation: AtomicU64::new(COUNTER.fetch_add(1, Ordering::Relaxed)),
            why: Mutex::new(why),
            last_try: Mutex::new(None),
        }
    }

    /// Opens the database in `dir`.
    pub fn open(dir: &Path, options: Options) -> sled::Result<Self> {
        let db = open_db(dir)?;
        Ok(Self::new(
            dir,
            options,
            Some(db),
            (io::ErrorKind::Other, String::new()),
        ))
    }

    /// Opens the database in `dir`; if that fails with an I/O error other than a lock held by
    /// another process (no space, read-only file system, …), returns a closed handle that refuses
    /// every call with that error and tries again on [`Handle::recover`].
    pub fn open_or_closed(dir: &Path, options: Options) -> sled::Result<Self> {
        match open_db(dir) {
            Ok(db) => Ok(Self::new(
                dir,
                options,
                Some(db),
                (io::ErrorKind::Other, String::new()),
            )),
            Err(sled::Error::Io(e)) if !is_lock_error(&e) => {
                tracing::error!(error = %e, dir = %dir.display(),
                    "cannot open the database; answering 503 until it can be opened");
                Ok(Self::new(dir, options, None, (e.kind(), e.to_string())))
            }
            Err(e) => Err(e),
        }
    }

    /// The current generation: it changes each time the database is reopened.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Whether a storage failure was seen and the database has not been reopened since.
    pub fn is_failed(&self) -> bool {
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

    /// The flush that has been running longer than [`Options::stall_after`], if any: how long.
    fn stalled_for(&self) -> Option<Duration> {
        self.commit
            .running_for()
            .filter(|d| *d > self.options.stall_after)
    }

    fn stall_error(running: Duration) -> sled::Error {
        sled::Error::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            format!(
                "storage not responding: a flush of the database has not returned for {} s",
                running.as_secs()
            ),
        ))
    }

    /// The open database, unless it failed or a flush is stalled.
    fn usable<'a>(&self, slot: &'a Option<Open>) -> sled::Result<&'a Open> {
        if let Some(running) = self.stalled_for() {
            return Err(Self::stall_error(running));
        }
        match slot {
            Some(open) if !self.is_failed() => Ok(open),
            _ => Err(self.refusal()),
        }
    }

    /// Refuses a write while the file system has less free space than the reserve. The
    /// database is not touched, so nothing is poisoned; reads go on.
    fn check_room(&self, open: &Open) -> sled::Result<()> {
        if self.options.reserve == Reserve::Off {
            return Ok(());
        }
        let (free, size) = space(&open.log)?;
        let reserve = self.options.reserve.bytes(size);
        if free < reserve {
            return Err(sled::Error::Io(io::Error::new(
                io::ErrorKind::StorageFull,
                format!(
                    "no space left on device: {} KiB free on the data directory's file system, \
                     under the {} KiB kept in reserve",
                    free >> 10,
                    reserve >> 10
                ),
            )));
        }
        Ok(())
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
    fn take_unsynced(&self) -> Vec<u64> {
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
        let open = self.usable(&slot)?;
        if write {
            self.check_room(open)?;
            self.note_write();
        }
        let r = f(&open.db);
        if let Err(e) = &r {
            self.note_error(e);
        }
        r
    }

    /// [`sled::Tree::get`].
    pub fn get<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.with(false, |db| db.get(key))
    }

    /// [`sled::Tree::insert`].
    pub fn insert<K: AsRef<[u8]>, V: Into<IVec>>(
        &self,
        key: K,
        value: V,
    ) -> sled::Result<Option<IVec>> {
        self.with(true, |db| db.insert(key, value))
    }

    /// [`sled::Tree::remove`].
    pub fn remove<K: AsRef<[u8]>>(&self, key: K) -> sled::Result<Option<IVec>> {
        self.with(true, |db| db.remove(key))
    }

    /// [`sled::Tree::compare_and_swap`].
    pub fn compare_and_swap<K: AsRef<[u8]>>(
        &self,
        key: K,
        old: Option<IVec>,
        new: Option<Vec<u8>>,
    ) -> sled::Result<Result<(), sled::CompareAndSwapError>> {
        self.with(true, |db| db.compare_and_swap(key, old, new))
    }

    /// Whether the database can take writes now, found without writing: it is open and not
    /// failed, no flush is stalled, the file system is not read-only and has room above the
    /// reserve. Also the point where a failed database is reopened (see [`Handle::sync`]).
    pub fn health(&self) -> sled::Result<()> {
        self.recover();
        let slot = self.read_slot();
        let open = self.usable(&slot)?;
        still_writable(&open.log).map_err(sled::Error::Io)?;
        self.check_room(open)
    }

    /// [`sled::Tree::flush`], then `fdatasync` of sled's log file. On Linux sled makes its log
    /// writes durable with `sync_file_range` alone, which does not commit the file's size or
    /// block allocation: after a machine crash, or a file system that turned read-only (the
    /// journal is aborted), writes sled reported flushed were missing. Not shared between
    /// callers; [`Handle::sync`] is.
    pub fn flush(&self) -> sled::Result<usize> {
        let slot = self.read_slot();
        let open = self.usable(&slot)?;
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

    /// Makes every change this thread made through this handle durable, sharing the flush with
    /// concurrent callers (group commit). Fails if the flush failed or stalled, or if the
    /// database was reopened after a failure since those changes were made (they were lost).
    /// While the database is failed, a caller with no changes of its own gets `Ok` at once, so
    /// that reads are answered. Also the point where a failed database is reopened: the caller
    /// must hold no [`Iter`] of this handle.
    pub fn sync(&self) -> sled::Result<()> {
        self.recover();
        let unsynced = self.take_unsynced();
        if unsynced.is_empty() && self.is_failed() {
            return Ok(());
        }
        match self.commit.commit(|| self.flush().map(drop)) {
            Ok(()) => {}
            Err(CommitError::Flush(e)) => return Err(e),
            Err(CommitError::Stalled(running)) => {
                tracing::error!(
                    running_s = running.as_secs(),
                    "storage not responding: a database flush has not returned"
                );
                return Err(Self::stall_error(running));
            }
        }
        let generation = self.generation();
        if unsynced.iter().any(|g| *g != generation) {
            return Err(sled::Error::Io(io::Error::other(
                "the database was reopened after a storage failure before these changes were saved",
            )));
        }
        Ok(())
    }

    /// [`sled::Tree::transaction`] (counted as a write).
    pub fn transaction<A, E>(
        &self,
        f: impl Fn(&TransactionalTree) -> ConflictableTransactionResult<A, E>,
    ) -> TransactionResult<A, E> {
        let slot = self.read_slot();
        let open = self.usable(&slot).map_err(TransactionError::Storage)?;
        self.check_room(open).map_err(TransactionError::Storage)?;
        self.note_write();
        let r = open.db.transaction(f);
        if let Err(TransactionError::Storage(e)) = &r {
            self.note_error(e);
        }
        r
    }

    /// [`sled::Tree::scan_prefix`]; the database stays open while the iterator lives.
    pub fn scan_prefix<P: AsRef<[u8]>>(&self, prefix: P) -> Iter<'_> {
        self.iter(|db| db.scan_prefix(prefix))
    }

    /// [`sled::Tree::range`]; the database stays open while the iterator lives.
    pub fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Iter<'_> {
        self.iter(|db| db.range(range))
    }

    fn iter(&self, f: impl FnOnce(&sled::Db) -> sled::Iter) -> Iter<'_> {
        let slot = self.read_slot();
        let inner = match self.usable(&slot) {
            Ok(open) => Ok(f(&open.db)),
            Err(e) => Err(Some(e)),
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
    fn recover(&self) {
        // A database whose flush is stuck cannot be closed (that flush holds it); it is refused
        // meanwhile, and reopened once the flush returns (with an error, or after a restart).
        if !self.is_failed() || self.stalled_for().is_some() {
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
        // open_db waits out sled's background writes that may still hold the old files.
        let result = open_db(&self.dir);
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
    #[doc(hidden)]
    pub fn fail_for_test(&self) {
        self.note_error(&sled::Error::Io(io::Error::other("test")));
    }
}

/// An iterator over the database that keeps it from being reopened until dropped.
pub struct Iter<'a> {
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
