//! [`Day`]: a calendar day of the analytics (days since 1970-01-01 in the deployment's zone,
//! a fixed offset from UTC), read and written as `YYYY-MM-DD`.

use std::fmt;

/// Seconds in a day.
pub const DAY_SECS: i64 = 86_400;

/// A calendar day: the number of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i64);

/// A date that is not a real `YYYY-MM-DD` day between 1970 and 9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date (YYYY-MM-DD, 1970-01-01 to 9999-12-31)")]
pub struct BadDate(pub String);

impl Day {
    /// The day `unix` (seconds) falls on, `offset_secs` east of UTC.
    pub fn of(unix: i64, offset_secs: i64) -> Day {
        Day(unix.saturating_add(offset_secs).div_euclid(DAY_SECS))
    }

    /// The day `n` days later (earlier for negative `n`).
    pub fn plus(self, n: i64) -> Day {
        Day(self.0.saturating_add(n))
    }

    /// Days from `self` to `other` (negative when `other` comes first).
    pub fn until(self, other: Day) -> i64 {
        other.0.saturating_sub(self.0)
    }

    /// Reads `YYYY-MM-DD`; anything else (another form, a 31 April, a year before 1970) is
    /// refused.
    pub fn parse(text: &str) -> Result<Day, BadDate> {
        let bad = || BadDate(text.chars().take(40).collect());
        let b = text.as_bytes();
        let shape = b.len() == 10
            && b.iter().enumerate().all(|(i, c)| {
                if i == 4 || i == 7 {
                    *c == b'-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<i64>().ok());
        let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
            return Err(bad());
        };
        if y < 1970 || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(bad());
        }
        let day = Day(days_from_civil(y, m, d));
        // A day past the month's end comes back as another date.
        if day.to_string() != text {
            return Err(bad());
        }
        Ok(day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z.clamp(-1_000_000_000, 1_000_000_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_bad_ones_are_refused() {
        assert_eq!(Day::parse("1970-01-01"), Ok(Day(0)));
        assert_eq!(
            Day::parse("2026-12-05").map(|d| d.to_string()).as_deref(),
            Ok("2026-12-05")
        );
        assert_eq!(
            Day::parse("2024-02-29")
                .map(|d| d.plus(1).to_string())
                .as_deref(),
            Ok("2024-03-01")
        );
        assert_eq!(Day::of(1_764_892_800, 0).to_string(), "2025-12-05");
        assert_eq!(Day::of(1_764_892_799, 3600).to_string(), "2025-12-05");
        assert_eq!(Day::of(1_764_892_799, 0).to_string(), "2025-12-04");
        for bad in [
            "",
            "2026-13-01",
            "2026-04-31",
            "2025-02-29",
            "1969-12-31",
            "2026-1-05",
            "2026/12/05",
            "+026-12-05",
            "2026-12-05T00",
            "２０２６-12-05",
            "2026-00-10",
        ] {
            assert!(Day::parse(bad).is_err(), "{bad}");
        }
        for n in (0..2_900_000).step_by(997) {
            assert_eq!(Day::parse(&Day(n).to_string()), Ok(Day(n)), "{n}");
        }
    }
}
