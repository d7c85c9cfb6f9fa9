//! A per-address rate limit for the endpoints that guess at secrets (enrollment codes, passkey
//! ceremonies): GCRA from `governor`, kept in memory. It protects this process; the limit that
//! matters against guessing a code (wrong tries per code) is stored with the code.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Too many requests from one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited;

/// At most `per_minute` requests a minute from each address (in bursts of up to that many).
pub struct PerAddress {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl PerAddress {
    /// A limit of `per_minute` (at least 1).
    pub fn per_minute(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        PerAddress {
            limiter: RateLimiter::keyed(Quota::per_minute(n)),
        }
    }

    /// Counts one request from `ip`; [`Limited`] once its budget is spent.
    pub fn check(&self, ip: IpAddr) -> Result<(), Limited> {
        if self.limiter.len() > 100_000 {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&ip).map_err(|_| Limited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_gets_its_own_budget() {
        let limit = PerAddress::per_minute(3);
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        for _ in 0..3 {
            assert_eq!(limit.check(a), Ok(()));
        }
        assert_eq!(limit.check(a), Err(Limited));
        assert_eq!(limit.check(b), Ok(()));
    }
}
