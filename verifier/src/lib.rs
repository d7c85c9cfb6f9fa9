//! civic-verifier: eligibility checks for civic platforms, as a library.
//!
//! A platform states a [`policy::Policy`] ("resident of 0363, 16 or older, pseudonym required").
//! The [`flow::Flow`] opens a [`session::Session`] that becomes an OID4VP 1.0 request with a DCQL
//! query for exactly those claims, takes the wallet's `direct_post` answer, and verifies it with
//! [`verify::Verifier`]. The outcome is an [`eligibility::Eligibility`] (yes/no, the evaluated
//! rules, a pairwise pseudonym) or a [`rejection::Rejection`] naming the broken rule. Nothing
//! personal is kept or returned.
//!
//! - [`flow`]: the whole check (create, read, answer, finish, notify), without a web framework.
//! - [`config`]: the configuration file of a deployment, and the [`config::Platform`]s in it.
//! - [`trust`]: which issuers are accepted, for which credential types and municipalities.
//! - [`did`]: issuer DIDs (did:jwk, did:key, did:web) resolved with `ssi`.
//! - [`keys`] and [`status`]: issuer keys and status lists, fetched only for trusted issuers
//!   through a [`fetch::Fetcher`], cached (status per its `ttl`), single-flight.
//! - [`store`]: session storage (memory, or sled with feature `sled-store`).
//! - [`certificate`]: the verifier's X.509 identity (`x509_hash:` requests with `x5c`).
//! - [`webhook`]: signing and checking the results posted to platforms.
//! - [`analytics`]: engagement counts per platform and day, published with a threshold k and
//!   optional differential-privacy noise, so that no one can be singled out.
//!
//! Default features are the library alone: no axum, tokio, hyper or clap. The REST service for
//! platforms not written in Rust is the `civic-verifier-service` crate. Feature `http` adds an
//! HTTP fetcher (reqwest), `sled-store` the sled session store, `qr` QR codes of session links.
//! The core builds for wasm32 too. Protocol logic is in `civic-credential`.

pub mod analytics;
pub mod cache;
pub mod certificate;
pub mod config;
pub mod did;
pub mod eligibility;
pub mod encrypted_response;
pub mod fetch;
pub mod flow;
pub mod identity;
pub mod keys;
#[cfg(feature = "pg-store")]
pub mod pg_store;
pub mod policy;
pub mod rejection;
pub mod session;
pub mod status;
pub mod store;
pub mod trust;
pub mod verify;
pub mod webhook;

pub use config::{Platform, VerifierConfig};
pub use eligibility::Eligibility;
pub use flow::Flow;
pub use policy::{Policy, Rule};
pub use rejection::Rejection;
pub use session::Session;
pub use trust::TrustList;
pub use verify::{Verifier, VerifierOptions};
