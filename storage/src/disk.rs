//! Opening the database, file-system checks and the closing of a failed database, for
//! [`crate::Handle`].

use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::is_lock_error;
use crate::handle::{COUNTER, PROBE_BYTES};

/// An open database, and its log file for [`Handle::flush`] to sync.
pub(crate) struct Open {
    pub(crate) db: sled::Db,
    pub(crate) log: std::fs::File,
}

/// How long opening waits for a lock this process may still hold: sled's I/O threads keep the
/// file (and its lock) until their last write of a just-dropped database returns.
const LOCK_WAIT: std::time::Duration = Duration::from_secs(5);

pub(crate) fn open_db(dir: &Path) -> sled::Result<Open> {
    // No timed background flushes: durability comes from `sync` alone, so a missing sync shows up
    // in the crash tests instead of being papered over by a timer.
    let started = Instant::now();
    let db = loop {
        match sled::Config::new().path(dir).flush_every_ms(None).open() {
            Err(sled::Error::Io(io)) if is_lock_error(&io) && started.elapsed() < LOCK_WAIT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            other => break other?,
        }
    };
    // Read-only is enough to sync it, and does not keep the file system from turning read-only.
    let log = std::fs::File::open(dir.join("db"))?;
    Ok(Open { db, log })
}

/// The space unprivileged users can still write on the file system of `file`, and its size.
pub(crate) fn space(file: &std::fs::File) -> io::Result<(u64, u64)> {
    #[cfg(unix)]
    {
        let st = rustix::fs::fstatvfs(file)?;
        Ok((
            st.f_bavail.saturating_mul(st.f_frsize),
            st.f_blocks.saturating_mul(st.f_frsize),
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        Ok((u64::MAX, u64::MAX))
    }
}

/// Fails if the file system of `file` is read-only now. ext4 answers `fsync` on a file system
/// that turned read-only with success without writing anything, so a sync is only trusted while
/// the file system is still writable. (While the kernel aborts the journal, a window of a few
/// milliseconds remains in which a sync it reports done can still be lost; see
/// `tests/storage_faults.rs`.)
pub(crate) fn still_writable(file: &std::fs::File) -> io::Result<()> {
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
pub(crate) fn close(open: Open) {
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
pub(crate) fn probe(dir: &Path) -> io::Result<()> {
    let path = dir.join(".write-probe");
    let result = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&vec![0u8; PROBE_BYTES])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&path);
    result
}
