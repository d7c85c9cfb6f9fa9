//! Where services read the time: [`SystemClock`] in production, [`ManualClock`] in tests, so that
//! a test moves time forward instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A source of the current time, in whole seconds since the Unix epoch (JWT NumericDate).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> i64;
}

/// A clock shared by the parts of a service.
pub type SharedClock = Arc<dyn Clock>;

/// The system's wall clock.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

#[cfg(not(target_arch = "wasm32"))]
impl SystemClock {
    /// The system clock, shared.
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for SystemClock {
    fn now(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}

/// A clock that stands still until it is moved: tests set it, and advance it past an expiry.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock showing `now`.
    pub fn at(now: i64) -> Arc<Self> {
        Arc::new(ManualClock(AtomicI64::new(now)))
    }

    /// A clock starting at the system's current time.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn starting_now() -> Arc<Self> {
        Self::at(SystemClock.now())
    }

    /// Moves the clock `secs` seconds forward (or back, if negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }

    /// Sets the clock to `now`.
    pub fn set(&self, now: i64) {
        self.0.store(now, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The system clock moved by an offset the test sets: time flows as usual, and a test jumps it
/// forward past an expiry instead of sleeping.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Debug, Default)]
pub struct ShiftedClock(AtomicI64);

#[cfg(not(target_arch = "wasm32"))]
impl ShiftedClock {
    /// The system clock, not yet moved.
    pub fn new() -> Arc<Self> {
        Arc::new(ShiftedClock::default())
    }

    /// Moves the clock `secs` seconds forward (or back, if negative).
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Clock for ShiftedClock {
    fn now(&self) -> i64 {
        SystemClock
            .now()
            .saturating_add(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_clock_moves_only_when_told() {
        let clock = ManualClock::at(1_000);
        assert_eq!(clock.now(), 1_000);
        clock.advance(61);
        assert_eq!(clock.now(), 1_061);
        clock.set(5);
        assert_eq!(clock.now(), 5);
        let shared: SharedClock = clock;
        assert_eq!(shared.now(), 5);
        // The system clock is past 2020 on any machine that runs these tests.
        assert!(SystemClock.now() > 1_577_836_800);
        let shifted = ShiftedClock::new();
        let before = SystemClock.now();
        shifted.advance(3600);
        let now = shifted.now();
        assert!(now >= before + 3600 && now <= SystemClock.now() + 3600);
    }
}
