//! Where sessions live. [`MemoryStore`] for tests and single-process use; the sled store (feature
//! `sled-store`) keeps them across restarts, so a restart neither loses a session nor reopens a
//! used nonce.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::session::{Session, SessionState};

/// Why the store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The disk is full (or has less free than the reserve kept for the database).
    #[error("session storage full (no space left on device)")]
    Full,
    /// The data directory is on a read-only file system.
    #[error("session storage is read-only")]
    ReadOnly,
    /// A flush of the database has not returned for longer than the limit.
    #[error("session storage not responding: {0}")]
    Stalled(String),
    /// Another failure (an I/O error, a corrupt record, a poisoned lock).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    fn other(e: impl std::fmt::Display) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

/// What [`SessionStore::begin_response`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Begin {
    /// The session was pending; it is now `Verifying` (its nonce is used up).
    Started(Box<Session>),
    /// No such session.
    Unknown,
    /// Expired.
    Expired,
    /// Already answered (a replay).
    NotPending,
}

/// Session storage. Every call is atomic; changes are durable when it returns.
pub trait SessionStore: crate::fetch::MaybeSendSync {
    /// Stores a new session.
    fn create(&self, session: &Session) -> Result<(), StoreError>;
    /// Reads a session.
    fn get(&self, id: &str) -> Result<Option<Session>, StoreError>;
    /// Moves a pending, unexpired session to `Verifying`, atomically: only one response per
    /// session is ever checked.
    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StoreError>;
    /// Records the outcome (and the hash of the same-device response code).
    fn finish(
        &self,
        id: &str,
        state: SessionState,
        response_code_hash: Option<String>,
    ) -> Result<(), StoreError>;
    /// Deletes sessions that expired before `before`; returns how many.
    fn purge(&self, before: i64) -> Result<usize, StoreError>;
}

fn begin(session: &mut Session, now: i64) -> Begin {
    if session.state_now != SessionState::Pending {
        return Begin::NotPending;
    }
    if session.expires <= now {
        return Begin::Expired;
    }
    session.state_now = SessionState::Verifying;
    Begin::Started(Box::new(session.clone()))
}

/// Sessions in memory (lost on restart).
#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, Session>>,
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Session>>, StoreError> {
        self.sessions
            .lock()
            .map_err(|_| StoreError::other("lock poisoned"))
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, session: &Session) -> Result<(), StoreError> {
        self.lock()?.insert(session.id.clone(), session.clone());
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        Ok(self.lock()?.get(id).cloned())
    }

    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StoreError> {
        Ok(match self.lock()?.get_mut(id) {
            None => Begin::Unknown,
            Some(s) => begin(s, now),
        })
    }

    fn finish(
        &self,
        id: &str,
        state: SessionState,
        code: Option<String>,
    ) -> Result<(), StoreError> {
        if let Some(s) = self.lock()?.get_mut(id) {
            s.state_now = state;
            s.response_code_hash = code;
        }
        Ok(())
    }

    fn purge(&self, before: i64) -> Result<usize, StoreError> {
        let mut m = self.lock()?;
        let n = m.len();
        m.retain(|_, s| s.expires + 3600 > before);
        Ok(n - m.len())
    }
}

/// Sessions in sled 0.34: one key per session, compare-and-swap for the single-use step, and a
/// durable flush before every call that writes returns (shared between concurrent calls: group
/// commit). The database sits behind a [`civic_storage::Handle`]: writes are refused before the
/// disk is full, a stalled disk gives an error instead of a hang, and after a storage failure the
/// database is reopened once the disk can be written.
#[cfg(feature = "sled-store")]
pub struct SledStore {
    db: civic_storage::Handle,
}

#[cfg(feature = "sled-store")]
fn sled_err(e: sled::Error) -> StoreError {
    use std::io::ErrorKind;
    match e {
        sled::Error::Io(io) => match io.kind() {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded => StoreError::Full,
            ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly,
            ErrorKind::TimedOut => StoreError::Stalled(io.to_string()),
            _ => StoreError::other(io),
        },
        other => StoreError::other(other),
    }
}

#[cfg(feature = "sled-store")]
impl SledStore {
    /// Opens (or creates) the store in `dir`. When the disk keeps it from opening (full,
    /// read-only), the store still opens, refuses every call with that error, and opens the
    /// database once the directory can be written; a lock held by another process is an error.
    pub fn open(
        dir: &std::path::Path,
        options: civic_storage::Options,
    ) -> Result<Self, StoreError> {
        let db = civic_storage::Handle::open_or_closed(dir, options).map_err(sled_err)?;
        Ok(SledStore { db })
    }

    fn key(id: &str) -> Vec<u8> {
        format!("s/{id}").into_bytes()
    }

    fn sync(&self) -> Result<(), StoreError> {
        self.db.sync().map_err(sled_err)
    }

    fn decode(bytes: &[u8]) -> Result<Session, StoreError> {
        serde_json::from_slice(bytes)
            .map_err(|e| StoreError::other(format!("corrupt session: {e}")))
    }
}

#[cfg(feature = "sled-store")]
impl SessionStore for SledStore {
    fn create(&self, session: &Session) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(session).map_err(StoreError::other)?;
        self.db
            .insert(Self::key(&session.id), bytes)
            .map_err(sled_err)?;
        self.sync()
    }

    fn get(&self, id: &str) -> Result<Option<Session>, StoreError> {
        match self.db.get(Self::key(id)).map_err(sled_err)? {
            None => Ok(None),
            Some(b) => Self::decode(&b).map(Some),
        }
    }

    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StoreError> {
        loop {
            let Some(old) = self.db.get(Self::key(id)).map_err(sled_err)? else {
                return Ok(Begin::Unknown);
            };
            let mut session = Self::decode(&old)?;
            let outcome = begin(&mut session, now);
            if !matches!(outcome, Begin::Started(_)) {
                return Ok(outcome);
            }
            let new = serde_json::to_vec(&session).map_err(StoreError::other)?;
            let swapped = self
                .db
                .compare_and_swap(Self::key(id), Some(old), Some(new))
                .map_err(sled_err)?;
            if swapped.is_ok() {
                self.sync()?;
                return Ok(outcome);
            }
            // Someone else changed it meanwhile: look again.
        }
    }

    fn finish(
        &self,
        id: &str,
        state: SessionState,
        code: Option<String>,
    ) -> Result<(), StoreError> {
        let Some(mut session) = self.get(id)? else {
            return Ok(());
        };
        session.state_now = state;
        session.response_code_hash = code;
        self.create(&session)
    }

    fn purge(&self, before: i64) -> Result<usize, StoreError> {
        let mut expired = Vec::new();
        for item in self.db.scan_prefix(b"s/") {
            let (k, v) = item.map_err(sled_err)?;
            if Self::decode(&v).map_or(true, |s| s.expires + 3600 <= before) {
                expired.push(k);
            }
        }
        for k in &expired {
            self.db.remove(k).map_err(sled_err)?;
        }
        self.sync()?;
        Ok(expired.len())
    }
}
