//! Where counts live until their day closes, and the published days after: the
//! [`AnalyticsStore`] trait, in memory ([`MemoryAnalytics`]) and in sled (the session store's
//! [`crate::store::SledStore`], feature `sled-store`); PostgreSQL is in [`super::pg`].
//!
//! Per platform and open day a store keeps a random key, the keyed hashes (tags) of the
//! pseudonyms counted that day, and one counter per [`Cell`]. Closing the day writes its
//! [`PublishedDay`] and deletes the key, the tags and the counters, in that order: once a day is
//! closed only its published figures are left.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use civic_credential::crypto::hmac_sha256;
use civic_storage::StorageError;

use super::cohort::Cell;
use super::day::Day;
use super::publish::PublishedDay;

/// One verification to count.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The platform.
    pub platform: &'a str,
    /// The day it finished on.
    pub day: Day,
    /// The resident's pseudonym for the platform, when the policy asked for it: a pseudonym
    /// is counted once per day.
    pub pseudonym: Option<&'a str>,
    /// Where it counts.
    pub cell: &'a Cell,
    /// The day's key, if the day has none yet (fresh from a CSPRNG).
    pub fresh_key: [u8; 32],
    /// Which of the cell's counters to add to (spreads concurrent writers; summed at close).
    pub shard: u8,
}

/// What [`AnalyticsStore::record`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// Counted.
    Counted,
    /// This pseudonym was counted already that day.
    AlreadyCounted,
    /// The day is closed (published): nothing is added to it any more.
    DayClosed,
    /// The session has no outcome yet (pending or verifying): nothing to count.
    NotFinal,
}

/// Turns a day's true counts into what is published (noise drawn inside).
pub type Publisher<'a> = dyn FnMut(&BTreeMap<Cell, u64>) -> PublishedDay + 'a;

/// Storage of the analytics. Every call is atomic and durable when it returns.
pub trait AnalyticsStore: crate::fetch::MaybeSendSync {
    /// Counts one verification, unless its pseudonym was counted that day or the day is closed.
    fn record(&self, record: &Record<'_>) -> Result<Recorded, StorageError>;
    /// The open days (with counts, a key or tags) before `before`, by platform.
    fn open_days(&self, before: Day) -> Result<Vec<(String, Day)>, StorageError>;
    /// Closes `platform`'s `day`: `publish` turns its counts into the published day, which is
    /// stored, and the day's key, tags and counts are deleted. A day already published keeps
    /// its figures (another instance closed it). Returns whether this call published it.
    fn close_day(
        &self,
        platform: &str,
        day: Day,
        publish: &mut Publisher<'_>,
    ) -> Result<bool, StorageError>;
    /// The published days of `platform` from `from` to `to` (inclusive).
    fn published(
        &self,
        platform: &str,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, PublishedDay)>, StorageError>;
}

/// The tag a pseudonym is counted under on a day: HMAC-SHA-256 under the day's key.
pub fn tag(key: &[u8], platform: &str, pseudonym: &str) -> [u8; 32] {
    hmac_sha256(
        key,
        &[
            b"civic-analytics-seen\0",
            platform.as_bytes(),
            b"\0",
            pseudonym.as_bytes(),
        ],
    )
}

#[derive(Default)]
struct Memory {
    keys: HashMap<(String, Day), [u8; 32]>,
    seen: HashSet<(String, Day, [u8; 32])>,
    counts: HashMap<(String, Day), BTreeMap<Cell, u64>>,
    published: BTreeMap<(String, Day), PublishedDay>,
}

/// Analytics in memory (lost on restart): tests and single-process use.
#[derive(Default)]
pub struct MemoryAnalytics {
    inner: Mutex<Memory>,
}

impl MemoryAnalytics {
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Memory>, StorageError> {
        self.inner
            .lock()
            .map_err(|_| StorageError::Unavailable("lock poisoned".into()))
    }

    /// How many tags and keys are kept (tests: closed days keep none).
    pub fn kept_secrets(&self) -> Result<(usize, usize), StorageError> {
        let m = self.lock()?;
        Ok((m.keys.len(), m.seen.len()))
    }
}

impl AnalyticsStore for MemoryAnalytics {
    fn record(&self, r: &Record<'_>) -> Result<Recorded, StorageError> {
        let mut m = self.lock()?;
        let id = (r.platform.to_owned(), r.day);
        if m.published.contains_key(&id) {
            return Ok(Recorded::DayClosed);
        }
        let key = *m.keys.entry(id.clone()).or_insert(r.fresh_key);
        if let Some(p) = r.pseudonym {
            if !m
                .seen
                .insert((id.0.clone(), r.day, tag(&key, r.platform, p)))
            {
                return Ok(Recorded::AlreadyCounted);
            }
        }
        let n = m
            .counts
            .entry(id)
            .or_default()
            .entry(r.cell.clone())
            .or_default();
        *n = n.saturating_add(1);
        Ok(Recorded::Counted)
    }

    fn open_days(&self, before: Day) -> Result<Vec<(String, Day)>, StorageError> {
        let m = self.lock()?;
        let mut days: Vec<(String, Day)> = m
            .keys
            .keys()
            .chain(m.counts.keys())
            .filter(|(_, d)| *d < before)
            .cloned()
            .collect();
        days.sort();
        days.dedup();
        Ok(days)
    }

    fn close_day(
        &self,
        platform: &str,
        day: Day,
        publish: &mut Publisher<'_>,
    ) -> Result<bool, StorageError> {
        let mut m = self.lock()?;
        let id = (platform.to_owned(), day);
        let counts = m.counts.remove(&id).unwrap_or_default();
        m.keys.remove(&id);
        m.seen.retain(|(p, d, _)| !(p == platform && *d == day));
        if m.published.contains_key(&id) {
            return Ok(false);
        }
        m.published.insert(id, publish(&counts));
        Ok(true)
    }

    fn published(
        &self,
        platform: &str,
        from: Day,
        to: Day,
    ) -> Result<Vec<(Day, PublishedDay)>, StorageError> {
        let m = self.lock()?;
        Ok(m.published
            .range((platform.to_owned(), from)..=(platform.to_owned(), to))
            .map(|((_, d), p)| (*d, p.clone()))
            .collect())
    }
}

#[cfg(feature = "sled-store")]
mod sled_impl {
    use super::*;
    use crate::store::SledStore;
    use sled::transaction::{ConflictableTransactionError, TransactionError};

    /// `a/<kind>\0<platform>\0<day, 8 bytes big-endian>`.
    fn key(kind: &str, platform: &str, day: Day) -> Vec<u8> {
        let mut k = format!("a/{kind}\0{platform}\0").into_bytes();
        k.extend_from_slice(&day.0.max(0).to_be_bytes());
        k
    }

    fn with(mut base: Vec<u8>, rest: &[u8]) -> Vec<u8> {
        base.push(0);
        base.extend_from_slice(rest);
        base
    }

    /// The platform and day of a key made by [`key`].
    fn parse(k: &[u8], kind: &str) -> Option<(String, Day)> {
        let rest = k.strip_prefix(format!("a/{kind}\0").as_bytes())?;
        let nul = rest.iter().position(|b| *b == 0)?;
        let platform = std::str::from_utf8(rest.get(..nul)?).ok()?;
        let day: [u8; 8] = rest.get(nul + 1..nul + 9)?.try_into().ok()?;
        Some((platform.to_owned(), Day(i64::from_be_bytes(day))))
    }

    fn count(v: Option<&[u8]>) -> u64 {
        v.and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map_or(0, u64::from_be_bytes)
    }

    fn storage(e: TransactionError<()>) -> StorageError {
        match e {
            TransactionError::Storage(e) => StorageError::from(e),
            TransactionError::Abort(()) => StorageError::corrupt("analytics transaction"),
        }
    }

    impl SledStore {
        fn remove_prefix(&self, prefix: &[u8]) -> Result<(), StorageError> {
            let mut keys = Vec::new();
            for item in self.db.scan_prefix(prefix) {
                keys.push(item.map_err(StorageError::from)?.0);
            }
            for k in keys {
                self.db.remove(k).map_err(StorageError::from)?;
            }
            Ok(())
        }
    }

    impl AnalyticsStore for SledStore {
        fn record(&self, r: &Record<'_>) -> Result<Recorded, StorageError> {
            let day_key = key("k", r.platform, r.day);
            let published = key("p", r.platform, r.day);
            let counter = with(
                key("c", r.platform, r.day),
                &[
                    serde_json::to_vec(r.cell)
                        .map_err(|e| StorageError::corrupt(format!("cell: {e}")))?
                        .as_slice(),
                    &[0, r.shard],
                ]
                .concat(),
            );
            let outcome = self
                .db
                .transaction(|t| {
                    if t.get(&published)?.is_some() {
                        return Ok(Recorded::DayClosed);
                    }
                    let secret = match t.get(&day_key)? {
                        Some(k) => k.to_vec(),
                        None => {
                            t.insert(day_key.as_slice(), &r.fresh_key[..])?;
                            r.fresh_key.to_vec()
                        }
                    };
                    if let Some(p) = r.pseudonym {
                        let seen = with(key("s", r.platform, r.day), &tag(&secret, r.platform, p));
                        if t.get(&seen)?.is_some() {
                            return Ok(Recorded::AlreadyCounted);
                        }
                        t.insert(seen, &[][..])?;
                    }
                    let n = count(t.get(&counter)?.as_deref()).saturating_add(1);
                    t.insert(counter.as_slice(), &n.to_be_bytes()[..])?;
                    Ok::<_, ConflictableTransactionError<()>>(Recorded::Counted)
                })
                .map_err(storage)?;
            self.db.sync().map_err(StorageError::from)?;
            Ok(outcome)
        }

        fn open_days(&self, before: Day) -> Result<Vec<(String, Day)>, StorageError> {
            let mut days = Vec::new();
            // Every open day has a key and a counter (written together); a day whose closing
            // stopped half-way still has its counters (deleted last).
            for kind in ["k", "c"] {
                for item in self.db.scan_prefix(format!("a/{kind}\0")) {
                    let (k, _) = item.map_err(StorageError::from)?;
                    if let Some((p, d)) = parse(&k, kind).filter(|(_, d)| *d < before) {
                        days.push((p, d));
                    }
                }
            }
            days.sort();
            days.dedup();
            Ok(days)
        }

        fn close_day(
            &self,
            platform: &str,
            day: Day,
            publish: &mut Publisher<'_>,
        ) -> Result<bool, StorageError> {
            let published = key("p", platform, day);
            let fresh = self
                .db
                .get(&published)
                .map_err(StorageError::from)?
                .is_none();
            if fresh {
                let mut counts: BTreeMap<Cell, u64> = BTreeMap::new();
                let prefix = with(key("c", platform, day), &[]);
                for item in self.db.scan_prefix(&prefix) {
                    let (k, v) = item.map_err(StorageError::from)?;
                    // The cell's JSON, then `\0` and the shard.
                    let json = k
                        .get(prefix.len()..k.len().saturating_sub(2))
                        .unwrap_or_default();
                    let cell: Cell = serde_json::from_slice(json)
                        .map_err(|e| StorageError::corrupt(format!("analytics cell: {e}")))?;
                    let n = counts.entry(cell).or_default();
                    *n = n.saturating_add(count(Some(&v)));
                }
                let figures = serde_json::to_vec(&publish(&counts))
                    .map_err(|e| StorageError::corrupt(format!("published day: {e}")))?;
                self.db
                    .insert(&published, figures)
                    .map_err(StorageError::from)?;
                self.db.sync().map_err(StorageError::from)?;
            }
            self.remove_prefix(&with(key("s", platform, day), &[]))?;
            self.remove_prefix(&key("k", platform, day))?;
            self.remove_prefix(&with(key("c", platform, day), &[]))?;
            self.db.sync().map_err(StorageError::from)?;
            Ok(fresh)
        }

        fn published(
            &self,
            platform: &str,
            from: Day,
            to: Day,
        ) -> Result<Vec<(Day, PublishedDay)>, StorageError> {
            let (lo, hi) = (key("p", platform, from), key("p", platform, to));
            let mut out = Vec::new();
            for item in self.db.range(lo..=hi) {
                let (k, v) = item.map_err(StorageError::from)?;
                let Some((_, day)) = parse(&k, "p") else {
                    continue;
                };
                let figures: PublishedDay = serde_json::from_slice(&v)
                    .map_err(|e| StorageError::corrupt(format!("published day: {e}")))?;
                out.push((day, figures));
            }
            Ok(out)
        }
    }
}
