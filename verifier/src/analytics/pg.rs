//! The analytics in PostgreSQL (feature `pg-store`), in the session store's database: the
//! tables of schema step 2 ([`crate::pg_store::MIGRATIONS`]). Each call is one serializable
//! transaction (run again on a conflict), so instances sharing the database count a pseudonym
//! once a day and close a day once. A cell's count is spread over a few rows (shards), summed
//! when the day closes, so that concurrent answers seldom touch the same row.

use std::collections::BTreeMap;

use civic_storage::postgres::Json;
use civic_storage::StorageError;

use super::cohort::Cell;
use super::day::Day;
use super::publish::PublishedDay;
use super::store::{tag, AnalyticsStore, Publisher, Record, Recorded};
use crate::pg_store::PgStore;

/// Schema step 2: the analytics tables.
pub const SCHEMA: &str = "
    CREATE TABLE verifier_analytics_keys (
        platform TEXT   NOT NULL,
        day      BIGINT NOT NULL,
        key      BYTEA  NOT NULL,
        PRIMARY KEY (platform, day));
    CREATE TABLE verifier_analytics_seen (
        platform TEXT   NOT NULL,
        day      BIGINT NOT NULL,
        tag      BYTEA  NOT NULL,
        PRIMARY KEY (platform, day, tag));
    CREATE TABLE verifier_analytics_counts (
        platform TEXT     NOT NULL,
        day      BIGINT   NOT NULL,
        cell     JSONB    NOT NULL,
        shard    SMALLINT NOT NULL,
        n        BIGINT   NOT NULL,
        PRIMARY KEY (platform, day, cell, shard));
    CREATE TABLE verifier_analytics_published (
        platform TEXT   NOT NULL,
        day      BIGINT NOT NULL,
        figures  JSONB  NOT NULL,
        PRIMARY KEY (platform, day));";

impl AnalyticsStore for PgStore {
    fn record(&self, r: &Record<'_>) -> Result<Recorded, StorageError> {
        let cell = civic_storage::postgres::encode(r.cell)?;
        let shard = i16::from(r.shard);
        self.database().transaction(|tx| {
            let closed = tx.query_opt(
                "SELECT 1 FROM verifier_analytics_published WHERE platform = $1 AND day = $2",
                &[&r.platform, &r.day.0],
            )?;
            if closed.is_some() {
                return Ok(Recorded::DayClosed);
            }
            tx.execute(
                "INSERT INTO verifier_analytics_keys (platform, day, key) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&r.platform, &r.day.0, &&r.fresh_key[..]],
            )?;
            if let Some(p) = r.pseudonym {
                let row = tx.query_one(
                    "SELECT key FROM verifier_analytics_keys WHERE platform = $1 AND day = $2",
                    &[&r.platform, &r.day.0],
                )?;
                let key: Vec<u8> = row.try_get(0)?;
                let t = tag(&key, r.platform, p);
                let added = tx.execute(
                    "INSERT INTO verifier_analytics_seen (platform, day, tag) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&r.platform, &r.day.0, &&t[..]],
                )?;
                if added == 0 {
                    return Ok(Recorded::AlreadyCounted);
                }
            }
            tx.execute(
                "INSERT INTO verifier_analytics_counts (platform, day, cell, shard, n)
                 VALUES ($1, $2, $3, $4, 1)
                 ON CONFLICT (platform, day, cell, shard)
                 DO UPDATE SET n = verifier_analytics_counts.n + 1",
                &[&r.platform, &r.day.0, &Json(&cell), &shard],
            )?;
            Ok(Recorded::Counted)
        })
    }

    fn open_days(&self, before: Day) -> Result<Vec<(String, Day)>, StorageError> {
        self.database().transaction(|tx| {
            let mut days = Vec::new();
            for r in tx.query(
                // A day's key, tags and counts come and go in one transaction: the keys say
                // which days are open.
                "SELECT platform, day FROM verifier_analytics_keys WHERE day < $1
                 UNION SELECT platform, day FROM verifier_analytics_counts WHERE day < $1
                 ORDER BY 1, 2",
                &[&before.0],
            )? {
                days.push((r.try_get::<_, String>(0)?, Day(r.try_get::<_, i64>(1)?)));
            }
            Ok(days)
        })
    }

    fn close_day(
        &self,
        platform: &str,
        day: Day,
        publish: &mut Publisher<'_>,
    ) -> Result<bool, StorageError> {
        self.database().transaction(|tx| {
            let done = tx
                .query_opt(
                    "SELECT 1 FROM verifier_analytics_published WHERE platform = $1 AND day = $2",
                    &[&platform, &day.0],
                )?
                .is_some();
            let mut counts: BTreeMap<Cell, u64> = BTreeMap::new();
            for row in tx.query(
                "SELECT cell, SUM(n)::BIGINT FROM verifier_analytics_counts
                 WHERE platform = $1 AND day = $2 GROUP BY cell",
                &[&platform, &day.0],
            )? {
                let cell: Cell = civic_storage::postgres::decode(
                    "analytics cell",
                    row.try_get::<_, serde_json::Value>(0)?,
                )?;
                let n: i64 = row.try_get(1)?;
                counts.insert(cell, u64::try_from(n).unwrap_or(0));
            }
            if !done {
                let figures = civic_storage::postgres::encode(&publish(&counts))?;
                tx.execute(
                    "INSERT INTO verifier_analytics_published (platform, day, figures)
                     VALUES ($1, $2, $3)",
                    &[&platform, &day.0, &Json(&figures)],
                )?;
            }
            for table in [
                "verifier_analytics_keys",
                "verifier_analytics_seen",
                "verifier_analytics_counts",
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE platform = $1 AND day = $2"),
                    &[&platform, &day.0],
                )?;
            }
            Ok(!done)
        })
    }

    fn published(
        &self,
        platform: &str,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, PublishedDay)>, StorageError> {
        self.database().transaction(|tx| {
            let mut out = Vec::new();
            for r in tx.query(
                "SELECT day, figures FROM verifier_analytics_published
                 WHERE platform = $1 AND day BETWEEN $2 AND $3 ORDER BY day",
                &[&platform, &from.0, &to.0],
            )? {
                let day = Day(r.try_get::<_, i64>(0)?);
                let v: serde_json::Value = r.try_get(1)?;
                out.push((day, civic_storage::postgres::decode("published day", v)?));
            }
            Ok(out)
        })
    }
}
