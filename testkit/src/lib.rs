//! civic-testkit: the one test kit of civic-id, used by the issuer's tests, the end-to-end
//! tests, the examples' tests, the benchmarks, the corpus generator and the fuzz fixtures.
//!
//! Without features (what fuzz targets and benchmarks use):
//!
//! - [`register`]: the register exports the tests import (small and demo), with dates that stay
//!   valid whatever day the tests run;
//! - [`credentials`]: a test issuer key that issues residency credentials without a server,
//!   test residents of any age, and presentations.
//!
//! With feature `services` (the default), everything on 127.0.0.1:
//!
//! - [`http`]: clients that never use a proxy, JSON answers, and table-driven bad-input cases;
//! - [`issuer_process`]: the real `civic-issuer` binary in a temporary data directory;
//! - [`services`]: the issuer and the verifier service in-process, on a manual clock;
//! - [`wallet`]: an OID4VCI wallet and an OID4VP presenter; [`passkey`]: a software passkey;
//! - [`examples`]: an example platform launched from its shipped configuration, and a browser.
//!
//! A kit for tests: a setup that fails panics with the reason, so the test stops at its line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod cpu;
pub mod credentials;
pub mod register;

#[cfg(feature = "services")]
pub mod examples;
#[cfg(feature = "services")]
pub mod http;
#[cfg(feature = "services")]
pub mod issuer_process;
#[cfg(feature = "services")]
pub mod passkey;
#[cfg(feature = "services")]
pub mod services;
#[cfg(feature = "services")]
pub mod wallet;

/// Seconds since the epoch, from the system clock.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
