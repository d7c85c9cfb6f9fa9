//! civic-storage: durable storage shared by the civic-id issuer and verifier services.
//!
//! Not protocol logic (that lives in `civic-credential`), but the part of both services that
//! decides when an answer may go out: only once what it reports is on disk.
//!
//! - [`Handle`]: a sled 0.34 database that refuses writes before the disk is full (with a clear
//!   "no space left" error, while reads go on), reports a disk that stops answering, syncs its
//!   log for real (`fdatasync`), and reopens itself after a storage failure.
//! - [`GroupCommit`]: concurrent callers share one flush; none waits without bound.
//! - [`postgres::Database`] (feature `postgres`): the PostgreSQL database that several service
//!   instances share: pooled connections, versioned migrations, serializable transactions.
//! - [`StorageError`]: the one storage error of the services, with the words their 503 answers
//!   use for it.

#[cfg(feature = "sled")]
mod disk;
mod error;
#[cfg(feature = "sled")]
pub mod group_commit;
#[cfg(feature = "sled")]
mod handle;
#[cfg(feature = "postgres-testing")]
#[doc(hidden)]
pub mod pg_cluster;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "postgres")]
mod prepared;
#[cfg(feature = "testing")]
#[doc(hidden)]
pub mod testing;

pub use error::{is_lock_error, StorageError};
#[cfg(feature = "sled")]
pub use group_commit::{CommitError, GroupCommit};
#[cfg(feature = "sled")]
pub use handle::{Handle, Iter, Options, Reserve};
