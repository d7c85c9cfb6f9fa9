//! Engagement analytics: how many residents took part, per platform and day, by outcome,
//! district and age band, published so that no one can be singled out.
//!
//! - **Counting** ([`Analytics::record`], from [`crate::flow::Flow::finish`]): each answered
//!   session adds one to its day's [`Cell`] (outcome; district and age band when the policy asked
//!   for them, [`cohort`]). A pseudonym counts once a day: the store keeps, for the open day, a
//!   keyed hash of it under a key drawn at random for that day ([`store::tag`]). Declines and
//!   errors, and policies without a pseudonym, carry nothing to recognise a resident by: they
//!   count once per session.
//! - **Closing** ([`Analytics::close_days`], from the periodic purge and before each report): a
//!   day is published once it is over (plus `close_after_secs`): its counts become
//!   [`publish::PublishedDay`] figures (noise, then the threshold k), and the day's key, tags
//!   and counts are deleted. Nothing about a day is shown before it closes, so figures taken a
//!   few minutes apart cannot be subtracted to see one answer.
//! - **Reading** ([`Analytics::report`]): the published days of a range, and their totals.
//!
//! Nothing here stores a claim value per resident: a session's cohort goes from the check to
//! its counter and is dropped.

pub mod cohort;
pub mod day;
pub mod noise;
#[cfg(feature = "pg-store")]
pub mod pg;
pub mod publish;
pub mod report;
pub mod store;

use std::sync::{Arc, Mutex};

use rand_core::{CryptoRng, OsRng, RngCore};
use serde::{Deserialize, Serialize};

use civic_storage::StorageError;

use crate::session::SessionStatus;
pub use cohort::{Cell, Cohort};
pub use day::Day;
use noise::NoiseSpec;
pub use publish::PublishedDay;
use report::{DayReport, Report, Totals};
pub use store::{AnalyticsStore, MemoryAnalytics, Recorded};

/// How many views of a day count each resident (outcome, district, age band): ε is split
/// between them.
pub const VIEWS: u32 = 3;

/// How many counters each cell is spread over.
const SHARDS: u8 = 8;

/// `[analytics]` in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsSettings {
    /// Count and publish (on by default).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// No published figure is under k (default 10, at least 2).
    #[serde(default = "default_k")]
    pub k: u64,
    /// The privacy budget per resident and day: each figure gets discrete Laplace noise of
    /// scale `3/ε` ([`VIEWS`] views). Unset: exact figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epsilon: Option<f64>,
    /// The longest range a report covers, in days.
    #[serde(default = "default_range")]
    pub max_range_days: u32,
    /// The deployment's days start at midnight this many minutes east of UTC.
    #[serde(default)]
    pub utc_offset_minutes: i32,
    /// A day closes this long after its end (answers still being checked at midnight count).
    #[serde(default = "default_grace")]
    pub close_after_secs: i64,
}

fn yes() -> bool {
    true
}
fn default_k() -> u64 {
    10
}
fn default_range() -> u32 {
    366
}
fn default_grace() -> i64 {
    900
}

impl Default for AnalyticsSettings {
    fn default() -> Self {
        AnalyticsSettings {
            enabled: true,
            k: default_k(),
            epsilon: None,
            max_range_days: default_range(),
            utc_offset_minutes: 0,
            close_after_secs: default_grace(),
        }
    }
}

impl AnalyticsSettings {
    /// Checks the values: k ≥ 2, 0 < ε ≤ 10, a range of 1 to 3660 days, an offset within ±14 h,
    /// a grace of 0 to 6 hours.
    pub fn check(&self) -> Result<(), String> {
        if self.k < 2 {
            return Err("analytics.k must be at least 2".into());
        }
        if let Some(e) = self.epsilon {
            if !(e.is_finite() && e > 0.0 && e <= 10.0) {
                return Err("analytics.epsilon must be above 0 and at most 10".into());
            }
        }
        if !(1..=3660).contains(&self.max_range_days) {
            return Err("analytics.max_range_days must be 1 to 3660".into());
        }
        if self.utc_offset_minutes.abs() > 14 * 60 {
            return Err("analytics.utc_offset_minutes must be within ±840".into());
        }
        if !(0..=6 * 3600).contains(&self.close_after_secs) {
            return Err("analytics.close_after_secs must be 0 to 21600".into());
        }
        Ok(())
    }

    /// The noise of every figure, when ε is set.
    pub fn noise(&self) -> Option<NoiseSpec> {
        self.epsilon
            .map(|e| NoiseSpec::new(e, VIEWS).with_threshold(self.k))
    }

    fn offset_secs(&self) -> i64 {
        i64::from(self.utc_offset_minutes) * 60
    }
}

/// Why a report cannot be made, in the analytics' words.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    /// A date is not `YYYY-MM-DD`.
    #[error(transparent)]
    BadDate(#[from] day::BadDate),
    /// `from` comes after `to`.
    #[error("from ({from}) is after to ({to})")]
    Reversed {
        /// The first day asked for.
        from: Day,
        /// The last.
        to: Day,
    },
    /// The range is longer than allowed.
    #[error("the range covers {days} days; at most {max} are allowed")]
    TooLong {
        /// Days asked for.
        days: i64,
        /// The most allowed.
        max: u32,
    },
    /// Analytics are off in this deployment.
    #[error("analytics are not enabled")]
    Disabled,
    /// The store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// A range of days, checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First day.
    pub from: Day,
    /// Last day (inclusive).
    pub to: Day,
}

/// The analytics of a deployment: a store, the settings, and the random source of keys and
/// noise (the OS's CSPRNG; tests may give a seeded one).
pub struct Analytics {
    store: Arc<dyn AnalyticsStore>,
    settings: AnalyticsSettings,
    rng: Mutex<Box<dyn RngCore + Send>>,
}

impl Analytics {
    /// Analytics kept in `store` under `settings`, with the OS's CSPRNG.
    pub fn new(store: Arc<dyn AnalyticsStore>, settings: AnalyticsSettings) -> Self {
        Analytics {
            store,
            settings,
            rng: Mutex::new(Box::new(OsRng)),
        }
    }

    /// The same, drawing keys and noise from `rng` (a seeded CSPRNG in tests).
    pub fn with_rng(mut self, rng: impl RngCore + CryptoRng + Send + 'static) -> Self {
        self.rng = Mutex::new(Box::new(rng));
        self
    }

    /// The settings.
    pub fn settings(&self) -> &AnalyticsSettings {
        &self.settings
    }

    /// The store.
    pub fn store(&self) -> &dyn AnalyticsStore {
        self.store.as_ref()
    }

    fn with_rng_do<T>(&self, f: impl FnOnce(&mut dyn RngCore) -> T) -> Result<T, StorageError> {
        let mut rng = self
            .rng
            .lock()
            .map_err(|_| StorageError::Unavailable("rng lock poisoned".into()))?;
        Ok(f(rng.as_mut()))
    }

    /// The day `now` falls on.
    pub fn day_of(&self, now: i64) -> Day {
        Day::of(now, self.settings.offset_secs())
    }

    /// Counts the final `status` of a session of `platform` (with the cohort of an accepted
    /// presentation) on the day of `now`.
    pub fn record(
        &self,
        platform: &str,
        status: &SessionStatus,
        cohort: Option<&Cohort>,
        now: i64,
    ) -> Result<Recorded, StorageError> {
        let Some(cell) = Cell::of(status, cohort) else {
            return Ok(Recorded::NotFinal);
        };
        let pseudonym = match status {
            SessionStatus::Complete { eligibility } => eligibility.pseudonym.as_deref(),
            _ => None,
        };
        let (fresh_key, shard) = self.with_rng_do(|rng| {
            let mut key = [0u8; 32];
            rng.fill_bytes(&mut key);
            (
                key,
                u8::try_from(rng.next_u32() % u32::from(SHARDS)).unwrap_or(0),
            )
        })?;
        self.store.record(&store::Record {
            platform,
            day: self.day_of(now),
            pseudonym,
            cell: &cell,
            fresh_key,
            shard,
        })
    }

    /// The last day that is closed at `now`.
    pub fn last_closed(&self, now: i64) -> Day {
        self.day_of(now.saturating_sub(self.settings.close_after_secs))
            .plus(-1)
    }

    /// Publishes every day that is over at `now` (and its grace), deleting its keys, tags and
    /// counts; returns how many days this call published.
    pub fn close_days(&self, now: i64) -> Result<usize, StorageError> {
        let (k, epsilon) = (self.settings.k, self.settings.epsilon);
        let scale = self.settings.noise().map_or(0.0, |n| n.scale);
        let mut closed = 0;
        for (platform, day) in self.store.open_days(self.last_closed(now).plus(1))? {
            // The random source is held while the day closes: no figure is published without
            // its noise.
            let mut rng = self
                .rng
                .lock()
                .map_err(|_| StorageError::Unavailable("rng lock poisoned".into()))?;
            let mut publish = |counts: &std::collections::BTreeMap<Cell, u64>| {
                let mut noise = || noise::draw(rng.as_mut(), scale);
                publish::day(counts, k, epsilon, &mut noise)
            };
            closed += usize::from(self.store.close_day(&platform, day, &mut publish)?);
        }
        Ok(closed)
    }

    /// Reads `from` and `to` (`YYYY-MM-DD`; by default the 30 days up to the last closed one),
    /// and checks the range.
    pub fn range(
        &self,
        from: Option<&str>,
        to: Option<&str>,
        now: i64,
    ) -> Result<Range, AnalyticsError> {
        let to = match to {
            Some(t) => Day::parse(t)?,
            None => self.last_closed(now),
        };
        let from = match from {
            Some(f) => Day::parse(f)?,
            None => to.plus(-29),
        };
        if from > to {
            return Err(AnalyticsError::Reversed { from, to });
        }
        let days = from.until(to).saturating_add(1);
        if days > i64::from(self.settings.max_range_days) {
            return Err(AnalyticsError::TooLong {
                days,
                max: self.settings.max_range_days,
            });
        }
        Ok(Range { from, to })
    }

    /// `platform`'s report over `range`, after closing the days that are over.
    pub fn report(&self, platform: &str, range: Range, now: i64) -> Result<Report, AnalyticsError> {
        if !self.settings.enabled {
            return Err(AnalyticsError::Disabled);
        }
        self.close_days(now)?;
        let last_closed = self.last_closed(now);
        let mut published = self
            .store
            .published(platform, range.from, range.to)?
            .into_iter()
            .peekable();
        let mut days = Vec::new();
        let mut d = range.from;
        while d <= range.to {
            let figures = match published.next_if(|(day, _)| *day == d) {
                Some((_, f)) => f,
                None => PublishedDay {
                    k: self.settings.k,
                    epsilon: self.settings.epsilon,
                    total: None,
                    outcome: Default::default(),
                    district: Default::default(),
                    age_band: Default::default(),
                },
            };
            days.push(DayReport {
                date: d.to_string(),
                closed: d <= last_closed,
                figures,
            });
            d = d.plus(1);
        }
        Ok(Report {
            platform: platform.to_owned(),
            from: range.from.to_string(),
            to: range.to.to_string(),
            k: self.settings.k,
            epsilon: self.settings.epsilon,
            noise: self.settings.noise(),
            suppression: report::SUPPRESSION.into(),
            totals: Totals::of(&days),
            days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_range_are_refused() {
        assert_eq!(AnalyticsSettings::default().check(), Ok(()));
        let bad = [
            AnalyticsSettings {
                k: 1,
                ..Default::default()
            },
            AnalyticsSettings {
                epsilon: Some(0.0),
                ..Default::default()
            },
            AnalyticsSettings {
                epsilon: Some(f64::NAN),
                ..Default::default()
            },
            AnalyticsSettings {
                epsilon: Some(11.0),
                ..Default::default()
            },
            AnalyticsSettings {
                max_range_days: 0,
                ..Default::default()
            },
            AnalyticsSettings {
                utc_offset_minutes: 900,
                ..Default::default()
            },
            AnalyticsSettings {
                close_after_secs: -1,
                ..Default::default()
            },
        ];
        for s in bad {
            assert!(s.check().is_err(), "{s:?}");
        }
        let toml: AnalyticsSettings = toml::from_str("k = 5\nepsilon = 0.5\n").unwrap_or_default();
        assert_eq!((toml.k, toml.epsilon, toml.enabled), (5, Some(0.5), true));
        assert!(toml::from_str::<AnalyticsSettings>("kk = 5\n").is_err());
    }
}
