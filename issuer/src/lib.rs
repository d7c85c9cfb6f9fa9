//! civic-issuer: a municipal agency's issuer of residency credentials.
//!
//! The [`Issuer`] is a composition of one service per step of the flow, sharing a
//! [`context::Context`] (configuration, store, clock, keys, counters, audit log). Each step
//! speaks its own error enum in domain words; the HTTP layer alone turns them into answers.
//!
//! - [`register`]: importing the resident register from CSV ([`register::RegisterError`]).
//! - [`enrollment`]: one-time enrollment codes for letters and the counter.
//! - [`passkeys`]: creating passkeys and signing in with them (WebAuthn, webauthn-rs);
//!   [`sessions`]: the signed-in residents.
//! - [`account`]: what a resident (or the agency) sees about one resident.
//! - [`issuance`]: OID4VCI 1.0 offers, tokens, nonces and batch credential issuance.
//! - [`status`]: Token Status Lists, revocation and suspension.
//! - [`trust`]: the did:web document, `jwt-vc-issuer` and OID4VCI metadata.
//! - [`platforms`]: the civic platforms that get pairwise pseudonyms.
//! - [`store`]: durable state behind the [`store::Store`] trait (sled).
//! - [`http`]: the axum router, its guards and the one mapping of errors to answers;
//!   [`cli`]: the `civic-issuer` command.
//!
//! Protocol logic (SD-JWT VC, proofs, status list encoding, did:web) lives in
//! `civic-credential`, service plumbing in `civic-service`, storage plumbing in `civic-storage`.

pub mod account;
pub mod cli;
pub mod config;
pub mod context;
pub mod enrollment;
pub mod fsutil;
pub mod http;
pub mod issuance;
pub mod issuer;
pub mod keys;
pub mod metrics;
pub mod passkeys;
pub mod platforms;
pub mod register;
pub mod secrets;
pub mod sessions;
pub mod status;
pub mod store;
pub mod trust;

pub use issuer::Issuer;
