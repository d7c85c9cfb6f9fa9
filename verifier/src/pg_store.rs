//! Sessions in PostgreSQL (feature `pg-store`): the store several verifier service instances
//! share. A session is one row; [`SessionStore::begin_response`] moves it from pending to
//! verifying in one serializable transaction, so of two instances that receive the same answer
//! at once, exactly one goes on to check it.

use civic_storage::postgres::{decode, encode, Database, Json, Migration, PgOptions};
use civic_storage::StorageError;

use crate::session::{Session, SessionStatus};
use crate::store::{begin, Begin, SessionStore};

/// The verifier's schema steps (component `verifier`).
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "sessions",
        sql: "CREATE TABLE verifier_sessions (
              id      TEXT   PRIMARY KEY,
              expires BIGINT NOT NULL,
              session JSONB  NOT NULL);
          CREATE INDEX verifier_sessions_expires ON verifier_sessions (expires);",
    },
    Migration {
        version: 2,
        name: "analytics",
        sql: crate::analytics::pg::SCHEMA,
    },
];

/// Sessions in a PostgreSQL database.
pub struct PgStore {
    db: Database,
}

impl PgStore {
    /// Connects to `url` and brings the schema up to date.
    pub fn open(url: &str, options: &PgOptions) -> Result<Self, StorageError> {
        Ok(PgStore {
            db: Database::open(url, options, "verifier", MIGRATIONS)?,
        })
    }

    /// The database (for health checks).
    pub fn database(&self) -> &Database {
        &self.db
    }
}

impl SessionStore for PgStore {
    fn create(&self, session: &Session) -> Result<(), StorageError> {
        let value = encode(session)?;
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO verifier_sessions (id, expires, session) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET expires = EXCLUDED.expires, session = EXCLUDED.session",
                &[&session.id, &session.expires, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn get(&self, id: &str) -> Result<Option<Session>, StorageError> {
        let row = self.db.transaction(|tx| {
            Ok(tx.query_opt(
                "SELECT session FROM verifier_sessions WHERE id = $1",
                &[&id],
            )?)
        })?;
        row.map(|r| decode("session", r.get::<_, serde_json::Value>(0)))
            .transpose()
    }

    fn begin_response(&self, id: &str, now: i64) -> Result<Begin, StorageError> {
        self.db.transaction(|tx| {
            let Some(row) = tx.query_opt(
                "SELECT session FROM verifier_sessions WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            else {
                return Ok(Begin::Unknown);
            };
            let mut session: Session = decode("session", row.get::<_, serde_json::Value>(0))?;
            let outcome = begin(&mut session, now);
            if matches!(outcome, Begin::Started(_)) {
                let value = encode(&session)?;
                tx.execute(
                    "UPDATE verifier_sessions SET session = $2 WHERE id = $1",
                    &[&id, &Json(&value)],
                )?;
            }
            Ok(outcome)
        })
    }

    fn finish(
        &self,
        id: &str,
        status: SessionStatus,
        code: Option<String>,
    ) -> Result<(), StorageError> {
        self.db.transaction(|tx| {
            let Some(row) = tx.query_opt(
                "SELECT session FROM verifier_sessions WHERE id = $1 FOR UPDATE",
                &[&id],
            )?
            else {
                return Ok(());
            };
            let mut session: Session = decode("session", row.get::<_, serde_json::Value>(0))?;
            session.status = status.clone();
            session.response_code_hash = code.clone();
            let value = encode(&session)?;
            tx.execute(
                "UPDATE verifier_sessions SET session = $2 WHERE id = $1",
                &[&id, &Json(&value)],
            )?;
            Ok(())
        })
    }

    fn health(&self) -> Result<(), StorageError> {
        self.db.health()
    }

    fn purge(&self, before: i64) -> Result<usize, StorageError> {
        self.db.transaction(|tx| {
            let n = tx.execute(
                "DELETE FROM verifier_sessions WHERE expires + 3600 <= $1",
                &[&before],
            )?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }
}
