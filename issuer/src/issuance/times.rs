//! The time claims of the copies of a batch. Each copy gets its own `iat` and `exp`, drawn
//! without repetition, so that colluding platforms cannot join the copies of one batch (or a
//! resident's credentials) by their times: the issuer-signed part of two copies shares nothing
//! that is not also shared by other residents' credentials.

use rand::seq::index::sample;
use rand::Rng;

/// How far before issuance a copy's `iat` may lie.
const IAT_SPREAD: u32 = 86_400;
/// How far before the end of its validity a copy's `exp` may lie.
const EXP_SPREAD: u32 = 86_400;

/// One copy's `iat` and `exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct CopyTimes {
    /// Issued at: within the day before issuance.
    pub(super) iat: i64,
    /// Expiry: within the day before the validity ends, always after `now`.
    pub(super) exp: i64,
}

/// `n` copies' times, all `iat` distinct and all `exp` distinct: `iat` a distinct number of
/// seconds (under a day) before `now`; `exp` a distinct number of seconds (under a day, and
/// leaving the copy valid now) before `end`, the end of the validity. `None` when `end` is too
/// close to `now` for `n` distinct expiries.
pub(super) fn copy_times(
    n: usize,
    now: i64,
    end: i64,
    rng: &mut impl Rng,
) -> Option<Vec<CopyTimes>> {
    let room = u32::try_from(end.saturating_sub(now).saturating_sub(1)).unwrap_or(u32::MAX);
    let exp_spread = room.min(EXP_SPREAD) as usize;
    if n == 0 || exp_spread < n || (IAT_SPREAD as usize) < n {
        return None;
    }
    let iat = sample(rng, IAT_SPREAD as usize, n);
    let exp = sample(rng, exp_spread, n);
    Some(
        iat.iter()
            .zip(exp.iter())
            .map(|(i, e)| CopyTimes {
                iat: now - i as i64,
                exp: end - e as i64,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_get_distinct_times_in_range() {
        let mut rng = rand::thread_rng();
        let (now, end) = (1_800_000_000, 1_800_000_000 + 90 * 86_400);
        for n in [1, 2, 10, 100] {
            let times = copy_times(n, now, end, &mut rng).expect("times");
            assert_eq!(times.len(), n);
            let mut iats: Vec<i64> = times.iter().map(|t| t.iat).collect();
            let mut exps: Vec<i64> = times.iter().map(|t| t.exp).collect();
            iats.sort_unstable();
            iats.dedup();
            exps.sort_unstable();
            exps.dedup();
            assert_eq!((iats.len(), exps.len()), (n, n), "distinct");
            for t in &times {
                assert!(t.iat <= now && t.iat > now - 86_400);
                assert!(t.exp <= end && t.exp > end - 86_400 && t.exp > now);
            }
        }
        // A registration that ends in a few seconds leaves no room for distinct expiries.
        assert!(copy_times(10, now, now + 5, &mut rng).is_none());
        assert!(copy_times(2, now, now + 3600, &mut rng).is_some());
    }
}
