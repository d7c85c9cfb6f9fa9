//! The residency credential: its claims, which of them are disclosable, and age predicates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::sd_jwt::{ClaimPath, PathElement};

pub mod labels;

/// The path of the residency credential type below an issuer's URL.
pub const RESIDENCY_VCT_PATH: &str = "/credentials/residency";

/// The ages for which `age_equal_or_over` is computed.
pub const AGE_THRESHOLDS: [u32; 3] = [16, 18, 65];

/// A calendar date (`YYYY-MM-DD`, proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: i32,
    /// Month, 1–12.
    pub month: u8,
    /// Day, 1–31.
    pub day: u8,
}

impl Date {
    /// Parses and validates `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::InvalidDate(text.chars().take(32).collect());
        let b = text.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(bad());
        }
        let num = |s: &str| -> Result<u32> {
            if s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().map_err(|_| bad())
            } else {
                Err(bad())
            }
        };
        let (y, m, d) = (num(&text[..4])?, num(&text[5..7])?, num(&text[8..])?);
        let date = Date {
            year: y as i32,
            month: m as u8,
            day: d as u8,
        };
        if !(1..=12).contains(&m) || d == 0 || d > u32::from(days_in_month(date.year, date.month)) {
            return Err(bad());
        }
        Ok(date)
    }

    /// The date of a Unix time (UTC).
    pub fn from_unix(secs: i64) -> Self {
        // Howard Hinnant's days-to-civil algorithm.
        let z = secs.div_euclid(86_400) + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }

    /// The Unix time of this date's midnight (UTC).
    pub fn to_unix(&self) -> i64 {
        // Howard Hinnant's days-from-civil algorithm.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        (era * 146_097 + doe - 719_468) * 86_400
    }

    /// Whole years from `self` (a birthdate) to `on`. Someone born on 29 February has their
    /// birthday on 1 March in common years.
    pub fn age_on(&self, on: Date) -> i32 {
        let mut age = on.year.saturating_sub(self.year);
        let birthday_this_year =
            if self.month == 2 && self.day == 29 && days_in_month(on.year, 2) == 28 {
                (3, 1)
            } else {
                (self.month, self.day)
            };
        if (on.month, on.day) < birthday_this_year {
            age -= 1;
        }
        age
    }
}

impl core::fmt::Display for Date {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Street and number.
    pub street_address: String,
    /// Town or city.
    pub locality: String,
    /// Postal code.
    pub postal_code: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
}

/// Where the resident is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Residence {
    /// Municipality name.
    pub municipality: String,
    /// Official municipality code (e.g. CBS `0363`).
    pub municipality_code: String,
    /// District within the municipality, if the register has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
}

/// The subject claims of a residency credential. Every one of them is selectively disclosable,
/// down to each member of `address`, `residence`, `age_equal_or_over` and `pseudonyms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidencyClaims {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth, `YYYY-MM-DD`.
    pub birthdate: String,
    /// Home address.
    pub address: Address,
    /// Registration.
    pub residence: Residence,
    /// Registered since, `YYYY-MM-DD`.
    pub resident_since: String,
    /// `"16"`, `"18"`, `"65"` → whether the resident had reached that age at issuance.
    pub age_equal_or_over: BTreeMap<String, bool>,
    /// Platform id → pairwise pseudonym.
    pub pseudonyms: BTreeMap<String, String>,
}

/// The register data a residency credential is made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResidentRecord {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Date of birth.
    pub birthdate: Date,
    /// Home address.
    pub address: Address,
    /// Registration.
    pub residence: Residence,
    /// Registered since.
    pub resident_since: Date,
}

impl ResidentRecord {
    /// A made-up resident of the fictional municipality Teststad (code 0363, district 3), born
    /// 1990-04-12: the record the examples, tests, fuzz seeds and benchmarks build on.
    pub fn example() -> Self {
        ResidentRecord {
            given_name: "Anna".into(),
            family_name: "de Vries".into(),
            birthdate: Date {
                year: 1990,
                month: 4,
                day: 12,
            },
            address: Address {
                street_address: "Dam 1".into(),
                locality: "Teststad".into(),
                postal_code: "1012 JS".into(),
                country: "NL".into(),
            },
            residence: Residence {
                municipality: "Teststad".into(),
                municipality_code: "0363".into(),
                district: Some("3".into()),
            },
            resident_since: Date {
                year: 2015,
                month: 6,
                day: 1,
            },
        }
    }
}

impl ResidencyClaims {
    /// Builds the claims, computing `age_equal_or_over` as of `today`.
    pub fn new(record: &ResidentRecord, today: Date, pseudonyms: BTreeMap<String, String>) -> Self {
        let age = record.birthdate.age_on(today);
        ResidencyClaims {
            given_name: record.given_name.clone(),
            family_name: record.family_name.clone(),
            birthdate: record.birthdate.to_string(),
            address: record.address.clone(),
            residence: record.residence.clone(),
            resident_since: record.resident_since.to_string(),
            age_equal_or_over: AGE_THRESHOLDS
                .iter()
                .map(|t| (t.to_string(), age >= *t as i32))
                .collect(),
            pseudonyms,
        }
    }

    /// The claims as a JSON object, for [`crate::sd_jwt_vc::CredentialSpec::claims`].
    pub fn to_claims(&self) -> Result<Map<String, Value>> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => Ok(m),
            _ => Err(Error::Json("residency claims")),
        }
    }

    /// Every selectively disclosable path: each top-level claim, and each member of the objects.
    pub fn disclosable_paths(&self) -> Vec<ClaimPath> {
        let mut paths = Vec::new();
        let top = |k: &str| ClaimPath::keys([k]);
        for k in ["given_name", "family_name", "birthdate", "resident_since"] {
            paths.push(top(k));
        }
        let members = |parent: &str, keys: Vec<String>, out: &mut Vec<ClaimPath>| {
            out.push(top(parent));
            for k in keys {
                out.push(ClaimPath(vec![
                    PathElement::Key(parent.into()),
                    PathElement::Key(k),
                ]));
            }
        };
        let address = ["street_address", "locality", "postal_code", "country"].map(String::from);
        members("address", address.to_vec(), &mut paths);
        let mut residence = vec!["municipality".to_owned(), "municipality_code".to_owned()];
        if self.residence.district.is_some() {
            residence.push("district".to_owned());
        }
        members("residence", residence, &mut paths);
        members(
            "age_equal_or_over",
            self.age_equal_or_over.keys().cloned().collect(),
            &mut paths,
        );
        members(
            "pseudonyms",
            self.pseudonyms.keys().cloned().collect(),
            &mut paths,
        );
        paths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_round_trip() {
        for secs in [0i64, 951_782_400, 1_795_000_000, -86_400 * 365 * 80] {
            let d = Date::from_unix(secs);
            assert_eq!(Date::from_unix(d.to_unix()), d);
            assert!(d.to_unix() <= secs && secs - d.to_unix() < 86_400);
        }
        assert_eq!(
            Date::parse("2000-02-29").map(|d| d.to_unix()),
            Ok(951_782_400)
        );
    }

    #[test]
    fn dates_parse_and_reject() {
        assert_eq!(Date::parse("2008-02-29").unwrap().to_string(), "2008-02-29");
        for bad in [
            "2007-02-29",
            "2008-13-01",
            "2008-00-10",
            "2008-1-01",
            "20080101",
            "abcd-ef-gh",
            "2008-04-31",
            "+008-01-01",
        ] {
            assert!(
                matches!(Date::parse(bad), Err(Error::InvalidDate(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn unix_to_date() {
        assert_eq!(Date::from_unix(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Date::from_unix(1_795_000_000).to_string(), "2026-11-18");
        assert_eq!(Date::from_unix(-86_400).to_string(), "1969-12-31");
    }

    #[test]
    fn age_boundaries() {
        let born = Date::parse("2010-06-15").unwrap();
        assert_eq!(born.age_on(Date::parse("2026-06-14").unwrap()), 15);
        assert_eq!(born.age_on(Date::parse("2026-06-15").unwrap()), 16);
        let leap = Date::parse("2008-02-29").unwrap();
        assert_eq!(leap.age_on(Date::parse("2024-02-28").unwrap()), 15);
        assert_eq!(leap.age_on(Date::parse("2024-02-29").unwrap()), 16);
        assert_eq!(leap.age_on(Date::parse("2025-02-28").unwrap()), 16);
        assert_eq!(leap.age_on(Date::parse("2026-02-28").unwrap()), 17);
        assert_eq!(leap.age_on(Date::parse("2025-03-01").unwrap()), 17);
    }
}
