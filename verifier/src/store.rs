//! Where sessions live. [`MemoryStore`] for tests and single-process use; the sled store (feature
//! `sled-store`) keeps them across restarts, so a restart neither loses a session nor reopens a
//! used nonce.

use std::collections::HashMap;
use std::sync::Mutex;

use civic_storage::StorageError;

use crate::session::{Session, SessionStatus};

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
    fn create(&self, session: &Session) -> Result<(), StorageError>;
    /// Reads a session.
    fn get(&self, id: &str) -> Result<Option<Session>, StorageError>;
    /// Moves a pending, unexpired session to `Verifying`, atomically: only one response per
    /// session is ever checked.
    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StorageError>;
    /// Records the outcome (and the hash of the same-device response code).
    fn finish(
        &self,
        id: &str,
        status: SessionStatus,
        response_code_hash: Option<String>,
    ) -> Result<(), StorageError>;
    /// Deletes sessions that expired before `before`; returns how many.
    fn purge(&self, before: i64) -> Result<usize, StorageError>;
    /// Whether the store could take writes now (for readiness probes), without writing.
    fn health(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// The single-use step every store shares: a pending, unexpired session becomes `Verifying`.
pub(crate) fn begin(session: &mut Session, now: i64) -> Begin {
    if session.status != SessionStatus::Pending {
        return Begin::NotPending;
    }
    if session.expires <= now {
        return Begin::Expired;
    }
    session.status = SessionStatus::Verifying;
    Begin::Started(Box::new(session.clone()))
}

/// Sessions in memory (lost on restart).
#[derive(Default)]
pub struct MemoryStore {
    sessions: Mutex<HashMap<String, Session>>,
}

impl MemoryStore {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, Session>>, StorageError> {
        self.sessions
            .lock()
            .map_err(|_| StorageError::Unavailable("lock poisoned".into()))
    }
}

impl SessionStore for MemoryStore {
    fn create(&self, session: &Session) -> Result<(), StorageError> {
        self.lock()?.insert(session.id.clone(), session.clone());
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<Session>, StorageError> {
        Ok(self.lock()?.get(id).cloned())
    }

    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StorageError> {
        Ok(match self.lock()?.get_mut(id) {
            None => Begin::Unknown,
            Some(s) => begin(s, now),
        })
    }

    fn finish(
        &self,
        id: &str,
        status: SessionStatus,
        code: Option<String>,
    ) -> Result<(), StorageError> {
        if let Some(s) = self.lock()?.get_mut(id) {
            s.status = status;
            s.response_code_hash = code;
        }
        Ok(())
    }

    fn purge(&self, before: i64) -> Result<usize, StorageError> {
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
    pub(crate) db: civic_storage::Handle,
}

#[cfg(feature = "sled-store")]
impl SledStore {
    /// Opens (or creates) the store in `dir`. When the disk keeps it from opening (full,
    /// read-only), the store still opens, refuses every call with that error, and opens the
    /// database once the directory can be written; a lock held by another process is an error.
    pub fn open(
        dir: &std::path::Path,
        options: civic_storage::Options,
    ) -> Result<Self, StorageError> {
        let db = civic_storage::Handle::open_or_closed(dir, options).map_err(StorageError::from)?;
        Ok(SledStore { db })
    }

    fn key(id: &str) -> Vec<u8> {
        format!("s/{id}").into_bytes()
    }

    fn sync(&self) -> Result<(), StorageError> {
        self.db.sync().map_err(StorageError::from)
    }

    fn decode(bytes: &[u8]) -> Result<Session, StorageError> {
        serde_json::from_slice(bytes).map_err(|e| StorageError::corrupt(format!("session: {e}")))
    }
}

#[cfg(feature = "sled-store")]
impl SessionStore for SledStore {
    fn create(&self, session: &Session) -> Result<(), StorageError> {
        let bytes = serde_json::to_vec(session)
            .map_err(|e| StorageError::corrupt(format!("session: {e}")))?;
        self.db
            .insert(Self::key(&session.id), bytes)
            .map_err(StorageError::from)?;
        self.sync()
    }

    fn get(&self, id: &str) -> Result<Option<Session>, StorageError> {
        match self.db.get(Self::key(id)).map_err(StorageError::from)? {
            None => Ok(None),
            Some(b) => Self::decode(&b).map(Some),
        }
    }

    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StorageError> {
        loop {
            let Some(old) = self.db.get(Self::key(id)).map_err(StorageError::from)? else {
                return Ok(Begin::Unknown);
            };
            let mut session = Self::decode(&old)?;
            let outcome = begin(&mut session, now);
            if !matches!(outcome, Begin::Started(_)) {
                return Ok(outcome);
            }
            let new = serde_json::to_vec(&session)
                .map_err(|e| StorageError::corrupt(format!("session: {e}")))?;
            let swapped = self
                .db
                .compare_and_swap(Self::key(id), Some(old), Some(new))
                .map_err(StorageError::from)?;
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
        status: SessionStatus,
        code: Option<String>,
    ) -> Result<(), StorageError> {
        let Some(mut session) = self.get(id)? else {
            return Ok(());
        };
        session.status = status;
        session.response_code_hash = code;
        self.create(&session)
    }

    fn purge(&self, before: i64) -> Result<usize, StorageError> {
        let mut expired = Vec::new();
        for item in self.db.scan_prefix(b"s/") {
            let (k, v) = item.map_err(StorageError::from)?;
            if Self::decode(&v).map_or(true, |s| s.expires + 3600 <= before) {
                expired.push(k);
            }
        }
        for k in &expired {
            self.db.remove(k).map_err(StorageError::from)?;
        }
        self.sync()?;
        Ok(expired.len())
    }

    fn health(&self) -> Result<(), StorageError> {
        self.db.health().map_err(StorageError::from)
    }
}
