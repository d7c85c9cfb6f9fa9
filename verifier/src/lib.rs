//! civic-verifier: eligibility checks for civic platforms.
//!
//! A platform states a [`policy::Policy`] ("resident of 0363, 16 or older, pseudonym required"),
//! opens a [`session::Session`] that becomes an OID4VP 1.0 request with a DCQL query for exactly
//! those claims, and hands the `vp_token` the wallet posts to [`verify::Verifier::verify`]. The
//! answer is an [`eligibility::Eligibility`] (yes/no, the evaluated rules, a pairwise pseudonym) or
//! a [`rejection::Rejection`] naming the broken rule. Nothing personal is kept or returned.
//!
//! - [`trust`]: which issuers are accepted, for which credential types and municipalities.
//! - [`keys`] and [`status`]: issuer keys and status lists, fetched only for trusted issuers
//!   through a [`fetch::Fetcher`], cached (status per its `ttl`), single-flight.
//! - [`store`]: session storage (memory, or sled with feature `sled-store`).
//! - [`server`] (feature `server`): the REST service for platforms not written in Rust.
//!
//! The core (without features) builds for wasm32 too. Protocol logic is in `civic-credential`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cache;
pub mod eligibility;
pub mod fetch;
pub mod keys;
pub mod policy;
pub mod rejection;
#[cfg(feature = "server")]
pub mod server;
pub mod session;
pub mod status;
pub mod store;
pub mod trust;
pub mod verify;

pub use eligibility::Eligibility;
pub use policy::{Policy, Rule};
pub use rejection::Rejection;
pub use session::Session;
pub use trust::TrustList;
pub use verify::{Verifier, VerifierOptions};
