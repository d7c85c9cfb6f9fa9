//! The PostgreSQL database (feature `postgres`): a pool of connections, versioned migrations,
//! and transactions that are serializable, retried on conflict, and durable when they commit.
//!
//! Both services' traits are synchronous and their callers run them on blocking threads
//! (`civic_service::run::blocking`), so this is the synchronous `postgres` client behind an
//! `r2d2` pool: a store call holds one connection for one transaction and gives it back.
//!
//! What it promises the stores built on it:
//! - **Atomic and isolated**: every [`Database::transaction`] runs at `SERIALIZABLE`; when
//!   PostgreSQL finds it conflicts with a concurrent one (SQLSTATE 40001, or a deadlock, 40P01)
//!   it is run again from the start, so a store's logic reads as if it ran alone, across every
//!   instance on the database.
//! - **Durable before the answer**: each session runs with `synchronous_commit = on`, and
//!   [`Database::connect`] refuses a server with `fsync = off`, so a commit that returned is on
//!   the server's disk.
//! - **Prepared once**: each pooled connection keeps the statements it has prepared, by their
//!   text ([`Transaction`], `prepared.rs`), so a store call skips the server's parse and plan.
//! - **Unavailable, not hung**: a database that does not answer gives
//!   [`StorageError::Unavailable`] within the pool's connection timeout, and a statement that runs
//!   longer than the statement timeout gives [`StorageError::Stalled`]; the services answer both
//!   with 503. Broken connections are dropped, so service resumes when the database is back.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use postgres::config::SslMode;
use postgres::{error::SqlState, IsolationLevel, NoTls};
use postgres_openssl::MakeTlsConnector;
use r2d2::PooledConnection;
use r2d2_postgres::PostgresConnectionManager;

use crate::prepared::{Manager, PreparingClient};

use crate::StorageError;

pub use crate::prepared::Transaction;
pub use postgres::types::Json;
pub use postgres::Row;

/// How to reach the database and how much to ask of it.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections this process keeps at most.
    pub max_connections: u32,
    /// How long a call waits for a connection before it is answered with "unavailable".
    pub connect_timeout: Duration,
    /// A statement running longer than this is cancelled and reported as stalled.
    pub statement_timeout: Duration,
    /// The name this process shows in `pg_stat_activity`.
    pub application_name: String,
    /// With `sslmode=require` in the URL: the CA certificates (PEM) the server's certificate
    /// must lead to, instead of the system's. The server's name (or IP address) in the URL
    /// must be in its certificate.
    pub ca_file: Option<PathBuf>,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 16,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(15),
            application_name: "civic-id".into(),
            ca_file: None,
        }
    }
}

/// One versioned step of a schema: applied once, in order, in its own transaction.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; the steps of a component are numbered 1, 2, 3 …
    pub version: i32,
    /// What it does, in a few words (kept in the migrations table).
    pub name: &'static str,
    /// The SQL it runs.
    pub sql: &'static str,
}

/// Why a transaction's body stopped: a database error (retried when it is a serialization
/// conflict) or an error of the store's own (returned as it is).
#[derive(Debug)]
pub enum TxError {
    /// From PostgreSQL.
    Pg(postgres::Error),
    /// From the store: ends the transaction without retrying.
    Abort(StorageError),
}

impl From<postgres::Error> for TxError {
    fn from(e: postgres::Error) -> Self {
        TxError::Pg(e)
    }
}

impl From<StorageError> for TxError {
    fn from(e: StorageError) -> Self {
        TxError::Abort(e)
    }
}

/// Result of a transaction's body.
pub type TxResult<T> = Result<T, TxError>;

/// The pool: plain connections, or TLS ones when the URL says `sslmode=require`.
enum Pool {
    Plain(r2d2::Pool<Manager<NoTls>>),
    Tls(r2d2::Pool<Manager<MakeTlsConnector>>),
}

/// A connection out of either pool.
enum Conn {
    Plain(PooledConnection<Manager<NoTls>>),
    Tls(PooledConnection<Manager<MakeTlsConnector>>),
}

impl Pool {
    fn get(&self) -> Result<Conn, r2d2::Error> {
        Ok(match self {
            Pool::Plain(p) => Conn::Plain(p.get()?),
            Pool::Tls(p) => Conn::Tls(p.get()?),
        })
    }
}

impl Conn {
    fn client(&mut self) -> &mut PreparingClient {
        match self {
            Conn::Plain(c) => c,
            Conn::Tls(c) => c,
        }
    }
}

/// What TLS a connection to the server uses: verified TLS 1.2 or later, against `ca_file` or
/// the system's CAs, with the server's name checked.
fn tls_connector(options: &PgOptions) -> Result<MakeTlsConnector, StorageError> {
    let tls =
        |e: openssl::error::ErrorStack| StorageError::Unavailable(format!("database TLS: {e}"));
    let mut builder = SslConnector::builder(SslMethod::tls_client()).map_err(tls)?;
    builder
        .set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(tls)?;
    if let Some(ca) = &options.ca_file {
        builder.set_ca_file(ca).map_err(|e| {
            StorageError::Unavailable(format!("database CA file {}: {e}", ca.display()))
        })?;
    }
    Ok(MakeTlsConnector::new(builder.build()))
}

/// A pool of connections to one PostgreSQL database.
///
/// Each connection of the synchronous client runs a small runtime of its own, which must not be
/// started or dropped on an async worker thread: call the database from blocking threads (the
/// services' store calls run in `civic_service::run::blocking`) or from plain ones (the CLI).
/// Connecting and dropping the pool are safe anywhere: they move to a thread of their own.
pub struct Database {
    pool: Option<Pool>,
    retries: u32,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            // Closing the connections stops their runtimes, which an async thread may not do.
            let _ = std::thread::Builder::new()
                .name("civic-pg-close".into())
                .spawn(move || drop(pool));
        }
    }
}

/// Why a server without `fsync` is refused.
const FSYNC_OFF: &str = "PostgreSQL runs with fsync = off: a crash could lose changes that were \
                         already answered; turn fsync on (docs/operations.md)";

/// How often a transaction that conflicted is run again before the call gives up (503).
const MAX_ATTEMPTS: u32 = 64;

impl Database {
    /// Connects to `url` (`postgres://user@host:port/db`, or a libpq key=value string) and
    /// checks that the server keeps the durability promise (`fsync` on).
    pub fn connect(url: &str, options: &PgOptions) -> Result<Self, StorageError> {
        std::thread::scope(|s| {
            s.spawn(|| Self::connect_here(url, options))
                .join()
                .unwrap_or_else(|_| {
                    Err(StorageError::Unavailable("database: connect failed".into()))
                })
        })
    }

    /// [`Database::connect`], then [`Database::migrate`] `component` to `migrations`: what a
    /// service does at start. Safe to call on an async thread.
    pub fn open(
        url: &str,
        options: &PgOptions,
        component: &str,
        migrations: &[Migration],
    ) -> Result<Self, StorageError> {
        std::thread::scope(|s| {
            s.spawn(|| {
                let db = Self::connect_here(url, options)?;
                db.migrate(component, migrations)?;
                Ok(db)
            })
            .join()
            .unwrap_or_else(|_| Err(StorageError::Unavailable("database: connect failed".into())))
        })
    }

    fn connect_here(url: &str, options: &PgOptions) -> Result<Self, StorageError> {
        let mut config = postgres::Config::from_str(url)
            .map_err(|e| StorageError::Unavailable(format!("database URL: {e}")))?;
        let mut session_options = config.get_options().unwrap_or_default().to_owned();
        session_options.push_str(&format!(
            " -c synchronous_commit=on -c statement_timeout={} -c idle_in_transaction_session_timeout=60000",
            options.statement_timeout.as_millis()
        ));
        config
            .options(session_options.trim())
            .application_name(&options.application_name)
            .connect_timeout(options.connect_timeout);
        fn builder<M: r2d2::ManageConnection>(options: &PgOptions) -> r2d2::Builder<M> {
            r2d2::Pool::builder()
                .max_size(options.max_connections.max(1))
                .min_idle(Some(0))
                .connection_timeout(options.connect_timeout)
        }
        let pool_error = |e: r2d2::Error| StorageError::Unavailable(format!("database: {e}"));
        // `prefer` (the default) is not taken as a wish for TLS: it would fall back to plain
        // text for anyone in the middle. Ask for `require` to get verified TLS.
        // One connection first, so that a refusal says why in full (the pool keeps only the
        // outer message: "error performing TLS handshake", not which certificate failed).
        let probe =
            |e: postgres::Error| StorageError::Unavailable(format!("database: {}", chain(&e)));
        let pool = match config.get_ssl_mode() {
            SslMode::Require => {
                let tls = tls_connector(options)?;
                drop(config.connect(tls.clone()).map_err(probe)?);
                Pool::Tls(
                    builder(options)
                        .build(Manager(PostgresConnectionManager::new(config, tls)))
                        .map_err(pool_error)?,
                )
            }
            _ => {
                drop(config.connect(NoTls).map_err(probe)?);
                Pool::Plain(
                    builder(options)
                        .build(Manager(PostgresConnectionManager::new(config, NoTls)))
                        .map_err(pool_error)?,
                )
            }
        };
        let db = Database {
            pool: Some(pool),
            retries: MAX_ATTEMPTS,
        };
        let fsync = db.transaction(|tx| {
            let row = tx.query_one("SHOW fsync", &[])?;
            Ok(row.try_get::<_, String>(0)?)
        })?;
        if fsync != "on" {
            return Err(StorageError::Unavailable(FSYNC_OFF.into()));
        }
        Ok(db)
    }

    /// Applies the migrations of `component` that this database has not seen, in order, each in
    /// its own transaction, while holding a lock that other instances starting at the same time
    /// wait for. Returns how many were applied. A database that has steps this build does not
    /// know (a newer release ran on it) is an error: this build would not understand its data.
    pub fn migrate(
        &self,
        component: &str,
        migrations: &[Migration],
    ) -> Result<usize, StorageError> {
        let known = migrations.iter().map(|m| m.version).max().unwrap_or(0);
        // Read committed: after waiting for the lock, the next statement sees what the instance
        // that held it committed (a serializable snapshot would predate it).
        self.run(IsolationLevel::ReadCommitted, |tx| {
            // One lock for every component's migrations: they may share the database.
            tx.execute("SELECT pg_advisory_xact_lock(7420160)", &[])?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS civic_schema_migrations (
                    component  TEXT    NOT NULL,
                    version    INTEGER NOT NULL,
                    name       TEXT    NOT NULL,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (component, version))",
            )?;
            let current: i32 = tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM civic_schema_migrations WHERE component = $1",
                    &[&component],
                )?
                .try_get(0)?;
            if current > known {
                return Err(TxError::Abort(StorageError::Unavailable(format!(
                    "the database's {component} schema is at version {current}, newer than this \
                     build knows ({known}): run the newer release"
                ))));
            }
            let mut applied = 0;
            for m in migrations.iter().filter(|m| m.version > current) {
                tx.batch_execute(m.sql)?;
                tx.execute(
                    "INSERT INTO civic_schema_migrations (component, version, name) VALUES ($1, $2, $3)",
                    &[&component, &m.version, &m.name],
                )?;
                applied += 1;
            }
            Ok(applied)
        })
    }

    /// The schema version of `component` in this database (0 before its first migration).
    pub fn schema_version(&self, component: &str) -> Result<i32, StorageError> {
        self.transaction(|tx| {
            let exists: bool = tx
                .query_one("SELECT to_regclass('civic_schema_migrations') IS NOT NULL", &[])?
                .try_get(0)?;
            if !exists {
                return Ok(0);
            }
            Ok(tx
                .query_one(
                    "SELECT COALESCE(MAX(version), 0) FROM civic_schema_migrations WHERE component = $1",
                    &[&component],
                )?
                .try_get(0)?)
        })
    }

    /// Runs `body` in one serializable transaction and commits it; runs it again from the start
    /// when it conflicted with a concurrent transaction. `body` must not have effects outside
    /// the database, since it may run more than once.
    pub fn transaction<T>(
        &self,
        body: impl FnMut(&mut Transaction<'_>) -> TxResult<T>,
    ) -> Result<T, StorageError> {
        self.run(IsolationLevel::Serializable, body)
    }

    fn run<T>(
        &self,
        isolation: IsolationLevel,
        mut body: impl FnMut(&mut Transaction<'_>) -> TxResult<T>,
    ) -> Result<T, StorageError> {
        let pool = self
            .pool
            .as_ref()
            .ok_or_else(|| StorageError::Unavailable("database closed".into()))?;
        let mut conn = pool
            .get()
            .map_err(|e| StorageError::Unavailable(format!("database not reachable: {e}")))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = (|| {
                let mut tx = conn.client().transaction(isolation)?;
                let value = body(&mut tx)?;
                tx.commit()?;
                Ok(value)
            })();
            match outcome {
                Ok(value) => return Ok(value),
                Err(TxError::Abort(e)) => return Err(e),
                Err(TxError::Pg(e)) if is_conflict(&e) && attempt < self.retries => {
                    // Back off a little, more after each try, so the conflicting ones spread out.
                    let jitter = u64::from(rand_jitter()) % (u64::from(attempt) * 2 + 1);
                    std::thread::sleep(Duration::from_millis(jitter));
                }
                Err(TxError::Pg(e)) => return Err(storage_error(&e)),
            }
        }
    }

    /// Checks that the database answers, takes writes (not a read-only standby) and still keeps
    /// the durability promise (`fsync` on: an operator may have turned it off since the start),
    /// without writing anything.
    pub fn health(&self) -> Result<(), StorageError> {
        let (read_only, fsync) = self.transaction(|tx| {
            let row = tx.query_one("SELECT pg_is_in_recovery(), current_setting('fsync')", &[])?;
            Ok((row.try_get::<_, bool>(0)?, row.try_get::<_, String>(1)?))
        })?;
        if read_only {
            return Err(StorageError::ReadOnly);
        }
        if fsync != "on" {
            return Err(StorageError::Unavailable(FSYNC_OFF.into()));
        }
        Ok(())
    }
}

/// An error and its causes, as one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Whether PostgreSQL asks for the transaction to be run again.
fn is_conflict(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// What a database error means for the caller: the details go to the log, the answer says only
/// "unavailable" (or "not responding" for a statement that ran too long).
fn storage_error(e: &postgres::Error) -> StorageError {
    let detail = match e.as_db_error() {
        Some(db) => format!("database: {} ({})", db.message(), db.code().code()),
        None => format!("database: {e}"),
    };
    match e.code() {
        Some(c) if *c == SqlState::QUERY_CANCELED => StorageError::Stalled(detail),
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => StorageError::ReadOnly,
        Some(c) if *c == SqlState::DISK_FULL => StorageError::Full,
        _ => StorageError::Unavailable(detail),
    }
}

/// A few random bits for the back-off, from the clock (no need for a CSPRNG here).
fn rand_jitter() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_micros())
        .unwrap_or(0)
}

/// Decodes a JSON column into a record, or says which record is corrupt.
pub fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, StorageError> {
    serde_json::from_value(value).map_err(|e| StorageError::corrupt(format!("{what}: {e}")))
}

/// Encodes a record for a JSON column.
pub fn encode<T: serde::Serialize>(value: &T) -> Result<serde_json::Value, StorageError> {
    serde_json::to_value(value).map_err(|e| StorageError::corrupt(format!("encoding: {e}")))
}
