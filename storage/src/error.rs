//! The one storage error of the services, and the words their answers use for it.

use std::io;

/// Whether sled could not open the database because another process holds its lock.
pub fn is_lock_error(io: &io::Error) -> bool {
    io.kind() == io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock")
}

/// Why a stored read or write failed. Services answer every variant with a 503 ("try again
/// later"); [`StorageError::public_message`] is the text that answer carries, and the details
/// (paths, record keys) go to the log only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The disk holding the data directory is full (or over its quota, or below the reserve).
    #[error("storage full: no space left on device")]
    Full,
    /// The data directory is on a read-only file system.
    #[error("storage read-only: the data directory cannot be written")]
    ReadOnly,
    /// A flush of the database has not returned for longer than the configured limit: the disk
    /// does not answer.
    #[error("storage not responding: {0}")]
    Stalled(String),
    /// The database could not be read or written (another I/O error, or it is reopening).
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// A stored record could not be decoded.
    #[error("corrupt record {0}")]
    Corrupt(String),
    /// The data directory is locked by another process (a running server).
    #[error("the data directory is in use by another process (is the service running?)")]
    Locked,
}

impl StorageError {
    /// What an answer may say about this error: whether the disk is full, read-only or not
    /// responding, and nothing else about the machine.
    pub fn public_message(&self) -> &'static str {
        match self {
            StorageError::Full => "storage full (no space left on device); try again later",
            StorageError::ReadOnly => "storage is read-only; try again later",
            StorageError::Stalled(_) => {
                "storage not responding (a write to disk has not finished); try again later"
            }
            StorageError::Unavailable(_) | StorageError::Corrupt(_) | StorageError::Locked => {
                "storage is unavailable; try again later"
            }
        }
    }

    /// An error for a record that could not be encoded or decoded.
    pub fn corrupt(what: impl Into<String>) -> Self {
        StorageError::Corrupt(what.into())
    }
}

#[cfg(feature = "sled")]
impl From<sled::Error> for StorageError {
    /// Keeps what matters of sled's error: a poisoned database repeats the error that poisoned
    /// it, and [`crate::Handle`] keeps the kind of the cause, so full and read-only stay clear.
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Io(io) => io.into(),
            sled::Error::Corruption { .. } => StorageError::Corrupt("database".into()),
            other => StorageError::Unavailable(other.to_string()),
        }
    }
}

impl From<io::Error> for StorageError {
    fn from(io: io::Error) -> Self {
        match io.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => StorageError::Full,
            io::ErrorKind::ReadOnlyFilesystem => StorageError::ReadOnly,
            io::ErrorKind::TimedOut => StorageError::Stalled(io.to_string()),
            _ if is_lock_error(&io) => StorageError::Locked,
            _ => StorageError::Unavailable(io.to_string()),
        }
    }
}

#[cfg(feature = "sled")]
impl From<sled::transaction::TransactionError<StorageError>> for StorageError {
    fn from(e: sled::transaction::TransactionError<StorageError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_keep_their_meaning_and_answers_say_only_that() {
        let full: StorageError = io::Error::from(io::ErrorKind::StorageFull).into();
        assert_eq!(full, StorageError::Full);
        assert!(full.public_message().starts_with("storage full"));
        let ro: StorageError = io::Error::from(io::ErrorKind::ReadOnlyFilesystem).into();
        assert_eq!(ro, StorageError::ReadOnly);
        let stalled: StorageError = io::Error::new(io::ErrorKind::TimedOut, "slow").into();
        assert!(stalled.public_message().contains("not responding"));
        let other: StorageError = io::Error::other("/secret/path: EIO").into();
        assert!(!other.public_message().contains("secret"));
    }
}
