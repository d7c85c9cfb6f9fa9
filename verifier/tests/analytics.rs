//! Engagement analytics on the library's stores (memory and sled): a pseudonym counts once a
//! day, closed days keep only published figures, no published figure is under k (nor can one
//! under k be had by subtraction), and the noise has the configured scale.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // test code: a failure stops at its line

use std::collections::BTreeMap;
use std::sync::Arc;

use rand::{Rng, SeedableRng};

use civic_verifier::analytics::noise::{self, NoiseSpec};
use civic_verifier::analytics::publish::{self, View};
use civic_verifier::analytics::{
    Analytics, AnalyticsError, AnalyticsSettings, AnalyticsStore, Cell, Cohort, Day,
    MemoryAnalytics, Recorded,
};
use civic_verifier::eligibility::Eligibility;
use civic_verifier::policy::Predicate;
use civic_verifier::rejection::RejectionReport;
use civic_verifier::session::SessionStatus;
use civic_verifier::store::SledStore;

const PLATFORM: &str = "did:web:verify.example:platforms:budget";
/// 2026-12-05T12:00:00Z.
const NOON: i64 = 1_796_472_000;
const DAY: i64 = 86_400;

fn eligible(pseudonym: &str) -> SessionStatus {
    SessionStatus::Complete {
        eligibility: Eligibility {
            eligible: true,
            predicates: vec![Predicate {
                rule: "age_equal_or_over.16 == true".into(),
                satisfied: true,
            }],
            pseudonym: Some(pseudonym.into()),
            issuer: "https://id.example".into(),
            credential_expires_at: None,
            over_disclosed: false,
            status_checked: true,
        },
    }
}

fn cohort(district: &str) -> Cohort {
    Cohort {
        district: district.into(),
        age_band: "16+".into(),
    }
}

fn settings(k: u64) -> AnalyticsSettings {
    AnalyticsSettings {
        k,
        close_after_secs: 0,
        ..AnalyticsSettings::default()
    }
}

fn stores() -> Vec<(&'static str, Arc<dyn AnalyticsStore>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("tmp");
    let sled =
        SledStore::open(&dir.path().join("db"), civic_storage::Options::default()).expect("sled");
    vec![
        (
            "memory",
            Arc::new(MemoryAnalytics::default()),
            tempfile::tempdir().expect("tmp"),
        ),
        ("sled", Arc::new(sled), dir),
    ]
}

fn day(now: i64) -> String {
    Day::of(now, 0).to_string()
}

#[test]
fn a_resident_counts_once_a_day_and_on_each_day() {
    for (name, store, _dir) in stores() {
        let a = Analytics::new(store, settings(2));
        // Resident p-1 verifies three times on day one (twice more an hour later), p-2 once.
        for (p, at) in [
            ("p-1", NOON),
            ("p-1", NOON + 3600),
            ("p-2", NOON),
            ("p-1", NOON + 7200),
        ] {
            a.record(PLATFORM, &eligible(p), Some(&cohort("3")), at)
                .unwrap();
        }
        assert_eq!(
            a.record(PLATFORM, &eligible("p-1"), Some(&cohort("3")), NOON)
                .unwrap(),
            Recorded::AlreadyCounted,
            "{name}"
        );
        // Day two: p-1 again, and counts again.
        for p in ["p-1", "p-3"] {
            assert_eq!(
                a.record(PLATFORM, &eligible(p), Some(&cohort("3")), NOON + DAY)
                    .unwrap(),
                Recorded::Counted,
                "{name}"
            );
        }
        // Nothing is shown before a day closes.
        let today = a.range(Some(&day(NOON)), Some(&day(NOON)), NOON).unwrap();
        let r = a.report(PLATFORM, today, NOON).unwrap();
        assert!(
            !r.days[0].closed && r.days[0].figures.total.is_none(),
            "{name}: {r:?}"
        );

        let now = NOON + 2 * DAY;
        let range = a
            .range(Some(&day(NOON)), Some(&day(NOON + DAY)), now)
            .unwrap();
        let r = a.report(PLATFORM, range, now).unwrap();
        let totals: Vec<Option<i64>> = r.days.iter().map(|d| d.figures.total).collect();
        assert_eq!(totals, vec![Some(2), Some(2)], "{name}: {r:?}");
        assert_eq!(r.totals.total, 4, "{name}");
        assert_eq!(r.days[0].figures.district.cells[0].category, "3");
        // A closed day takes no more counts.
        assert_eq!(
            a.record(PLATFORM, &eligible("p-9"), None, NOON).unwrap(),
            Recorded::DayClosed,
            "{name}"
        );
        // And its key and tags are gone: nothing is left open before today.
        assert!(
            a.store().open_days(Day::of(now, 0)).unwrap().is_empty(),
            "{name}"
        );
    }
}

#[test]
fn closing_a_day_deletes_its_key_and_tags() {
    let store = Arc::new(MemoryAnalytics::default());
    let a = Analytics::new(store.clone(), settings(2));
    for p in ["a", "b", "c"] {
        a.record(PLATFORM, &eligible(p), None, NOON).unwrap();
    }
    assert_eq!(store.kept_secrets().unwrap(), (1, 3));
    assert_eq!(a.close_days(NOON + DAY).unwrap(), 1);
    assert_eq!(store.kept_secrets().unwrap(), (0, 0));
    // Closing again publishes nothing twice.
    assert_eq!(a.close_days(NOON + DAY).unwrap(), 0);
}

/// Every figure of a view is at least k, and `other` (total minus the shown ones) is too.
fn check_view(v: &View, k: i64, what: &str) {
    for f in &v.cells {
        assert!(f.count >= k, "{what}: {f:?} under k");
    }
    if let Some(o) = v.other {
        assert!(
            o >= k,
            "{what}: other {o} under k: the hidden cells would be recoverable"
        );
    }
}

#[test]
fn no_published_figure_counts_fewer_than_k_and_subtraction_gives_none_back() {
    let k = 10;
    let a = Analytics::new(Arc::new(MemoryAnalytics::default()), settings(k));
    // District 1: 14 residents, district 2: 12, district 3: 4, district 4: 1; 3 declines.
    let mut n = 0;
    for (district, count) in [("1", 14), ("2", 12), ("3", 4), ("4", 1)] {
        for _ in 0..count {
            n += 1;
            a.record(
                PLATFORM,
                &eligible(&format!("p-{n}")),
                Some(&cohort(district)),
                NOON,
            )
            .unwrap();
        }
    }
    for _ in 0..3 {
        a.record(PLATFORM, &SessionStatus::Declined, None, NOON)
            .unwrap();
    }
    let now = NOON + DAY;
    let r = a
        .report(PLATFORM, a.range(None, None, now).unwrap(), now)
        .unwrap();
    let d = &r.days.last().unwrap().figures;
    assert_eq!(d.total, Some(34));
    for (what, v) in [
        ("outcome", &d.outcome),
        ("district", &d.district),
        ("age", &d.age_band),
    ] {
        check_view(v, k as i64, what);
        assert_eq!(
            v.total(),
            Some(34),
            "{what}: every view adds up to the day's total"
        );
    }
    // Districts 3 and 4 (and the 3 declines, district unknown) are 8 together: under k, so
    // district 2 joins them: `other` = 20, and district 3's 4 cannot be had as 34 - 14 - 12 - …
    let shown: Vec<&str> = d
        .district
        .cells
        .iter()
        .map(|f| f.category.as_str())
        .collect();
    assert_eq!(shown, vec!["1"]);
    assert_eq!(d.district.other, Some(20));
    // Outcome: 31 eligible shown; the 3 declines alone would be under k, so nothing but
    // `other`… which would be the declines alone: eligible joins, the view is `other` only.
    assert!(d.outcome.cells.is_empty());
    assert_eq!(d.outcome.other, Some(34));

    // Many random days, exact and noised: the same holds for every view.
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    for round in 0..2000 {
        let mut cells: BTreeMap<Cell, u64> = BTreeMap::new();
        for _ in 0..rng.gen_range(1..12) {
            let cell = Cell {
                outcome: ["eligible", "declined", "error: revoked"][rng.gen_range(0..3)].into(),
                district: rng.gen_range(1..7).to_string(),
                age_band: ["under 16", "16-64", "65+"][rng.gen_range(0..3)].into(),
            };
            *cells.entry(cell).or_default() += rng.gen_range(1..15);
        }
        let scale = if round % 2 == 0 { 0.0 } else { 3.0 };
        let mut noise = || noise::draw(&mut rng, scale);
        let day = publish::day(&cells, k, None, &mut noise);
        for (what, v) in [
            ("outcome", &day.outcome),
            ("district", &day.district),
            ("age", &day.age_band),
        ] {
            check_view(v, k as i64, &format!("round {round} {what}"));
        }
    }
}

#[test]
fn the_noise_has_the_configured_scale() {
    let spec = NoiseSpec::new(1.0, 3);
    assert!((spec.scale - 3.0).abs() < 1e-12);
    let expected_var = noise::variance(spec.scale);
    let expected_mad = noise::mean_absolute(spec.scale);
    let draws = 200_000;
    let stats = |rng: &mut dyn rand::RngCore| {
        let xs: Vec<f64> = (0..draws)
            .map(|_| noise::draw(rng, spec.scale) as f64)
            .collect();
        let mean = xs.iter().sum::<f64>() / draws as f64;
        let var = xs.iter().map(|x| x * x).sum::<f64>() / draws as f64;
        let mad = xs.iter().map(|x| x.abs()).sum::<f64>() / draws as f64;
        (mean, var, mad)
    };
    // A fixed seed: the same numbers every run.
    let (mean, var, mad) = stats(&mut rand::rngs::StdRng::seed_from_u64(2026));
    assert!(mean.abs() < 0.05, "mean {mean}");
    assert!(
        (var / expected_var - 1.0).abs() < 0.03,
        "variance {var}, expected {expected_var}"
    );
    assert!(
        (mad / expected_mad - 1.0).abs() < 0.02,
        "MAD {mad}, expected {expected_mad}"
    );
    // The production source (the OS's CSPRNG): the variance's relative standard error is
    // √(5/n) ≈ 0.5 % here, so 5 % is ten of them: it cannot fail by chance.
    let (mean, var, mad) = stats(&mut rand::rngs::OsRng);
    assert!(mean.abs() < 0.1, "mean {mean}");
    assert!(
        (var / expected_var - 1.0).abs() < 0.05,
        "variance {var}, expected {expected_var}"
    );
    assert!(
        (mad / expected_mad - 1.0).abs() < 0.05,
        "MAD {mad}, expected {expected_mad}"
    );
    // A scale of 1 is a narrower distribution.
    assert!(noise::variance(1.0) < expected_var / 5.0);
}

#[test]
fn noised_reports_state_epsilon_and_their_figures_are_noised() {
    let mut s = settings(5);
    s.epsilon = Some(1.0);
    let a = Analytics::new(Arc::new(MemoryAnalytics::default()), s)
        .with_rng(rand::rngs::StdRng::seed_from_u64(5));
    // 60 residents in district 1 on each of 20 days.
    for d in 0..20 {
        for p in 0..60 {
            a.record(
                PLATFORM,
                &eligible(&format!("p-{p}")),
                Some(&cohort("1")),
                NOON + d * DAY,
            )
            .unwrap();
        }
    }
    let now = NOON + 21 * DAY;
    let r = a
        .report(PLATFORM, a.range(None, None, now).unwrap(), now)
        .unwrap();
    assert_eq!(r.epsilon, Some(1.0));
    let spec = r.noise.clone().expect("noise stated");
    assert!((spec.scale - 3.0).abs() < 1e-9 && spec.sensitivity == 1 && spec.views == 3);
    // δ at k = 5: P(noise ≥ 4) = α⁴/(1 + α), α = e^(−1/3).
    let a = (-1.0f64 / 3.0).exp();
    assert!(
        (spec.delta - a.powi(4) / (1.0 + a)).abs() < 1e-12,
        "{spec:?}"
    );
    let totals: Vec<i64> = r.days.iter().filter_map(|d| d.figures.total).collect();
    assert_eq!(totals.len(), 20, "{totals:?}");
    assert!(
        totals.iter().any(|t| *t != 60),
        "no noise was added: {totals:?}"
    );
    assert!(totals.iter().all(|t| (t - 60).abs() < 40), "{totals:?}");
    assert!(r.days.iter().all(|d| d.figures.epsilon == Some(1.0)));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["noise"]["epsilon"], 1.0);
    assert!(
        r.to_csv().lines().nth(1).unwrap().ends_with(",5,1"),
        "{}",
        r.to_csv()
    );
}

#[test]
fn bad_ranges_are_refused() {
    let a = Analytics::new(Arc::new(MemoryAnalytics::default()), settings(10));
    let now = NOON;
    for (from, to) in [
        (Some("2026-02-30"), None),
        (None, Some("yesterday")),
        (Some("2026-12-05"), Some("2026-12-01")),
        (Some("2020-01-01"), Some("2026-12-01")),
    ] {
        let e = a.range(from, to, now).unwrap_err();
        assert!(
            matches!(
                e,
                AnalyticsError::BadDate(_)
                    | AnalyticsError::Reversed { .. }
                    | AnalyticsError::TooLong { .. }
            ),
            "{from:?} {to:?}: {e}"
        );
    }
    let r = a.range(None, None, now).unwrap();
    assert_eq!(r.from.until(r.to), 29);
    assert_eq!(r.to.to_string(), "2026-12-04");
}

#[test]
fn declines_and_errors_count_per_session_with_no_cohort() {
    let a = Analytics::new(Arc::new(MemoryAnalytics::default()), settings(2));
    let rejected = SessionStatus::Rejected {
        rejection: RejectionReport {
            rule: "revoked".into(),
            message: "the credential has been revoked".into(),
        },
    };
    for _ in 0..2 {
        a.record(PLATFORM, &rejected, Some(&cohort("5")), NOON)
            .unwrap();
        a.record(PLATFORM, &SessionStatus::Declined, None, NOON)
            .unwrap();
    }
    let now = NOON + DAY;
    let r = a
        .report(PLATFORM, a.range(None, None, now).unwrap(), now)
        .unwrap();
    let d = &r.days.last().unwrap().figures;
    let outcomes: Vec<(&str, i64)> = d
        .outcome
        .cells
        .iter()
        .map(|f| (f.category.as_str(), f.count))
        .collect();
    assert_eq!(outcomes, vec![("declined", 2), ("error: revoked", 2)]);
    // A refused presentation's claims are not read: no district.
    assert_eq!(d.district.cells[0].category, "unknown");
}
