//! Where a verification is counted: its [`Cell`] (outcome, district, age band). Only the coarse
//! attributes the policy already asked for are read: the district when a rule reads
//! `residence.district`, the age band from the `age_equal_or_over.<n>` claims the rules read.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use civic_credential::sd_jwt::{ClaimPath, PathElement};

use crate::policy::Policy;
use crate::session::SessionStatus;

/// The category of an attribute the policy did not ask for, or the wallet did not disclose.
pub const UNKNOWN: &str = "unknown";

/// The longest district name counted as itself (longer ones count as [`UNKNOWN`]).
const MAX_DISTRICT: usize = 64;

/// The coarse attributes of one accepted presentation, read from the claims the policy asked
/// for; nothing else of the credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cohort {
    /// The district (`residence.district`), or [`UNKNOWN`].
    pub district: String,
    /// The age band (`16-64`, `65+`, `under 16`), or [`UNKNOWN`].
    pub age_band: String,
}

impl Default for Cohort {
    fn default() -> Self {
        Cohort {
            district: UNKNOWN.into(),
            age_band: UNKNOWN.into(),
        }
    }
}

fn district_path() -> ClaimPath {
    ClaimPath::keys(["residence", "district"])
}

/// The thresholds `n` of the `age_equal_or_over.<n>` claims `policy`'s rules read, ascending.
pub fn age_thresholds(policy: &Policy) -> Vec<u32> {
    let mut out: Vec<u32> = policy
        .rule_claims()
        .iter()
        .filter_map(|p| match p.0.as_slice() {
            [PathElement::Key(a), PathElement::Key(n)] if a == "age_equal_or_over" => {
                n.parse().ok()
            }
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Cohort {
    /// The cohort of `claims` (the claims selected for `policy`: nothing else was kept).
    pub fn of(policy: &Policy, claims: &Value) -> Cohort {
        let district_asked = policy
            .rule_claims()
            .iter()
            .any(|p| p.covers(&district_path()));
        let district = district_asked
            .then(|| district_path().lookup(claims).and_then(category))
            .flatten()
            .unwrap_or_else(|| UNKNOWN.into());
        let thresholds = age_thresholds(policy);
        let values: Vec<Option<bool>> = thresholds
            .iter()
            .map(|n| {
                ClaimPath::keys(["age_equal_or_over", &n.to_string()])
                    .lookup(claims)
                    .and_then(Value::as_bool)
            })
            .collect();
        Cohort {
            district,
            age_band: age_band(&thresholds, &values),
        }
    }
}

/// A claim value as a category: a short string or a number.
fn category(v: &Value) -> Option<String> {
    let text = match v {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!text.is_empty()
        && text.chars().count() <= MAX_DISTRICT
        && !text.chars().any(char::is_control))
    .then_some(text)
}

/// The band the answers to the ascending `thresholds` put someone in: `under 16`, `16-64`,
/// `65+`; [`UNKNOWN`] when an answer is missing or the answers contradict each other.
pub fn age_band(thresholds: &[u32], values: &[Option<bool>]) -> String {
    if thresholds.is_empty() || values.iter().any(Option::is_none) {
        return UNKNOWN.into();
    }
    let over: Vec<bool> = values.iter().map(|v| v.unwrap_or(false)).collect();
    // Over a higher threshold but not a lower one cannot be.
    if over.windows(2).any(|w| matches!(w, [false, true])) {
        return UNKNOWN.into();
    }
    let reached = over.iter().filter(|o| **o).count();
    match (reached.checked_sub(1), thresholds.first()) {
        (None, Some(first)) => format!("under {first}"),
        (Some(i), _) => match (thresholds.get(i), thresholds.get(i + 1)) {
            (Some(lo), Some(hi)) => format!("{lo}-{}", hi.saturating_sub(1)),
            (Some(lo), None) => format!("{lo}+"),
            _ => UNKNOWN.into(),
        },
        _ => UNKNOWN.into(),
    }
}

/// One cell of a day's counts: the outcome and the cohort.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cell {
    /// `eligible`, `not_eligible: <the first rule that failed>`, `declined`, or
    /// `error: <the rejection's rule>`.
    pub outcome: String,
    /// The district, or `unknown`.
    pub district: String,
    /// The age band, or `unknown`.
    pub age_band: String,
}

impl Cell {
    /// The cell of a session's final `status`, with the cohort of an accepted presentation.
    pub fn of(status: &SessionStatus, cohort: Option<&Cohort>) -> Option<Cell> {
        let outcome = match status {
            SessionStatus::Pending | SessionStatus::Verifying => return None,
            SessionStatus::Declined => "declined".to_owned(),
            SessionStatus::Rejected { rejection } => format!("error: {}", rejection.rule),
            SessionStatus::Complete { eligibility } => {
                match eligibility.predicates.iter().find(|p| !p.satisfied) {
                    None if eligibility.eligible => "eligible".to_owned(),
                    None => "not_eligible".to_owned(),
                    Some(p) => format!("not_eligible: {}", p.rule),
                }
            }
        };
        let cohort = match status {
            SessionStatus::Complete { .. } => cohort.cloned().unwrap_or_default(),
            _ => Cohort::default(),
        };
        Some(Cell {
            outcome,
            district: cohort.district,
            age_band: cohort.age_band,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Rule;
    use serde_json::json;

    fn policy(rules: Vec<Rule>) -> Policy {
        Policy {
            name: "p".into(),
            rules,
            pseudonym: true,
            vct: vec![],
        }
    }

    #[test]
    fn bands_come_from_the_thresholds_the_policy_reads() {
        let s = |t: &[u32], v: &[Option<bool>]| age_band(t, v);
        assert_eq!(s(&[16], &[Some(true)]), "16+");
        assert_eq!(s(&[16], &[Some(false)]), "under 16");
        assert_eq!(s(&[16, 65], &[Some(true), Some(false)]), "16-64");
        assert_eq!(s(&[16, 65], &[Some(true), Some(true)]), "65+");
        assert_eq!(s(&[16, 65], &[Some(false), Some(true)]), UNKNOWN);
        assert_eq!(s(&[16, 65], &[Some(true), None]), UNKNOWN);
        assert_eq!(s(&[], &[]), UNKNOWN);

        let p = policy(vec![
            Rule::is_true(ClaimPath::keys(["age_equal_or_over", "65"])),
            Rule::one_of(ClaimPath::keys(["residence", "district"]), &["3", "4"]),
            Rule::is_true(ClaimPath::keys(["age_equal_or_over", "16"])),
        ]);
        assert_eq!(age_thresholds(&p), vec![16, 65]);
        let claims = json!({"residence": {"district": "4"},
                            "age_equal_or_over": {"16": true, "65": false}});
        assert_eq!(
            Cohort::of(&p, &claims),
            Cohort {
                district: "4".into(),
                age_band: "16-64".into()
            }
        );
        // A district the policy did not ask for is not read, even if present.
        let no_district = policy(vec![Rule::is_true(ClaimPath::keys([
            "age_equal_or_over",
            "16",
        ]))]);
        assert_eq!(Cohort::of(&no_district, &claims).district, UNKNOWN);
        let long = json!({"residence": {"district": "x".repeat(65)}});
        assert_eq!(Cohort::of(&p, &long).district, UNKNOWN);
    }
}
