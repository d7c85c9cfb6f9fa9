//! civic-issuer: a municipal agency's issuer of residency credentials.
//!
//! - [`register`]: importing the resident register from CSV.
//! - [`enrollment`]: one-time enrollment codes for letters and the counter.
//! - [`passkeys`]: passkey enrollment, sign-in and sessions (WebAuthn, webauthn-rs).
//! - [`issuance`]: OID4VCI 1.0 offers, tokens, nonces and batch credential issuance.
//! - [`status`]: Token Status Lists, revocation and suspension.
//! - [`trust`]: did:web document, `jwt-vc-issuer` and OID4VCI metadata.
//! - [`store`]: durable state behind the [`store::Store`] trait (sled).
//! - [`http`]: the axum router; [`cli`]: the `civic-issuer` command.
//!
//! Protocol logic (SD-JWT VC, proofs, status list encoding) lives in `civic-credential`.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod account;
pub mod cli;
pub mod config;
pub mod enrollment;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod issuance;
pub mod keys;
pub mod metrics;
pub mod nonce;

pub mod passkeys;
pub mod platforms;
pub mod qr;
pub mod register;
pub mod secrets;
pub mod service;
pub mod status;
pub mod store;
pub mod trust;

pub use service::Issuer;
